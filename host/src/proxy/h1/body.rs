//! A response body still arriving from a backend, read from its connection as the
//! client side asks for it. After the last byte the connection goes back to its pool;
//! a body dropped before its end takes the connection with it (it is mid-message).

use super::connection::Connection;
use super::response_head::BodyFraming;
use bytes::{Bytes, BytesMut};
use std::future::Future;
use std::io;
use std::pin::pin;
use std::task::{ready, Context, Poll};
use tokio::io::AsyncReadExt;

/// Hands a connection back to its pool.
pub type GiveBack = Box<dyn FnOnce(Connection) + Send + Sync>;

/// How much is asked of the socket per read: large enough that a megabyte takes a few
/// dozen reads, small enough not to hold much memory per slow client.
const READ_CHUNK: usize = 64 * 1024;

/// The longest chunk-size or trailer line accepted.
const MAX_LINE: usize = 4096;

pub struct BackendBody {
    /// `None` once the body has ended or failed.
    connection: Option<Connection>,
    state: State,
    /// Whether the connection may carry another request after this body.
    keep_alive: bool,
    give_back: Option<GiveBack>,
}

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

impl std::fmt::Debug for BackendBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackendBody").field("state", &self.state).finish()
    }
}

impl BackendBody {
    /// The body that follows a head on `connection`, whose read buffer may already hold
    /// its first bytes. `keep_alive` is the head's verdict on reusing the connection.
    pub fn new(connection: Connection, framing: BodyFraming, keep_alive: bool, give_back: Option<GiveBack>) -> Self {
        let state = match framing {
            BodyFraming::None => State::Done,
            BodyFraming::Length(n) => State::Length(n),
            BodyFraming::Chunked => State::ChunkSize,
            BodyFraming::UntilClose => State::UntilClose,
        };
        BackendBody {
            connection: Some(connection),
            state,
            keep_alive,
            give_back,
        }
    }

    pub fn is_end_stream(&self) -> bool {
        self.state == State::Done || self.state == State::Length(0)
    }

    /// The exact length still to come, when the head stated it.
    pub fn remaining(&self) -> Option<u64> {
        match self.state {
            State::Length(n) => Some(n),
            State::Done => Some(0),
            _ => None,
        }
    }

    /// The next piece of the body: `Ok(None)` at its end.
    pub fn poll_data(&mut self, cx: &mut Context<'_>) -> Poll<Option<io::Result<Bytes>>> {
        let result = ready!(self.poll_next(cx));
        match &result {
            Ok(_) if self.state == State::Length(0) => self.finish(),
            Ok(None) => self.finish(),
            Ok(Some(_)) => {}
            // A body that failed half way leaves the connection mid-message.
            Err(_) => self.connection = None,
        }
        Poll::Ready(result.transpose())
    }

    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<Bytes>>> {
        loop {
            let Some(connection) = self.connection.as_mut() else {
                return Poll::Ready(Ok(None));
            };
            let buffered = &mut connection.read;
            match self.state {
                State::Done | State::Length(0) => return Poll::Ready(Ok(None)),
                State::Length(left) if !buffered.is_empty() => {
                    let (data, left) = take_up_to(buffered, left);
                    self.state = State::Length(left);
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
                    match framing_line(buffered, self.state)? {
                        Some(next) => {
                            self.state = next;
                            continue;
                        }
                        None if buffered.len() > MAX_LINE => {
                            return Poll::Ready(Err(invalid("a chunk-size or trailer line is too long")))
                        }
                        None => {}
                    }
                }
                _ => {}
            }
            // Nothing usable buffered: read more.
            let connection = self.connection.as_mut().expect("checked above");
            connection.read.reserve(READ_CHUNK);
            let read = pin!(connection.stream.read_buf(&mut connection.read));
            let n = ready!(read.poll(cx))?;
            if n == 0 {
                if self.state == State::UntilClose {
                    self.state = State::Done;
                    self.connection = None;
                    return Poll::Ready(Ok(None));
                }
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the backend closed the connection before the end of the body",
                )));
            }
        }
    }

    /// The body has ended: the connection goes back if it can carry another request
    /// (nothing unread is left on it).
    fn finish(&mut self) {
        self.state = State::Done;
        let Some(connection) = self.connection.take() else {
            return;
        };
        if self.keep_alive && connection.read.is_empty() {
            if let Some(give_back) = self.give_back.take() {
                give_back(connection);
            }
        }
    }
}

/// Up to `left` bytes from the front of `buf`, and how many are left after them.
fn take_up_to(buf: &mut BytesMut, left: u64) -> (Bytes, u64) {
    let take = left.min(buf.len() as u64);
    (buf.split_to(take as usize).freeze(), left - take)
}

/// Consumes one complete line of chunked framing from the start of `buf`, if it is
/// there, and returns the state after it.
fn framing_line(buf: &mut BytesMut, state: State) -> io::Result<Option<State>> {
    let Some(end) = memchr::memchr(b'\n', buf) else {
        return Ok(None);
    };
    let line = buf.split_to(end + 1);
    let text = line.strip_suffix(b"\n").unwrap_or(&line);
    let text = text.strip_suffix(b"\r").unwrap_or(text);
    Ok(Some(match state {
        State::ChunkEnd if text.is_empty() => State::ChunkSize,
        State::ChunkEnd => return Err(invalid("chunk data longer than its stated size")),
        State::Trailers if text.is_empty() => State::Done,
        // Trailer fields are not passed on (nor were they by hyper's client).
        State::Trailers => State::Trailers,
        _ => {
            // "1a3f;name=value": extensions after ';' are ignored.
            let digits = text.split(|&b| b == b';').next().unwrap_or_default();
            let digits = std::str::from_utf8(digits)
                .map_err(|_| invalid("a bad chunk size"))?
                .trim();
            let size = u64::from_str_radix(digits, 16).map_err(|_| invalid("a bad chunk size"))?;
            if size == 0 {
                State::Trailers
            } else {
                State::ChunkData(size)
            }
        }
    }))
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("the backend sent {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], mut state: State) -> (State, usize) {
        let mut buf = BytesMut::from(input);
        while let Some(next) = framing_line(&mut buf, state).unwrap() {
            state = next;
            if matches!(state, State::ChunkData(_) | State::Done) {
                break;
            }
        }
        (state, buf.len())
    }

    #[test]
    fn chunk_sizes_with_extensions_and_the_last_chunk() {
        assert_eq!(lines(b"1A;ext=1\r\nrest", State::ChunkSize), (State::ChunkData(26), 4));
        assert_eq!(lines(b"0\r\nX-T: 1\r\n\r\n", State::ChunkSize), (State::Done, 0));
        assert_eq!(lines(b"\r\n5\r\n", State::ChunkEnd), (State::ChunkData(5), 0));
    }

    #[test]
    fn bad_chunk_framing_is_an_error() {
        let mut buf = BytesMut::from(&b"zz\r\n"[..]);
        assert!(framing_line(&mut buf, State::ChunkSize).is_err());
        let mut buf = BytesMut::from(&b"extra\r\n"[..]);
        assert!(framing_line(&mut buf, State::ChunkEnd).is_err());
    }
}
