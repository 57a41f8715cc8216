//! HTTP/1.1 message bodies on the wire (RFC 9112 §6–7), for both sides of the proxy:
//! decoding a body as its bytes are read (a backend's response, a client's request),
//! and writing one with the framing its head announced.

use super::BodyError;
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use std::future::Future;
use std::io;
use std::pin::pin;
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// How much is asked of the socket per read: large enough that a megabyte takes a few
/// dozen reads, small enough not to hold much memory per slow peer.
const READ_CHUNK: usize = 64 * 1024;

/// The longest chunk-size or trailer line accepted.
const MAX_LINE: usize = 4096;

/// How a body is delimited on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFraming {
    /// No body at all.
    None,
    Length(u64),
    Chunked,
    /// Everything until the peer closes the connection (responses only).
    UntilClose,
}

/// Where a body being read has got to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Length(u64),
    UntilClose,
    /// Reading a chunk-size line.
    ChunkSize,
    /// In a chunk's data, with this many bytes left.
    ChunkData(u64),
    /// The CRLF after a chunk's data.
    ChunkEnd,
    /// Trailer lines after the last chunk, up to an empty line.
    Trailers,
    Done,
}

/// Cuts a body out of the bytes read from a connection.
#[derive(Debug)]
pub struct Decoder {
    state: State,
    /// Who sends the body, for error messages: "backend" or "client".
    peer: &'static str,
}

impl Decoder {
    pub fn new(framing: BodyFraming, peer: &'static str) -> Self {
        let state = match framing {
            BodyFraming::None | BodyFraming::Length(0) => State::Done,
            BodyFraming::Length(n) => State::Length(n),
            BodyFraming::Chunked => State::ChunkSize,
            BodyFraming::UntilClose => State::UntilClose,
        };
        Decoder { state, peer }
    }

    /// The whole body has been read.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// The exact length still to come, when the head stated it.
    pub fn remaining(&self) -> Option<u64> {
        match self.state {
            State::Length(n) => Some(n),
            State::Done => Some(0),
            _ => None,
        }
    }

    /// The next piece of the body, from `buffered` first and then from `stream`;
    /// `Ok(None)` at its end. Bytes past the body stay in `buffered`.
    pub fn poll_next<R: AsyncRead + Unpin>(
        &mut self,
        buffered: &mut BytesMut,
        stream: &mut R,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<Option<Bytes>>> {
        loop {
            match self.state {
                State::Done => return Poll::Ready(Ok(None)),
                State::Length(left) if !buffered.is_empty() => {
                    let (data, left) = take_up_to(buffered, left);
                    self.state = if left == 0 { State::Done } else { State::Length(left) };
                    return Poll::Ready(Ok(Some(data)));
                }
                State::ChunkData(left) if !buffered.is_empty() => {
                    let (data, left) = take_up_to(buffered, left);
                    self.state = if left == 0 {
                        State::ChunkEnd
                    } else {
                        State::ChunkData(left)
                    };
                    return Poll::Ready(Ok(Some(data)));
                }
                State::UntilClose if !buffered.is_empty() => {
                    return Poll::Ready(Ok(Some(buffered.split().freeze())));
                }
                State::ChunkSize | State::ChunkEnd | State::Trailers if !buffered.is_empty() => {
                    match self.framing_line(buffered)? {
                        Some(next) => {
                            self.state = next;
                            continue;
                        }
                        None if buffered.len() > MAX_LINE => {
                            return Poll::Ready(Err(self.invalid("a chunk-size or trailer line that is too long")))
                        }
                        None => {}
                    }
                }
                _ => {}
            }
            // Nothing usable buffered: read more.
            buffered.reserve(READ_CHUNK);
            let read = pin!(stream.read_buf(buffered));
            if ready!(read.poll(cx))? == 0 {
                if self.state == State::UntilClose {
                    self.state = State::Done;
                    return Poll::Ready(Ok(None));
                }
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("the {} closed the connection before the end of the body", self.peer),
                )));
            }
        }
    }

    /// Consumes one complete line of chunked framing from the start of `buf`, if it is
    /// there, and returns the state after it.
    fn framing_line(&self, buf: &mut BytesMut) -> io::Result<Option<State>> {
        let Some(end) = memchr::memchr(b'\n', buf) else {
            return Ok(None);
        };
        let line = buf.split_to(end + 1);
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        Ok(Some(match self.state {
            State::ChunkEnd if text.is_empty() => State::ChunkSize,
            State::ChunkEnd => return Err(self.invalid("chunk data longer than its stated size")),
            State::Trailers if text.is_empty() => State::Done,
            // Trailer fields are not passed on.
            State::Trailers => State::Trailers,
            _ => {
                // "1a3f;name=value": extensions after ';' are ignored.
                let digits = text.split(|&b| b == b';').next().unwrap_or_default();
                let size = std::str::from_utf8(digits)
                    .ok()
                    .and_then(|digits| u64::from_str_radix(digits.trim(), 16).ok())
                    .ok_or_else(|| self.invalid("a bad chunk size"))?;
                if size == 0 {
                    State::Trailers
                } else {
                    State::ChunkData(size)
                }
            }
        }))
    }

    fn invalid(&self, what: &str) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, format!("the {} sent {what}", self.peer))
    }
}

/// Up to `left` bytes from the front of `buf`, and how many are left after them.
fn take_up_to(buf: &mut BytesMut, left: u64) -> (Bytes, u64) {
    let take = left.min(buf.len() as u64);
    (buf.split_to(take as usize).freeze(), left - take)
}

