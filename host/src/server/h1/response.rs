//! Writing a response to an HTTP/1.1 client: the head, with the framing its body needs
//! (RFC 9112 §6), then the body. A small body that is ready at once goes out in the
//! same write as the head.

use crate::http::h1_body::{append_piece, write_body, write_piece, BodyFraming, WriteError, COPY_PIECE, LAST_CHUNK};
use crate::http::h1_head::ConnectionOptions;
use crate::http::raw_headers::{declared_length, RawHeaders};
use crate::http::BodyError;
use bytes::Bytes;
use http::header::{CONNECTION, CONTENT_LENGTH, DATE, TRANSFER_ENCODING};
use http::{StatusCode, Version};
use std::cell::RefCell;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::Poll;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncWrite, AsyncWriteExt};

/// The head buffer is kept for the connection's next response up to this capacity.
const KEEP_BUFFER: usize = 8 * 1024;

/// What the response is answering.
pub struct Answering {
    pub version: Version,
    pub head_request: bool,
    /// The connection may carry another request after this response, as far as the
    /// request and the server are concerned.
    pub keep_alive: bool,
}

/// Writes `response` and returns whether the connection can carry another request.
/// `out` is the connection's reusable head buffer.
pub async fn write<W, B>(
    writer: &mut W,
    out: &mut Vec<u8>,
    response: http::Response<B>,
    answering: &Answering,
) -> io::Result<bool>
where
    W: AsyncWrite + Unpin,
    B: http_body::Body<Data = Bytes, Error = BodyError> + Unpin,
{
    let (parts, mut body) = response.into_parts();
    // A proxied response whose headers nobody read still has them as the backend's
    // lines (see `http/raw_headers.rs`); they are written as they are.
    let raw = parts.extensions.get::<RawHeaders>();
    let mut keep_alive = answering.keep_alive;
    let status = parts.status;
    let bodiless = answering.head_request
        || status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED;
    let framing = if bodiless {
        BodyFraming::None
    } else if let Some(n) = body.size_hint().exact() {
        BodyFraming::Length(n)
    } else if let Some(n) = declared_length(&parts.headers, &parts.extensions) {
        BodyFraming::Length(n)
    } else if answering.version == Version::HTTP_11 {
        BodyFraming::Chunked
    } else {
        // An HTTP/1.0 client knows no chunks: the end of the connection ends the body.
        keep_alive = false;
        BodyFraming::UntilClose
    };

    out.clear();
    let head = Head {
        status,
        headers: &parts.headers,
        raw,
    };
    keep_alive = encode_head(out, &head, framing, answering.version, keep_alive);
    let chunked = framing == BodyFraming::Chunked;
    let mut sent = 0u64;
    if framing != BodyFraming::None {
        // The first piece, if it is ready now: a small one joins the head's write.
        let first = poll_fn(|cx| Poll::Ready(Pin::new(&mut body).poll_frame(cx))).await;
        match first {
            Poll::Ready(Some(Ok(frame))) => {
                if let Ok(data) = frame.into_data() {
                    sent = data.len() as u64;
                    if data.len() <= COPY_PIECE {
                        append_piece(out, &data, chunked);
                    } else {
                        writer.write_all(out).await?;
                        write_piece(writer, &data, chunked, out).await?;
                        out.clear();
                    }
                }
            }
            Poll::Ready(Some(Err(e))) => return Ok(body_failed(&e)),
            Poll::Ready(None) | Poll::Pending => {}
        }
    }
    let ended = framing == BodyFraming::None || body.is_end_stream();
    if ended && chunked {
        out.extend_from_slice(LAST_CHUNK);
    }
    writer.write_all(out).await?;
    if out.capacity() > KEEP_BUFFER {
        *out = Vec::new();
    }
    if !ended {
        match write_body(writer, &mut body, chunked).await {
            Ok(rest) => sent += rest,
            Err(WriteError::Io(e)) => return Err(e),
            Err(WriteError::Body(e)) => return Ok(body_failed(&e)),
        }
    }
    writer.flush().await?;
    if let BodyFraming::Length(n) = framing {
        if sent != n {
            // The client cannot tell where this response ends: only closing helps.
            tracing::debug!(
                declared = n,
                sent,
                "response body length differs from its Content-Length"
            );
            return Ok(false);
        }
    }
    Ok(keep_alive && framing != BodyFraming::UntilClose)
}

/// A body that failed part way has left the client with a cut-off response; the
/// connection must end so that it notices.
fn body_failed(error: &BodyError) -> bool {
    tracing::debug!(%error, "response body failed while being sent");
    false
}

/// What a response head is written from.
struct Head<'a> {
    status: StatusCode,
    headers: &'a http::HeaderMap,
    /// Lines kept as a backend sent them, written before `headers`.
    raw: Option<&'a RawHeaders>,
}

