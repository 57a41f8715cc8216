//! Writing a request head in origin form (`GET /path HTTP/1.1`), with the framing
//! headers chosen from the body actually sent rather than copied from the client.

use crate::http::Body;
use http::header::{CONTENT_LENGTH, HOST, TRANSFER_ENCODING};
use http::request::Parts;
use http::Method;

/// Appends the head of a request to `out`. `authority` stands in for a missing Host
/// header (an HTTP/2 client sends `:authority` instead). Returns whether the body is to
/// be sent chunked: a stream whose length the client did not declare.
pub fn encode(parts: &Parts, body: &Body, authority: &str, out: &mut Vec<u8>) -> bool {
    out.extend_from_slice(parts.method.as_str().as_bytes());
    out.push(b' ');
    let target = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
    out.extend_from_slice(if target.is_empty() { b"/" } else { target.as_bytes() });
    out.extend_from_slice(b" HTTP/1.1\r\n");

    if !parts.headers.contains_key(HOST) {
        header(out, b"host", authority.as_bytes());
    }
    for (name, value) in &parts.headers {
        // Framing is stated below from the body being sent: a filter may have
        // replaced the body, and a client's own framing headers are hop-by-hop.
        if name == CONTENT_LENGTH || name == TRANSFER_ENCODING {
            continue;
        }
        header(out, name.as_str().as_bytes(), value.as_bytes());
    }

    let chunked = match body {
        Body::Empty => {
            // A request without a body needs no framing header, but some servers
            // answer a bodiless POST without Content-Length with 411.
            if expects_body(&parts.method) || parts.headers.contains_key(CONTENT_LENGTH) {
                header(out, b"content-length", b"0");
            }
            false
        }
        Body::Full(bytes) => {
            content_length(out, bytes.len() as u64);
            false
        }
        Body::Stream { .. } => match declared_length(parts) {
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

/// The client's Content-Length, which hyper has already checked the body against.
fn declared_length(parts: &Parts) -> Option<u64> {
    parts.headers.get(CONTENT_LENGTH)?.to_str().ok()?.trim().parse().ok()
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
        let chunked = encode(&parts, body, "backend:8080", &mut out);
        (String::from_utf8(out).unwrap(), chunked)
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
