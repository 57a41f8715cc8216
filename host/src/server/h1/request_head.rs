//! Parsing a client's request head, and deciding from it how the body is framed
//! (RFC 9112 §6) and whether the connection may carry another request.

use crate::http::h1_body::BodyFraming;
use crate::http::h1_head::{content_length, last_coding_is_chunked, ConnectionOptions, HeadCopy};
use crate::server::limits::{MAX_HEADERS, MAX_HEAD_BYTES};
use bytes::{Buf, BytesMut};
use http::{Method, StatusCode, Uri, Version};
use std::mem::MaybeUninit;

#[derive(Debug)]
pub struct RequestHead {
    pub parts: http::request::Parts,
    pub framing: BodyFraming,
    /// The client will send another request on this connection after this one.
    pub keep_alive: bool,
    /// The client waits for `100 Continue` before sending the body.
    pub expect_continue: bool,
}

/// A request head the server will not serve: the status to answer with, and why (for
/// the debug log). The connection is closed after the answer.
#[derive(Debug, PartialEq, Eq)]
pub struct Refusal {
    pub status: StatusCode,
    pub why: String,
}

impl Refusal {
    fn bad(why: impl Into<String>) -> Refusal {
        Refusal {
            status: StatusCode::BAD_REQUEST,
            why: why.into(),
        }
    }
}

/// Parses the request head at the start of `buf` and removes it from `buf`. `Ok(None)`
/// means the head is not complete yet (the caller bounds how long it may grow, see
/// [`too_large`]).
pub fn parse(buf: &mut BytesMut) -> Result<Option<RequestHead>, Refusal> {
    // Left uninitialised: zeroing a hundred header slots for every request costs more
    // than parsing a typical head.
    let mut slots = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut []);
    let parsed = httparse::ParserConfig::default().parse_request_with_uninit_headers(&mut request, buf, &mut slots);
    let length = match parsed {
        // A head may arrive whole in one read however large it is.
        Ok(httparse::Status::Complete(length)) => match too_large(&buf[..length]) {
            Some(refusal) => return Err(refusal),
            None => length,
        },
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(Refusal {
                status: StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                why: format!("more than {MAX_HEADERS} headers"),
            })
        }
        Err(e) => return Err(Refusal::bad(format!("malformed request head: {e}"))),
    };
    let method = request.method.unwrap_or_default();
    let method = Method::from_bytes(method.as_bytes()).map_err(|_| Refusal::bad(format!("method {method:?}")))?;
    let version = match request.version {
        Some(1) => Version::HTTP_11,
        _ => Version::HTTP_10,
    };
    let lines: &[httparse::Header<'_>] = request.headers;

    // Framing and reuse come from the raw lines, in one pass that settles most lines by
    // their length alone.
    let (mut connection, mut expect_continue) = (ConnectionOptions::default(), false);
    let (mut transfer_encoding, mut declared): (Option<&[u8]>, Option<u64>) = (None, None);
    for h in lines {
        match h.name.len() {
            6 if h.name.eq_ignore_ascii_case("expect") => {
                expect_continue = h.value.trim_ascii().eq_ignore_ascii_case(b"100-continue");
            }
            10 if h.name.eq_ignore_ascii_case("connection") => connection.read(h.value),
            14 if h.name.eq_ignore_ascii_case("content-length") => {
                declared =
                    Some(content_length(h.value, declared).ok_or_else(|| {
                        Refusal::bad(format!("Content-Length {:?}", String::from_utf8_lossy(h.value)))
                    })?);
            }
            17 if h.name.eq_ignore_ascii_case("transfer-encoding") => transfer_encoding = Some(h.value),
            _ => {}
        }
    }
    let framing = match (transfer_encoding, declared) {
        // The server in front of Weir may have framed the same bytes by the other
        // header: refusing the ambiguity is what stops request smuggling.
        (Some(_), Some(_)) => return Err(Refusal::bad("both Content-Length and Transfer-Encoding")),
        (Some(_), None) if version == Version::HTTP_10 => {
            return Err(Refusal::bad("Transfer-Encoding in an HTTP/1.0 request"))
        }
        // RFC 9112 §6.3: a request whose final coding is not chunked has no knowable
        // length.
        (Some(codings), None) if !last_coding_is_chunked(codings) => {
            return Err(Refusal::bad("a Transfer-Encoding that does not end in chunked"))
        }
        (Some(_), None) => BodyFraming::Chunked,
        (None, Some(0) | None) => BodyFraming::None,
        (None, Some(n)) => BodyFraming::Length(n),
    };
    let keep_alive = match version {
        Version::HTTP_11 => !connection.close,
        _ => connection.keep_alive && !connection.close,
    };

    // The URI and the header values are cut from one copy of the head.
    let head = HeadCopy::new(&buf[..length]);
    let target = request.path.unwrap_or_default();
    let uri = Uri::from_maybe_shared(head.slice(target.as_bytes()))
        .map_err(|e| Refusal::bad(format!("request target {target:?}: {e}")))?;
    let headers = head.headers(lines, |_| false).map_err(Refusal::bad)?;
    buf.advance(length);

    let mut parts = http::Request::new(()).into_parts().0;
    parts.method = method;
    parts.uri = uri;
    parts.version = version;
    parts.headers = headers;
    Ok(Some(RequestHead {
        parts,
        framing,
        keep_alive,
        expect_continue: expect_continue && version == Version::HTTP_11 && framing != BodyFraming::None,
    }))
}