/// Why writing a body failed: the body's own source, or the connection it went to.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{0}")]
    Body(#[source] BodyError),
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// Pieces of body up to this size are copied next to their framing (or their head)
/// and written in one go; larger ones are written as they are, without a copy.
pub const COPY_PIECE: usize = 16 * 1024;

/// Writes what is left of `body`, chunk-framed when `chunked`, and returns how many
/// body bytes went out.
pub async fn write_body<W, B>(writer: &mut W, body: &mut B, chunked: bool) -> Result<u64, WriteError>
where
    W: AsyncWrite + Unpin,
    B: http_body::Body<Data = Bytes, Error = BodyError> + Unpin,
{
    let mut sent = 0;
    let mut framed = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(WriteError::Body)?;
        let Ok(data) = frame.into_data() else { continue };
        sent += data.len() as u64;
        write_piece(writer, &data, chunked, &mut framed).await?;
    }
    if chunked {
        writer.write_all(LAST_CHUNK).await?;
    }
    Ok(sent)
}

/// The chunk that ends a chunked body (with no trailers).
pub const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

/// Writes one piece of a body, as a chunk of its own when `chunked`. A small chunk is
/// framed in `framed` first, so that it takes one write rather than three.
pub async fn write_piece<W: AsyncWrite + Unpin>(
    writer: &mut W,
    data: &[u8],
    chunked: bool,
    framed: &mut Vec<u8>,
) -> io::Result<()> {
    if data.is_empty() {
        // An empty chunk would end the body.
        return Ok(());
    }
    if !chunked {
        return writer.write_all(data).await;
    }
    framed.clear();
    if data.len() <= COPY_PIECE {
        append_piece(framed, data, true);
        return writer.write_all(framed).await;
    }
    append_chunk_size(framed, data.len());
    writer.write_all(framed).await?;
    writer.write_all(data).await?;
    writer.write_all(b"\r\n").await
}

/// Appends one piece of a body to `out`, as a chunk of its own when `chunked`.
pub fn append_piece(out: &mut Vec<u8>, data: &[u8], chunked: bool) {
    if data.is_empty() {
        return;
    }
    if chunked {
        append_chunk_size(out, data.len());
    }
    out.extend_from_slice(data);
    if chunked {
        out.extend_from_slice(b"\r\n");
    }
}

fn append_chunk_size(out: &mut Vec<u8>, len: usize) {
    use std::io::Write;
    let _ = write!(out, "{len:x}\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], state: State) -> (State, usize) {
        let mut decoder = Decoder { state, peer: "backend" };
        let mut buf = BytesMut::from(input);
        while let Some(next) = decoder.framing_line(&mut buf).unwrap() {
            decoder.state = next;
            if matches!(next, State::ChunkData(_) | State::Done) {
                break;
            }
        }
        (decoder.state, buf.len())
    }

    #[test]
    fn chunk_sizes_with_extensions_and_the_last_chunk() {
        assert_eq!(lines(b"1A;ext=1\r\nrest", State::ChunkSize), (State::ChunkData(26), 4));
        assert_eq!(lines(b"0\r\nX-T: 1\r\n\r\n", State::ChunkSize), (State::Done, 0));
        assert_eq!(lines(b"\r\n5\r\n", State::ChunkEnd), (State::ChunkData(5), 0));
    }

    #[test]
    fn bad_chunk_framing_is_an_error() {
        let decoder = Decoder::new(BodyFraming::Chunked, "client");
        let mut buf = BytesMut::from(&b"zz\r\n"[..]);
        let error = decoder.framing_line(&mut buf).unwrap_err();
        assert_eq!(error.to_string(), "the client sent a bad chunk size");
        let decoder = Decoder {
            state: State::ChunkEnd,
            peer: "backend",
        };
        let mut buf = BytesMut::from(&b"extra\r\n"[..]);
        assert!(decoder.framing_line(&mut buf).is_err());
    }

    #[tokio::test]
    async fn pieces_are_framed_as_chunks_small_or_large() {
        let mut wire = Vec::new();
        let mut framed = Vec::new();
        write_piece(&mut wire, b"hello", true, &mut framed).await.unwrap();
        write_piece(&mut wire, b"", true, &mut framed).await.unwrap();
        let large = vec![b'x'; COPY_PIECE + 1];
        write_piece(&mut wire, &large, true, &mut framed).await.unwrap();
        let expected = [&b"5\r\nhello\r\n"[..], b"4001\r\n", &large, b"\r\n"].concat();
        assert_eq!(wire, expected);
        let mut plain = Vec::new();
        write_piece(&mut plain, b"as is", false, &mut framed).await.unwrap();
        assert_eq!(plain, b"as is");
    }

    #[tokio::test]
    async fn a_chunked_body_is_decoded_across_reads_and_what_follows_it_stays() {
        let mut decoder = Decoder::new(BodyFraming::Chunked, "client");
        let mut buffered = BytesMut::from(&b"3\r\nabc\r\n"[..]);
        let mut rest: &[u8] = b"2\r\nde\r\n0\r\n\r\nNEXT";
        let mut body = Vec::new();
        while let Some(data) = std::future::poll_fn(|cx| decoder.poll_next(&mut buffered, &mut rest, cx))
            .await
            .unwrap()
        {
            body.extend_from_slice(&data);
        }
        assert_eq!(body, b"abcde");
        assert!(decoder.is_done());
        assert_eq!(&buffered[..], b"NEXT");
    }
}