/// The status line and headers. Framing and connection headers are Weir's to write:
/// whatever the pipeline left of them is replaced, though a `Connection: close` it set
/// is kept. Returns whether the connection stays open.
fn encode_head(
    out: &mut Vec<u8>,
    head: &Head<'_>,
    framing: BodyFraming,
    version: Version,
    mut keep_alive: bool,
) -> bool {
    let Head { status, headers, raw } = *head;
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(status.canonical_reason().unwrap_or("").as_bytes());
    out.extend_from_slice(b"\r\n");
    let mut has_date = false;
    // A bodiless response (HEAD, 304) keeps the length it would have had.
    let mut has_length = false;
    if let Some(raw) = raw {
        // Hop-by-hop and framing lines were left out when they were kept.
        out.extend_from_slice(raw.lines());
        has_date = raw.has_date();
    }
    for (name, value) in headers {
        if name == CONNECTION {
            let mut options = ConnectionOptions::default();
            options.read(value.as_bytes());
            keep_alive &= !options.close;
            continue;
        }
        if name == TRANSFER_ENCODING {
            continue;
        }
        if name == CONTENT_LENGTH {
            if framing != BodyFraming::None {
                continue;
            }
            has_length = true;
        }
        has_date |= name == DATE;
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    let stated_length = match framing {
        BodyFraming::Length(n) => Some(n),
        // Kept lines carry their length as a number, not as a line.
        BodyFraming::None if !has_length => raw.and_then(RawHeaders::content_length),
        _ => None,
    };
    if let Some(n) = stated_length {
        out.extend_from_slice(b"content-length: ");
        append_decimal(out, n);
        out.extend_from_slice(b"\r\n");
    }
    if framing == BodyFraming::Chunked {
        out.extend_from_slice(b"transfer-encoding: chunked\r\n");
    }
    if !has_date {
        out.extend_from_slice(b"date: ");
        append_date(out);
        out.extend_from_slice(b"\r\n");
    }
    if !keep_alive {
        out.extend_from_slice(b"connection: close\r\n");
    } else if version == Version::HTTP_10 {
        out.extend_from_slice(b"connection: keep-alive\r\n");
    }
    out.extend_from_slice(b"\r\n");
    keep_alive
}

/// `n` in decimal, without the formatting machinery (this runs for every response).
fn append_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// The current time as an HTTP date, formatted once a second per thread.
fn append_date(out: &mut Vec<u8>) {
    thread_local! {
        static CACHED: RefCell<(u64, String)> = const { RefCell::new((0, String::new())) };
    }
    let now = SystemTime::now();
    let second = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    CACHED.with_borrow_mut(|(cached_second, text)| {
        if *cached_second != second || text.is_empty() {
            *cached_second = second;
            *text = httpdate::fmt_http_date(now);
        }
        out.extend_from_slice(text.as_bytes());
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Body;

    async fn written(response: http::Response<Body>, version: Version, head_request: bool) -> (String, bool) {
        let mut wire = Vec::new();
        let answering = Answering {
            version,
            head_request,
            keep_alive: true,
        };
        let kept = write(&mut wire, &mut Vec::new(), response, &answering).await.unwrap();
        let text = String::from_utf8(wire).unwrap();
        // The date changes; everything else is exact.
        let text = text
            .lines()
            .filter(|line| !line.starts_with("date: "))
            .collect::<Vec<_>>()
            .join("\n");
        (text, kept)
    }

    #[tokio::test]
    async fn a_body_in_memory_goes_out_with_its_length_in_one_write() {
        let response = http::Response::builder()
            .status(201)
            .header("x-a", "1")
            .header("content-length", "99")
            .header("connection", "keep-alive")
            .body(Body::from("hello"))
            .unwrap();
        let (text, kept) = written(response, Version::HTTP_11, false).await;
        assert_eq!(text, "HTTP/1.1 201 Created\nx-a: 1\ncontent-length: 5\n\nhello");
        assert!(kept);
    }

    #[test]
    fn decimals_are_written_whole() {
        for n in [0, 7, 10, 612, u64::MAX] {
            let mut out = Vec::new();
            append_decimal(&mut out, n);
            assert_eq!(out, n.to_string().as_bytes());
        }
    }

    #[tokio::test]
    async fn a_head_response_keeps_the_length_and_sends_no_body() {
        let response = http::Response::builder()
            .header("content-length", "612")
            .body(Body::Empty)
            .unwrap();
        let (text, _) = written(response, Version::HTTP_11, true).await;
        assert_eq!(text, "HTTP/1.1 200 OK\ncontent-length: 612\n");
    }

    #[tokio::test]
    async fn connection_close_from_the_pipeline_ends_the_connection() {
        let response = http::Response::builder()
            .status(400)
            .header("connection", "close")
            .body(Body::Empty)
            .unwrap();
        let (text, kept) = written(response, Version::HTTP_11, false).await;
        assert_eq!(text, "HTTP/1.1 400 Bad Request\ncontent-length: 0\nconnection: close\n");
        assert!(!kept);
    }

    #[tokio::test]
    async fn an_http_1_0_client_gets_keep_alive_said_out_loud() {
        let (text, kept) = written(http::Response::new(Body::from("x")), Version::HTTP_10, false).await;
        assert_eq!(text, "HTTP/1.1 200 OK\ncontent-length: 1\nconnection: keep-alive\n\nx");
        assert!(kept);
    }
}
