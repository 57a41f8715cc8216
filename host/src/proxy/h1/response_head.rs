//! Parsing a backend's response head, and deciding from it how the body is framed
//! (RFC 9112 §6.3) and whether the connection can carry another request.

pub use crate::http::h1_body::BodyFraming;
use crate::http::h1_head::{content_length, last_coding_is_chunked, ConnectionOptions};
use crate::http::hop_by_hop;
use crate::http::raw_headers::RawHeadersBuilder;
use bytes::{Buf, BytesMut};
use http::{Method, StatusCode, Version};
use std::mem::MaybeUninit;

/// The most headers a response may have (as for requests, see `server/limits.rs`).
const MAX_HEADERS: usize = crate::server::limits::MAX_HEADERS;

#[derive(Debug)]
pub struct ResponseHead {
    pub parts: http::response::Parts,
    pub framing: BodyFraming,
    /// The backend will take another request on this connection after this response.
    pub keep_alive: bool,
}

/// Parses the response head at the start of `buf` and removes it from `buf`. `Ok(None)`
/// means the head is not complete yet. The header lines are kept as
/// [`crate::http::raw_headers::RawHeaders`] in the extensions, not in `parts.headers`.
pub fn parse(buf: &mut BytesMut, method: &Method) -> Result<Option<ResponseHead>, String> {
    // Left uninitialised: zeroing a hundred header slots on every call cost more than
    // parsing a typical head.
    let mut slots = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut []);
    let parsed = httparse::ParserConfig::default().parse_response_with_uninit_headers(&mut response, buf, &mut slots);
    let length = match parsed {
        Ok(httparse::Status::Complete(length)) => length,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(format!("more than {MAX_HEADERS} headers")),
        Err(e) => return Err(e.to_string()),
    };
    let code = response.code.unwrap_or_default();
    let status = StatusCode::from_u16(code).map_err(|_| format!("status code {code}"))?;
    let version = match response.version {
        Some(1) => Version::HTTP_11,
        _ => Version::HTTP_10,
    };
    let lines: &[httparse::Header<'_>] = response.headers;
    // Reuse and framing are read from the raw lines, in one pass that settles most
    // lines by their length alone. The hop-by-hop headers they come from (RFC 9110
    // §7.6.1) describe this connection only, so they never enter the response: the
    // proxy would strip them anyway, and leaving them out costs less than inserting
    // and then removing them.
    let mut connection = ConnectionOptions::default();
    let mut transfer_encoding: Option<&[u8]> = None;
    // `Ok(None)`: no Content-Length line. A bad one only matters if it frames the body.
    let mut declared: Result<Option<u64>, String> = Ok(None);
    for h in lines {
        match h.name.len() {
            10 if h.name.eq_ignore_ascii_case("connection") => connection.read(h.value),
            14 if h.name.eq_ignore_ascii_case("content-length") => {
                declared = declared.and_then(|earlier| {
                    content_length(h.value, earlier)
                        .map(Some)
                        .ok_or_else(|| format!("Content-Length {:?}", String::from_utf8_lossy(h.value)))
                });
            }
            17 if h.name.eq_ignore_ascii_case("transfer-encoding") => transfer_encoding = Some(h.value),
            _ => {}
        }
    }
    // The length the response states, for whoever needs it before the body is read.
    let declared_length = match (transfer_encoding, &declared) {
        (None, Ok(n)) => *n,
        _ => None,
    };
    let mut keep_alive = match version {
        Version::HTTP_11 => !connection.close,
        _ => connection.keep_alive,
    };
    if status == StatusCode::SWITCHING_PROTOCOLS {
        // What follows is no longer HTTP/1.1.
        keep_alive = false;
    }
    let framing = if *method == Method::HEAD
        || status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
    {
        BodyFraming::None
    } else if let Some(codings) = transfer_encoding {
        // Transfer-Encoding wins over Content-Length, which must not be passed on with
        // a body of another length; a message with both is suspect, so the connection
        // is not used again.
        if !matches!(declared, Ok(None)) {
            keep_alive = false;
        }
        if last_coding_is_chunked(codings) {
            BodyFraming::Chunked
        } else {
            keep_alive = false;
            BodyFraming::UntilClose
        }
    } else {
        match declared? {
            Some(n) => BodyFraming::Length(n),
            None => {
                keep_alive = false;
                BodyFraming::UntilClose
            }
        }
    };

    // The lines go on as they came, in one buffer, and become a header map only if
    // someone asks (see `http/raw_headers.rs`). Content-Length is kept as a number: the
    // response writer states the length of the body it sends.
    let mut kept = RawHeadersBuilder::new(&buf[..length]);
    for h in lines {
        let dropped = hop_by_hop::is_hop_by_hop_text(h.name)
            || h.name.eq_ignore_ascii_case("content-length")
            // Names the Connection header lists are hop-by-hop too. It nearly always
            // lists only `keep-alive` or `close`, which needs no check per header.
            || (connection.lists_names && connection_lists(lines, h.name));
        if !dropped {
            kept.push(h);
        }
    }
    let kept = kept.finish(declared_length);
    buf.advance(length);
    let mut parts = http::Response::new(()).into_parts().0;
    parts.status = status;
    parts.version = version;
    parts.extensions.insert(kept);
    Ok(Some(ResponseHead {
        parts,
        framing,
        keep_alive,
    }))
}

