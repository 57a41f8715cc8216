//! Refusing HTTP/1 requests that carry both `Content-Length` and `Transfer-Encoding`.
//!
//! hyper frames such a request by `Transfer-Encoding` and silently drops the
//! `Content-Length` (RFC 9112 §6.3 allows that), so the request would still be forwarded.
//! A proxy should refuse the ambiguity instead: the server in front of it may have framed
//! the same bytes by `Content-Length`, which is how request smuggling works. hyper does
//! not tell its service that both headers were present, so [`Watched`] reads along with
//! hyper: it follows the framing of each message to find every request head, and records
//! which request (by its order on the connection) was ambiguous. HTTP/1 dispatches
//! requests in order, so the handler can ask about "the next request" and get the answer
//! for exactly the one it is handling.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Shared between the byte watcher and the request handler of one connection.
#[derive(Debug, Default)]
pub struct FramingWatch {
    /// Index + 1 of the first ambiguous request; 0 when none was seen.
    ambiguous: AtomicU64,
    /// How many requests the handler has asked about.
    handled: AtomicU64,
}

impl FramingWatch {
    /// Called once per request, in order: was this request's head ambiguous?
    pub fn next_request_is_ambiguous(&self) -> bool {
        let index = self.handled.fetch_add(1, Ordering::Relaxed);
        self.ambiguous.load(Ordering::Acquire) == index + 1
    }
}

/// An IO stream that watches the request bytes passing through it.
pub struct Watched<IO> {
    inner: IO,
    scanner: Scanner,
    watch: Arc<FramingWatch>,
}

