//! One keep-alive connection to a backend, and one request/response exchange on it.

use super::request_head;
use super::response_head::{self, BodyFraming, ResponseHead};
use crate::http::h1_body::{write_body, WriteError, COPY_PIECE};
use crate::http::{Body, BodyError};
use crate::proxy::upstream::UpstreamHead;
use bytes::BytesMut;
use std::io;
use std::task::{Context, Poll, Waker};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The largest response head accepted, as for request heads.
const MAX_HEAD_BYTES: usize = crate::server::limits::MAX_HEAD_BYTES;

/// What is asked of the socket per read while waiting for a head.
const HEAD_READ: usize = 16 * 1024;

/// The write buffer is kept for the connection's next request up to this capacity; one
/// that grew for a large coalesced body is let go rather than held while idle.
const KEEP_WRITE_BUFFER: usize = 4 * 1024;

pub struct Connection {
    pub(super) stream: TcpStream,
    /// Bytes read from the backend and not yet used.
    pub(super) read: BytesMut,
    /// Where the next request head is put together, kept between requests so that a
    /// request costs no allocation for it.
    write: Vec<u8>,
    /// Whether any byte arrived during the current exchange; a reused connection that
    /// fails before one did may simply have been closed by the backend meanwhile.
    answered: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("the backend closed the connection before sending a complete response head")]
    Closed,
    #[error("the backend sent a malformed response head: {0}")]
    Malformed(String),
    #[error("the backend's response head is larger than {MAX_HEAD_BYTES} bytes")]
    HeadTooLarge,
    #[error("reading the request body failed: {0}")]
    RequestBody(#[source] BodyError),
}

impl Connection {
    pub fn new(stream: TcpStream) -> Self {
        Connection {
            stream,
            read: BytesMut::new(),
            write: Vec::new(),
            answered: false,
        }
    }

    /// Whether an idle connection still looks open: nothing (not even the end of the
    /// stream) has arrived since its last response. Costs no system call unless the
    /// socket has signalled something.
    pub fn looks_open(&self) -> bool {
        let mut cx = Context::from_waker(Waker::noop());
        match self.stream.poll_read_ready(&mut cx) {
            Poll::Pending => true,
            // Readable: the backend closed it, or sent bytes nobody asked for. Either
            // way it is no use, unless the readiness was stale.
            Poll::Ready(Ok(())) => matches!(
                self.stream.try_read(&mut [0u8; 1]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock
            ),
            Poll::Ready(Err(_)) => false,
        }
    }

    /// The body of a response framed by `framing`, when all of it has already been
    /// read (the usual case for a small response); `None` when it is still to come.
    pub fn whole_body(&mut self, framing: BodyFraming) -> Option<Body> {
        match framing {
            BodyFraming::None => Some(Body::Empty),
            BodyFraming::Length(n) if self.read.len() as u64 >= n => {
                Some(Body::from(self.read.split_to(n as usize).freeze()))
            }
            _ => None,
        }
    }

    /// Nothing unread is left on the connection (bytes past a response mean a broken
    /// backend, which is not trusted with another request).
    pub fn is_drained(&self) -> bool {
        self.read.is_empty()
    }

    /// True when the exchange that just failed got no byte of a response: on a reused
    /// connection the backend most likely closed it while idle, before seeing the
    /// request.
    pub fn unanswered(&self) -> bool {
        !self.answered
    }

    /// Sends a request and reads the response head, leaving any body bytes that came
    /// with it in `self.read`. The request is only borrowed, so that a caller may send
    /// it again on another connection; a streamed body is consumed.
    pub async fn send(&mut self, request: &UpstreamHead<'_>, body: &mut Body) -> Result<ResponseHead, ExchangeError> {
        self.answered = false;
        let mut out = std::mem::take(&mut self.write);
        out.clear();
        let chunked = request_head::encode(request, body, &mut out);
        let sent = match &*body {
            // A small body goes out in the same write as the head.
            Body::Full(bytes) if bytes.len() <= COPY_PIECE => {
                out.extend_from_slice(bytes);
                self.stream.write_all(&out).await
            }
            Body::Full(bytes) => match self.stream.write_all(&out).await {
                Ok(()) => self.stream.write_all(bytes).await,
                Err(e) => Err(e),
            },
            Body::Stream { .. } => {
                // Boxed: its state (an upload and a response read at once) is most of
                // this future's size, which every request would otherwise copy about.
                let head = Box::pin(self.send_streamed(&out, body, chunked, request.method)).await;
                self.keep_write_buffer(out);
                return head;
            }
            Body::Empty => self.stream.write_all(&out).await,
        };
        self.keep_write_buffer(out);
        sent?;
        let Connection {
            stream, read, answered, ..
        } = self;
        read_head(stream, read, answered, request.method).await
    }

    fn keep_write_buffer(&mut self, buffer: Vec<u8>) {
        if buffer.capacity() <= KEEP_WRITE_BUFFER {
            self.write = buffer;
        }
    }

    /// Writes a streamed body while watching for the response: a backend may answer
    /// (say, 413) before the body is through, and one that streams its answer while
    /// reading would otherwise wait on us as we wait on it.
    async fn send_streamed(
        &mut self,
        head: &[u8],
        body: &mut Body,
        chunked: bool,
        method: &http::Method,
    ) -> Result<ResponseHead, ExchangeError> {
        self.stream.write_all(head).await?;
        let Connection {
            stream, read, answered, ..
        } = self;
        let (mut reader, mut writer) = stream.split();
        let mut upload = std::pin::pin!(write_body(&mut writer, body, chunked));
        let mut response = std::pin::pin!(read_head(&mut reader, read, answered, method));
        let mut uploaded = false;
        let mut upload_failed = None;
        loop {
            tokio::select! {
                head = &mut response => {
                    let mut head = head.map_err(|e| upload_failed.take().unwrap_or(e))?;
                    // A response before the whole body went out leaves the connection
                    // mid-request.
                    if !uploaded || upload_failed.is_some() {
                        head.keep_alive = false;
                    }
                    return Ok(head);
                }
                sent = &mut upload, if !uploaded => {
                    uploaded = true;
                    match sent {
                        Ok(_) => {}
                        // The client's body failed: there is nothing sensible to send.
                        Err(WriteError::Body(e)) => return Err(ExchangeError::RequestBody(e)),
                        // The backend may have stopped reading because it has already
                        // answered; wait for that answer, or its absence.
                        Err(WriteError::Io(e)) => upload_failed = Some(ExchangeError::Io(e)),
                    }
                }
            }
        }
    }
}

/// Reads until a complete final response head is in `read`, skipping interim (1xx)
/// responses other than 101.
async fn read_head<R: AsyncRead + Unpin>(
    stream: &mut R,
    read: &mut BytesMut,
    answered: &mut bool,
    method: &http::Method,
) -> Result<ResponseHead, ExchangeError> {
    loop {
        if !read.is_empty() {
            match response_head::parse(read, method).map_err(ExchangeError::Malformed)? {
                Some(head) if head.parts.status.is_informational() && head.parts.status.as_u16() != 101 => continue,
                Some(head) => return Ok(head),
                None if read.len() > MAX_HEAD_BYTES => return Err(ExchangeError::HeadTooLarge),
                None => {}
            }
        }
        read.reserve(HEAD_READ);
        if stream.read_buf(read).await? == 0 {
            return Err(ExchangeError::Closed);
        }
        *answered = true;
    }
}
