//! The one body type used everywhere: nothing, bytes in memory, or a stream still on the
//! wire. Streams are buffered only when something asks for the bytes, so a request that
//! no filter inspects is passed through untouched.

use crate::proxy::h1::BackendBody;
use crate::server::h1::ClientBody;
use bytes::{Bytes, BytesMut};
use http_body::{Frame, SizeHint};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use std::pin::Pin;
use std::task::{Context, Poll};

#[derive(Debug, Default)]
pub enum Body {
    #[default]
    Empty,
    Full(Bytes),
    /// A body still being received. `limit` caps how many bytes may pass; `seen` counts
    /// them. Passing the limit ends the stream with [`BodyError::TooLarge`].
    Stream {
        body: Source,
        limit: Option<u64>,
        seen: u64,
    },
}

/// Where a streamed body comes from.
#[derive(Debug)]
pub enum Source {
    /// hyper's: a client's request body, or a response from a TLS backend.
    Hyper(Incoming),
    /// A plain-HTTP backend's response, read by Weir's own HTTP/1.1 client.
    Backend(Box<BackendBody>),
    /// An HTTP/1.1 client's request, read by Weir's own HTTP/1.1 server.
    Client(Box<ClientBody>),
}

impl Source {
    fn poll_data(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        match self {
            Source::Hyper(body) => http_body::Body::poll_frame(Pin::new(body), cx).map_err(BodyError::Read),
            Source::Backend(body) => body
                .poll_data(cx)
                .map(|data| data.map(|d| d.map(Frame::data).map_err(BodyError::Backend))),
            Source::Client(body) => body
                .poll_data(cx)
                .map(|data| data.map(|d| d.map(Frame::data).map_err(BodyError::Client))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Source::Hyper(body) => http_body::Body::is_end_stream(body),
            Source::Backend(body) => body.is_end_stream(),
            Source::Client(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Source::Hyper(body) => http_body::Body::size_hint(body),
            Source::Backend(body) => exact_or_unknown(body.remaining()),
            Source::Client(body) => exact_or_unknown(body.remaining()),
        }
    }
}

fn exact_or_unknown(remaining: Option<u64>) -> SizeHint {
    match remaining {
        Some(n) => SizeHint::with_exact(n),
        None => SizeHint::default(),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("body is larger than the limit of {0} bytes")]
    TooLarge(u64),
    #[error("reading the body failed: {0}")]
    Read(#[from] hyper::Error),
    #[error("reading the backend's response body failed: {0}")]
    Backend(#[source] std::io::Error),
    #[error("reading the request body failed: {0}")]
    Client(#[source] std::io::Error),
}

impl Body {
    pub fn stream(body: Incoming, limit: Option<u64>) -> Self {
        Body::Stream {
            body: Source::Hyper(body),
            limit,
            seen: 0,
        }
    }

    /// An HTTP/1.1 client's request body still to be read, not capped yet.
    pub fn from_client(body: ClientBody) -> Self {
        Body::Stream {
            body: Source::Client(Box::new(body)),
            limit: None,
            seen: 0,
        }
    }

    /// Caps a streaming body at `limit` bytes: reading past it fails with
    /// [`BodyError::TooLarge`].
    pub fn limit(&mut self, cap: u64) {
        if let Body::Stream { limit, .. } = self {
            *limit = Some(cap);
        }
    }

    /// A body received from a (TLS) backend through hyper: `Empty` when nothing follows
    /// the head, else a stream capped at `limit`.
    pub fn received(body: Incoming, limit: Option<u64>) -> Self {
        if http_body::Body::is_end_stream(&body) {
            return Body::Empty;
        }
        Body::stream(body, limit)
    }

    /// A plain-HTTP backend's response body still to be read, capped at `limit`.
    pub fn from_backend(body: BackendBody, limit: Option<u64>) -> Self {
        Body::Stream {
            body: Source::Backend(Box::new(body)),
            limit,
            seen: 0,
        }
    }

    /// The bytes if the body is already in memory (empty counts).
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Body::Empty => Some(&[]),
            Body::Full(b) => Some(b),
            Body::Stream { .. } => None,
        }
    }

    /// Reads a streaming body into memory (in place) and returns the bytes.
    pub async fn buffer(&mut self) -> Result<Bytes, BodyError> {
        if let Body::Stream { .. } = self {
            let taken = std::mem::take(self);
            let mut collected = BytesMut::new();
            let mut taken = taken;
            while let Some(frame) = taken.frame().await {
                if let Ok(data) = frame?.into_data() {
                    collected.extend_from_slice(&data);
                }
            }
            *self = Body::Full(collected.freeze());
        }
        Ok(match self {
            Body::Full(b) => b.clone(),
            _ => Bytes::new(),
        })
    }

    /// A copy that shares the bytes, when the body is in memory.
    pub fn try_clone(&self) -> Option<Body> {
        match self {
            Body::Empty => Some(Body::Empty),
            Body::Full(b) => Some(Body::Full(b.clone())),
            Body::Stream { .. } => None,
        }
    }
}

impl From<Bytes> for Body {
    fn from(b: Bytes) -> Self {
        if b.is_empty() {
            Body::Empty
        } else {
            Body::Full(b)
        }
    }
}

impl From<&'static str> for Body {
    fn from(s: &'static str) -> Self {
        Body::from(Bytes::from_static(s.as_bytes()))
    }
}

impl From<String> for Body {
    fn from(s: String) -> Self {
        Body::from(Bytes::from(s))
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        match self.get_mut() {
            Body::Empty => Poll::Ready(None),
            this @ Body::Full(_) => {
                let Body::Full(bytes) = std::mem::take(this) else {
                    unreachable!()
                };
                Poll::Ready(Some(Ok(Frame::data(bytes))))
            }
            Body::Stream { body, limit, seen } => {
                let polled = body.poll_data(cx);
                if let (Poll::Ready(Some(Ok(frame))), Some(limit)) = (&polled, *limit) {
                    *seen += frame.data_ref().map_or(0, |data| data.len() as u64);
                    if *seen > limit {
                        return Poll::Ready(Some(Err(BodyError::TooLarge(limit))));
                    }
                }
                polled
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Body::Empty => true,
            Body::Full(b) => b.is_empty(),
            Body::Stream { body, .. } => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Empty => SizeHint::with_exact(0),
            Body::Full(b) => SizeHint::with_exact(b.len() as u64),
            Body::Stream { body, .. } => body.size_hint(),
        }
    }
}