/// Whether the Connection lines list `name`, in any case.
fn connection_lists(lines: &[httparse::Header<'_>], name: &str) -> bool {
    lines
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case("connection"))
        .flat_map(|h| hop_by_hop::connection_tokens(h.value))
        .any(|token| token.eq_ignore_ascii_case(name.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str, method: Method) -> Result<Option<ResponseHead>, String> {
        let mut buf = BytesMut::from(text.as_bytes());
        parse(&mut buf, &method)
    }

    /// The headers as a filter would see them.
    fn headers_of(head: ResponseHead) -> http::HeaderMap {
        let mut response = http::Response::from_parts(head.parts, ());
        crate::http::raw_headers::into_map(&mut response);
        response.into_parts().0.headers
    }

    #[test]
    fn a_complete_head_is_taken_off_the_buffer_and_the_body_stays() {
        let mut buf = BytesMut::from(&b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello"[..]);
        let head = parse(&mut buf, &Method::GET).unwrap().unwrap();
        assert_eq!(head.parts.status, StatusCode::OK);
        assert_eq!(head.framing, BodyFraming::Length(5));
        assert!(head.keep_alive);
        assert_eq!(&buf[..], b"hello");
        let headers = headers_of(head);
        assert_eq!(headers["x-a"], "1");
        assert_eq!(headers["content-length"], "5");
    }

    #[test]
    fn a_partial_head_asks_for_more() {
        assert!(parsed("HTTP/1.1 200 OK\r\nContent-Le", Method::GET).unwrap().is_none());
    }

    #[test]
    fn framing_follows_rfc_9112() {
        let framing = |text: &str, method| parsed(text, method).unwrap().unwrap().framing;
        assert_eq!(
            framing("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", Method::HEAD),
            BodyFraming::None
        );
        assert_eq!(
            framing("HTTP/1.1 204 No Content\r\n\r\n", Method::GET),
            BodyFraming::None
        );
        assert_eq!(
            framing("HTTP/1.1 304 Not Modified\r\n\r\n", Method::GET),
            BodyFraming::None
        );
        assert_eq!(
            framing(
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
                Method::GET
            ),
            BodyFraming::Chunked
        );
        assert_eq!(
            framing("HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\n", Method::GET),
            BodyFraming::Length(3)
        );
        let close = parsed("HTTP/1.1 200 OK\r\n\r\n", Method::GET).unwrap().unwrap();
        assert_eq!(close.framing, BodyFraming::UntilClose);
        assert!(!close.keep_alive);
    }

    #[test]
    fn both_framings_drop_the_length_and_the_connection() {
        let head = parsed(
            "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
            Method::GET,
        )
        .unwrap()
        .unwrap();
        assert_eq!(head.framing, BodyFraming::Chunked);
        assert!(!head.keep_alive);
        assert!(!headers_of(head).contains_key(http::header::CONTENT_LENGTH));
    }

    #[test]
    fn connection_close_and_http_1_0_end_reuse() {
        let close = parsed(
            "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
            Method::GET,
        );
        assert!(!close.unwrap().unwrap().keep_alive);
        let old = parsed("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", Method::GET);
        assert!(!old.unwrap().unwrap().keep_alive);
        let old_kept = parsed(
            "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n",
            Method::GET,
        );
        assert!(old_kept.unwrap().unwrap().keep_alive);
    }

    #[test]
    fn hop_by_hop_headers_stay_out_of_the_response() {
        let head = parsed(
            "HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Session\r\nKeep-Alive: timeout=5\r\n\
             X-Session: 1\r\nProxy-Connection: keep-alive\r\nTransfer-Encoding: chunked\r\nX-Kept: yes\r\n\r\n",
            Method::GET,
        )
        .unwrap()
        .unwrap();
        assert_eq!(head.framing, BodyFraming::Chunked);
        assert!(head.keep_alive);
        let raw = head
            .parts
            .extensions
            .get::<crate::http::raw_headers::RawHeaders>()
            .unwrap();
        assert_eq!(raw.lines(), b"X-Kept: yes\r\n");
        let names: Vec<String> = headers_of(head).keys().map(|n| n.to_string()).collect();
        assert_eq!(names, ["x-kept"]);
    }

    #[test]
    fn malformed_heads_are_errors() {
        assert!(parsed("HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n", Method::GET).is_err());
        assert!(parsed("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", Method::GET).is_err());
        assert!(parsed("SMTP ready\r\n\r\n", Method::GET).is_err());
    }
}