impl<IO> Watched<IO> {
    pub fn new(inner: IO, watch: Arc<FramingWatch>) -> Self {
        Watched {
            inner,
            scanner: Scanner::default(),
            watch,
        }
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Watched<IO> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        if let Some(index) = this.scanner.feed(&buf.filled()[before..]) {
            this.watch.ambiguous.store(index + 1, Ordering::Release);
        }
        Poll::Ready(Ok(()))
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Watched<IO> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// Heads larger than this are refused by hyper anyway (see `limits.rs`).
const MAX_HEAD: usize = super::limits::MAX_HEAD_BYTES + 1024;

#[derive(Debug)]
enum State {
    /// Collecting a request head (in `Scanner::head`) until the blank line.
    Head,
    /// Skipping a body of known length.
    Body(u64),
    Chunked(Chunk),
    /// Nothing more to learn: HTTP/2, an ambiguous or malformed message (hyper closes the
    /// connection), or an oversized head.
    Stopped,
}

#[derive(Debug, Clone, Copy)]
enum Chunk {
    Size {
        size: u64,
        in_extension: bool,
    },
    Data(u64),
    DataEnd,
    /// Trailer section; `empty_line` is true while the current line has no content.
    Trailer {
        empty_line: bool,
    },
}

#[derive(Debug)]
struct Scanner {
    state: State,
    /// The head read so far; kept between requests so that its allocation is reused.
    head: Vec<u8>,
    /// Index of the request whose head is being read.
    request: u64,
}

impl Default for Scanner {
    fn default() -> Self {
        Scanner {
            state: State::Head,
            head: Vec::new(),
            request: 0,
        }
    }
}

impl Scanner {
    /// Looks for the end of the head being read in `bytes`: its framing and how many of
    /// `bytes` it took, or `None` when the head goes on in a later read. A head that
    /// arrives whole in one read (the usual case) is examined in place; only one split
    /// across reads is copied.
    fn head_ends(&mut self, bytes: &[u8]) -> Option<(Framing, usize)> {
        if self.head.is_empty() {
            if let Some(end) = head_end(bytes) {
                return Some((framing_of(&bytes[..end]), end));
            }
        }
        let searched_from = self.head.len().saturating_sub(3);
        self.head.extend_from_slice(bytes);
        let Some(end) = head_end(&self.head[searched_from..]).map(|i| searched_from + i) else {
            if self.head.len() > MAX_HEAD {
                self.state = State::Stopped;
            }
            return None;
        };
        let consumed = bytes.len() - (self.head.len() - end);
        let framing = framing_of(&self.head[..end]);
        self.head.clear();
        Some((framing, consumed))
    }

    /// Follows `bytes`; returns the index of a request found ambiguous.
    fn feed(&mut self, mut bytes: &[u8]) -> Option<u64> {
        while !bytes.is_empty() {
            match &mut self.state {
                State::Stopped => return None,
                State::Head => {
                    let (framing, consumed) = self.head_ends(bytes)?;
                    // Bytes past the head belong to the body or the next request.
                    bytes = &bytes[consumed..];
                    let index = self.request;
                    self.request += 1;
                    self.state = match framing {
                        Framing::Ambiguous => {
                            self.state = State::Stopped;
                            return Some(index);
                        }
                        Framing::Length(0) => State::Head,
                        Framing::Length(n) => State::Body(n),
                        Framing::Chunked => State::Chunked(Chunk::Size {
                            size: 0,
                            in_extension: false,
                        }),
                        Framing::Unknown => State::Stopped,
                    };
                }
                State::Body(remaining) => {
                    let skip = (*remaining).min(bytes.len() as u64);
                    *remaining -= skip;
                    bytes = &bytes[skip as usize..];
                    if *remaining == 0 {
                        self.state = State::Head;
                    }
                }
                State::Chunked(chunk) => {
                    let (used, next) = step_chunk(*chunk, bytes);
                    bytes = &bytes[used..];
                    self.state = next;
                }
            }
        }
        None
    }
}

/// Advances chunked framing by at least one byte; returns bytes used and the next state.
fn step_chunk(chunk: Chunk, bytes: &[u8]) -> (usize, State) {
    match chunk {
        Chunk::Data(remaining) => {
            let skip = remaining.min(bytes.len() as u64);
            let left = remaining - skip;
            (
                skip as usize,
                State::Chunked(if left == 0 { Chunk::DataEnd } else { Chunk::Data(left) }),
            )
        }
        Chunk::DataEnd => match bytes[0] {
            b'\r' => (1, State::Chunked(Chunk::DataEnd)),
            b'\n' => (
                1,
                State::Chunked(Chunk::Size {
                    size: 0,
                    in_extension: false,
                }),
            ),
            _ => (1, State::Stopped),
        },
        Chunk::Size { size, in_extension } => {
            let b = bytes[0];
            let next = match b {
                b'\n' if size == 0 => Chunk::Trailer { empty_line: true },
                b'\n' => Chunk::Data(size),
                b'\r' => Chunk::Size { size, in_extension },
                _ if in_extension => Chunk::Size { size, in_extension },
                b';' | b' ' | b'\t' => Chunk::Size {
                    size,
                    in_extension: true,
                },
                _ => match (b as char).to_digit(16) {
                    Some(d) if size < (1 << 56) => Chunk::Size {
                        size: size * 16 + d as u64,
                        in_extension,
                    },
                    _ => return (1, State::Stopped),
                },
            };
            (1, State::Chunked(next))
        }
        Chunk::Trailer { empty_line } => match bytes[0] {
            b'\n' if empty_line => (1, State::Head),
            b'\n' => (1, State::Chunked(Chunk::Trailer { empty_line: true })),
            b'\r' => (1, State::Chunked(Chunk::Trailer { empty_line })),
            _ => (1, State::Chunked(Chunk::Trailer { empty_line: false })),
        },
    }
}

enum Framing {
    Length(u64),
    Chunked,
    Ambiguous,
    /// HTTP/2 preface, or framing hyper will refuse; stop watching.
    Unknown,
}

fn framing_of(head: &[u8]) -> Framing {
    if head.starts_with(b"PRI * HTTP/2.0") {
        return Framing::Unknown;
    }
    let (mut length, mut chunked, mut has_te) = (None, false, false);
    for line in header_lines(head) {
        // Only Content-Length and Transfer-Encoding matter: every other line is passed
        // over on its first byte.
        if !matches!(line.first(), Some(b'c' | b'C' | b't' | b'T')) {
            continue;
        }
        let Some(colon) = memchr::memchr(b':', line) else {
            continue;
        };
        let (name, value) = (&line[..colon], trim(&line[colon + 1..]));
        if name.eq_ignore_ascii_case(b"content-length") {
            length = std::str::from_utf8(value)
                .ok()
                .and_then(|v| v.parse::<u64>().ok())
                .or(Some(u64::MAX));
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            has_te = true;
            let last = value.rsplit(|&b| b == b',').next().map(trim).unwrap_or_default();
            chunked = last.eq_ignore_ascii_case(b"chunked");
        }
    }
    match (has_te, length) {
        (true, Some(_)) => Framing::Ambiguous,
        (true, None) if chunked => Framing::Chunked,
        (true, None) => Framing::Unknown,
        (false, Some(u64::MAX)) => Framing::Unknown,
        (false, Some(n)) => Framing::Length(n),
        (false, None) => Framing::Length(0),
    }
}

fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &bytes[start..end]
}

/// The lines of a head after its request line, found with a vectorised search.
fn header_lines(head: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut ends = memchr::memchr_iter(b'\n', head);
    let mut start = ends.next().map_or(head.len(), |i| i + 1);
    ends.chain(std::iter::once(head.len())).map(move |end| {
        let line = &head[start..end];
        start = end + 1;
        line
    })
}

/// The index just past the first blank line (`\r\n\r\n`) in `bytes`.
fn head_end(bytes: &[u8]) -> Option<usize> {
    static BLANK_LINE: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"\r\n\r\n"));
    BLANK_LINE.find(bytes).map(|i| i + 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ambiguous_requests(stream: &[u8], split: usize) -> Vec<u64> {
        let mut scanner = Scanner::default();
        let mut found = Vec::new();
        for piece in stream.chunks(split) {
            found.extend(scanner.feed(piece));
        }
        found
    }

    #[test]
    fn finds_the_ambiguous_request_after_bodies_of_both_kinds() {
        let stream = b"POST /a HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloPOST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nTrailer: t\r\n\r\nGET /c HTTP/1.1\r\n\r\nPOST /d HTTP/1.1\r\ncontent-length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
        for split in [1, 2, 7, 1000] {
            assert_eq!(ambiguous_requests(stream, split), vec![3], "split {split}");
        }
    }

    #[test]
    fn body_text_that_looks_like_headers_is_not_a_head() {
        let body = "GET /x HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n";
        let stream = format!(
            "POST /a HTTP/1.1\r\nContent-Length: {}\r\n\r\n{body}GET /b HTTP/1.1\r\n\r\n",
            body.len()
        );
        assert!(ambiguous_requests(stream.as_bytes(), 3).is_empty());
    }

    #[test]
    fn http2_is_left_alone() {
        assert!(ambiguous_requests(
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\ncontent-length: 1\r\ntransfer-encoding: chunked\r\n\r\n",
            5
        )
        .is_empty());
    }
}
