//! Writing a request head in origin form (`GET /path HTTP/1.1`) from an
//! [`UpstreamHead`], with the framing headers chosen from the body actually sent rather
//! than copied from the client.

use crate::http::{hop_by_hop, Body};
use crate::proxy::upstream::UpstreamHead;
use http::header::{CONNECTION, CONTENT_LENGTH, HOST, TRANSFER_ENCODING};
use http::{HeaderMap, Method};

/// Appends the head of a request to `out`. Returns whether the body is to be sent
/// chunked: a stream whose length the client did not declare.
pub fn encode(head: &UpstreamHead<'_>, body: &Body, out: &mut Vec<u8>) -> bool {
    let headers = head.headers;
    out.extend_from_slice(head.method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(head.path_prefix.as_bytes());
    let target = head.path_and_query;
    out.extend_from_slice(if target.is_empty() { b"/" } else { target.as_bytes() });
    out.extend_from_slice(b" HTTP/1.1\r\n");

    if head.replace_host || !headers.contains_key(HOST) {
        header(out, b"host", head.host.as_bytes());
    }
    // Names the client's Connection header lists are hop-by-hop for this hop only.
    let listed = if head.strip_hop_by_hop && headers.contains_key(CONNECTION) {
        hop_by_hop::listed_in_connection(headers)
    } else {
        Vec::new()
    };
    for (name, value) in headers {
        // Framing is stated below from the body being sent: a filter may have
        // replaced the body, and a client's own framing headers are hop-by-hop.
        if name == CONTENT_LENGTH || name == TRANSFER_ENCODING || (head.replace_host && name == HOST) {
            continue;
        }
        if head.strip_hop_by_hop
            && (hop_by_hop::is_hop_by_hop(name) || listed.iter().any(|l| l.as_str() == name.as_str()))
        {
            continue;
        }
        header(out, name.as_str().as_bytes(), value.as_bytes());
    }

    let chunked = match body {
        Body::Empty => {
            // A request without a body needs no framing header, but some servers
            // answer a bodiless POST without Content-Length with 411.
            if expects_body(head.method) || headers.contains_key(CONTENT_LENGTH) {
                header(out, b"content-length", b"0");
            }
            false
        }
        Body::Full(bytes) => {
            content_length(out, bytes.len() as u64);
            false
        }
        Body::Stream { .. } => match declared_length(headers) {
            Some(length) => {
                content_length(out, length);
                false
            }
            None => {
                header(out, b"transfer-encoding", b"chunked");
                true
            }
        },
    };
    out.extend_from_slice(b"\r\n");
    chunked
}

fn header(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

fn expects_body(method: &Method) -> bool {
    *method == Method::POST || *method == Method::PUT || *method == Method::PATCH
}

/// The client's Content-Length, which the server has already checked the body against.
fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(CONTENT_LENGTH)?.to_str().ok()?.trim().parse().ok()
}

fn content_length(out: &mut Vec<u8>, length: u64) {
    use std::io::Write as _;
    // Writing into a Vec cannot fail.
    let _ = write!(out, "content-length: {length}\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn head(request: http::Request<()>, body: &Body) -> (String, bool) {
        let (parts, ()) = request.into_parts();
        let mut out = Vec::new();
        let chunked = encode(&UpstreamHead::of_prepared(&parts).unwrap(), body, &mut out);
        (String::from_utf8(out).unwrap(), chunked)
    }

    /// The head a client's request becomes on its way to `server_url`.
    fn forwarded(server_url: &str, request: http::Request<()>) -> String {
        let server = crate::proxy::upstream::Server::parse(server_url, false).unwrap();
        let request = request.map(|()| Body::Empty);
        let mut out = Vec::new();
        encode(&server.upstream_head(&request, false), &Body::Empty, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_clients_request_loses_its_hop_by_hop_headers_on_the_way() {
        let request = http::Request::get("/a?b=1")
            .header("host", "example.com")
            .header("connection", "keep-alive, X-Session")
            .header("keep-alive", "timeout=5")
            .header("x-session", "1")
            .header("proxy-connection", "keep-alive")
            .header("te", "trailers")
            .header("x-kept", "yes")
            .body(())
            .unwrap();
        // A named server gets its own name as Host, and its path goes first.
        assert_eq!(
            forwarded("http://backend.local:9000/base/", request),
            "GET /base/a?b=1 HTTP/1.1\r\nhost: backend.local:9000\r\nx-kept: yes\r\n\r\n"
        );
    }

    #[test]
    fn a_server_given_by_address_gets_the_clients_host() {
        let with_host = http::Request::get("/").header("host", "example.com").body(()).unwrap();
        assert_eq!(
            forwarded("http://127.0.0.1:9000", with_host),
            "GET / HTTP/1.1\r\nhost: example.com\r\n\r\n"
        );
        // An HTTP/2 client names the host in the URI instead.
        let h2 = http::Request::get("https://example.org/x").body(()).unwrap();
        assert_eq!(
            forwarded("http://127.0.0.1:9000", h2),
            "GET /x HTTP/1.1\r\nhost: example.org\r\n\r\n"
        );
        let neither = http::Request::get("/").body(()).unwrap();
        assert_eq!(
            forwarded("http://127.0.0.1:9000", neither),
            "GET / HTTP/1.1\r\nhost: 127.0.0.1:9000\r\n\r\n"
        );
    }

    #[test]
    fn origin_form_with_the_body_length_stated_by_the_proxy() {
        let request = http::Request::post("http://backend:8080/a/b?c=1")
            .header("host", "example.com")
            .header("content-length", "999")
            .header("x-trace", "t1")
            .body(())
            .unwrap();
        let (text, chunked) = head(request, &Body::Full(Bytes::from_static(b"hello")));
        assert_eq!(
            text,
            "POST /a/b?c=1 HTTP/1.1\r\nhost: example.com\r\nx-trace: t1\r\ncontent-length: 5\r\n\r\n"
        );
        assert!(!chunked);
    }

    #[test]
    fn a_missing_host_is_the_backend_authority_and_get_gets_no_length() {
        let request = http::Request::get("http://backend:8080/").body(()).unwrap();
        let (text, _) = head(request, &Body::Empty);
        assert_eq!(text, "GET / HTTP/1.1\r\nhost: backend:8080\r\n\r\n");
    }

    #[test]
    fn an_empty_post_states_a_zero_length() {
        let request = http::Request::post("http://backend:8080/x").body(()).unwrap();
        let (text, _) = head(request, &Body::Empty);
        assert!(text.ends_with("content-length: 0\r\n\r\n"), "{text}");
    }
}