/// What to answer a head (complete, or still arriving) of this many bytes, if that is
/// too many: 414 when the request line alone is over the limit, 431 otherwise.
pub fn too_large(head: &[u8]) -> Option<Refusal> {
    if head.len() <= MAX_HEAD_BYTES {
        return None;
    }
    let line_end = memchr::memchr(b'\n', head).unwrap_or(head.len());
    Some(if line_end > MAX_HEAD_BYTES {
        Refusal {
            status: StatusCode::URI_TOO_LONG,
            why: format!("a request line longer than {MAX_HEAD_BYTES} bytes"),
        }
    } else {
        Refusal {
            status: StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            why: format!("a request head larger than {MAX_HEAD_BYTES} bytes"),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Result<Option<RequestHead>, Refusal> {
        parse(&mut BytesMut::from(text.as_bytes()))
    }

    fn refused(text: &str) -> StatusCode {
        parsed(text).unwrap_err().status
    }

    #[test]
    fn a_complete_head_is_taken_off_the_buffer_and_what_follows_stays() {
        let mut buf = BytesMut::from(
            &b"POST /a?b=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nX-A: 1\r\nX-A: 2\r\n\r\nabcGET"[..],
        );
        let head = parse(&mut buf).unwrap().unwrap();
        assert_eq!(head.parts.method, Method::POST);
        assert_eq!(head.parts.uri.path(), "/a");
        assert_eq!(head.parts.uri.query(), Some("b=1"));
        let values: Vec<_> = head.parts.headers.get_all("x-a").iter().collect();
        assert_eq!(values, ["1", "2"]);
        assert_eq!(head.framing, BodyFraming::Length(3));
        assert!(head.keep_alive);
        assert_eq!(&buf[..], b"abcGET");
    }

    #[test]
    fn a_partial_head_asks_for_more() {
        assert!(parsed("GET / HTTP/1.1\r\nHost: x\r\n").unwrap().is_none());
    }

    #[test]
    fn framing_follows_rfc_9112() {
        let framing = |text: &str| parsed(text).unwrap().unwrap().framing;
        assert_eq!(framing("GET / HTTP/1.1\r\n\r\n"), BodyFraming::None);
        assert_eq!(
            framing("POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n"),
            BodyFraming::None
        );
        assert_eq!(
            framing("POST / HTTP/1.1\r\nContent-Length: 7, 7\r\n\r\n"),
            BodyFraming::Length(7)
        );
        assert_eq!(
            framing("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
            BodyFraming::Chunked
        );
    }

    #[test]
    fn ambiguous_or_unknowable_framing_is_refused() {
        let both = "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert_eq!(
            parsed(both).unwrap_err().why,
            "both Content-Length and Transfer-Encoding"
        );
        assert_eq!(
            refused("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            refused("POST / HTTP/1.1\r\nContent-Length: 1, 2\r\n\r\n"),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            refused("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            refused("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            refused("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"),
            StatusCode::BAD_REQUEST
        );
    }

    #[test]
    fn reuse_follows_the_version_and_the_connection_header() {
        let keep = |text: &str| parsed(text).unwrap().unwrap().keep_alive;
        assert!(keep("GET / HTTP/1.1\r\n\r\n"));
        assert!(!keep("GET / HTTP/1.1\r\nConnection: close\r\n\r\n"));
        assert!(!keep("GET / HTTP/1.0\r\n\r\n"));
        assert!(keep("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"));
    }

    #[test]
    fn expect_continue_only_matters_with_a_body() {
        let expects = |text: &str| parsed(text).unwrap().unwrap().expect_continue;
        assert!(expects(
            "PUT / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"
        ));
        assert!(!expects("GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n"));
    }

    #[test]
    fn malformed_heads_and_oversized_ones_are_refused() {
        assert_eq!(
            refused("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n"),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(refused("GET / SMTP/1.0\r\n\r\n"), StatusCode::BAD_REQUEST);
        let many: String = (0..=MAX_HEADERS).map(|i| format!("X-{i}: v\r\n")).collect();
        assert_eq!(
            refused(&format!("GET / HTTP/1.1\r\n{many}\r\n")),
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
        );
        let long_line = format!("GET /{} HTTP/1.1", "a".repeat(MAX_HEAD_BYTES));
        assert_eq!(
            too_large(long_line.as_bytes()).unwrap().status,
            StatusCode::URI_TOO_LONG
        );
        let long_head = format!("GET / HTTP/1.1\r\nX-Big: {}", "a".repeat(MAX_HEAD_BYTES));
        assert_eq!(
            too_large(long_head.as_bytes()).unwrap().status,
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
        );
        assert!(too_large(b"GET / HTTP/1.1\r\n").is_none());
        let whole = format!("GET / HTTP/1.1\r\nX-Big: {}\r\n\r\n", "a".repeat(MAX_HEAD_BYTES));
        assert_eq!(refused(&whole), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    }
}
