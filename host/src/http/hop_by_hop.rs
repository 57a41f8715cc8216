//! Hop-by-hop headers (RFC 9110 §7.6.1) describe one connection, so a proxy must not
//! pass them on, in either direction.

use http::header::{self, HeaderMap, HeaderName};

/// How many names [`ALWAYS`] holds.
const STANDARD: usize = 8;

/// Where `Connection` is in [`ALWAYS`].
const CONNECTION_AT: usize = 0;

/// A `static`, not a `const`: each use of a `const` array builds and drops a copy.
static ALWAYS: [HeaderName; STANDARD] = [
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
    // Runs twice per proxied request. Most messages carry none of these headers but
    // `Connection`, and one pass over the names present costs far less than a hashed
    // lookup for each of the nine names that are absent.
    let mut present = [false; STANDARD + 1];
    let mut any = false;
    for name in headers.keys() {
        if let Some(i) = hop_by_hop_index(name) {
            present[i] = true;
            any = true;
        }
    }
    if !any {
        return;
    }
    // Names listed in Connection are hop-by-hop too.
    if present[CONNECTION_AT] {
        for name in listed_in_connection(headers) {
            headers.remove(name.as_str());
        }
    }
    for (name, _) in ALWAYS.iter().zip(present).filter(|(_, here)| *here) {
        headers.remove(name);
    }
    if present[STANDARD] {
        headers.remove(PROXY_CONNECTION);
    }
}

const PROXY_CONNECTION: &str = "proxy-connection";

/// Where `name` is in [`ALWAYS`], or `STANDARD` for `Proxy-Connection`.
fn hop_by_hop_index(name: &HeaderName) -> Option<usize> {
    let name = name.as_str();
    // Most headers a message carries (host, accept, content-type, date, ...) have a
    // length no hop-by-hop name has, which settles them without a comparison.
    if !matches!(name.len(), 2 | 7 | 10 | 16 | 17 | 18 | 19) {
        return None;
    }
    ALWAYS
        .iter()
        .position(|h| h.as_str() == name)
        .or_else(|| (name == PROXY_CONNECTION).then_some(STANDARD))
}

/// True when `name` is one of the standard hop-by-hop headers or `Proxy-Connection`.
pub fn is_hop_by_hop(name: &HeaderName) -> bool {
    hop_by_hop_index(name).is_some()
}

/// The tokens one Connection value lists (`close`, `keep-alive`, header names), as
/// written: trimmed, empty ones skipped.
pub fn connection_tokens(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(<[u8]>::trim_ascii)
        .filter(|token| !token.is_empty())
}

/// Whether a Connection token is one of the options rather than a header name.
fn is_connection_option(token: &[u8]) -> bool {
    token.eq_ignore_ascii_case(b"close") || token.eq_ignore_ascii_case(b"keep-alive")
}

/// The names other than `close` and `keep-alive` that the Connection headers list
/// (hop-by-hop too), lower-cased; usually none, and then nothing is allocated.
pub fn listed_in_connection(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(header::CONNECTION)
        .iter()
        .flat_map(|value| connection_tokens(value.as_bytes()))
        .filter(|token| !is_connection_option(token))
        .map(|token| String::from_utf8_lossy(token).to_ascii_lowercase())
        .collect()
}

/// True when a header name as it arrived on the wire, in any case, is one of the
/// standard hop-by-hop headers or `Proxy-Connection`. Checked before a `HeaderName` is
/// built, so that headers which are dropped cost nothing more.
pub fn is_hop_by_hop_text(name: &str) -> bool {
    matches!(name.len(), 2 | 7 | 10 | 16 | 17 | 18 | 19)
        && (ALWAYS.iter().any(|h| h.as_str().eq_ignore_ascii_case(name)) || name.eq_ignore_ascii_case(PROXY_CONNECTION))
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
        h.insert("proxy-connection", "keep-alive".parse().unwrap());
        strip(&mut h);
        assert_eq!(h.len(), 1);
        assert!(h.contains_key("x-kept"));
    }

    #[test]
    fn headers_without_hop_by_hop_ones_are_left_alone() {
        let mut h = HeaderMap::new();
        h.insert("host", "example.com".parse().unwrap());
        h.append("x-many", "1".parse().unwrap());
        h.append("x-many", "2".parse().unwrap());
        strip(&mut h);
        assert_eq!(h.len(), 3);
    }

    #[test]
    fn a_listed_name_goes_even_when_only_connection_is_standard() {
        let mut h = HeaderMap::new();
        h.insert("connection", "x-session".parse().unwrap());
        h.insert("x-session", "1".parse().unwrap());
        h.insert("proxy-connection", "keep-alive".parse().unwrap());
        strip(&mut h);
        assert!(h.is_empty());
    }

    #[test]
    fn every_hop_by_hop_name_passes_the_length_test() {
        for (i, name) in ALWAYS.iter().enumerate() {
            assert_eq!(hop_by_hop_index(name), Some(i), "{name}");
        }
        let proxy_connection = HeaderName::from_static(PROXY_CONNECTION);
        assert_eq!(hop_by_hop_index(&proxy_connection), Some(STANDARD));
        assert_eq!(hop_by_hop_index(&header::USER_AGENT), None);
    }

    #[test]
    fn names_as_received_are_recognised_in_any_case() {
        for name in [
            "Connection",
            "KEEP-ALIVE",
            "te",
            "Transfer-Encoding",
            "Proxy-Connection",
            "upgrade",
        ] {
            assert!(is_hop_by_hop_text(name), "{name}");
        }
        for name in ["Content-Length", "Host", "x-te", "Trailers"] {
            assert!(!is_hop_by_hop_text(name), "{name}");
        }
    }
}
