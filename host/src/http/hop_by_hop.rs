//! Hop-by-hop headers (RFC 9110 §7.6.1) describe one connection, so a proxy must not
//! pass them on, in either direction.

use http::header::{self, HeaderMap, HeaderName};

const ALWAYS: [HeaderName; 8] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

/// Removes the standard hop-by-hop headers, `Proxy-Connection`, and any header the
/// `Connection` header names.
pub fn strip(headers: &mut HeaderMap) {
    // Names listed in Connection are hop-by-hop too; collect them before removing it.
    let listed: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in listed {
        headers.remove(name);
    }
    for name in &ALWAYS {
        headers.remove(name);
    }
    headers.remove("proxy-connection");
}

/// True when `name` is one of the standard hop-by-hop headers.
pub fn is_hop_by_hop(name: &HeaderName) -> bool {
    ALWAYS.contains(name) || name.as_str() == "proxy-connection"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_listed_and_standard_headers() {
        let mut h = HeaderMap::new();
        h.insert("connection", "close, x-secret".parse().unwrap());
        h.insert("x-secret", "1".parse().unwrap());
        h.insert("keep-alive", "timeout=5".parse().unwrap());
        h.insert("transfer-encoding", "chunked".parse().unwrap());
        h.insert("x-kept", "1".parse().unwrap());
        strip(&mut h);
        assert_eq!(h.len(), 1);
        assert!(h.contains_key("x-kept"));
    }
}
