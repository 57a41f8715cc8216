//! One client connection: read a request head, hand the request to the handler, write
//! its response, and go round again while the connection may be reused.

use super::client_body::{ClientBody, Handback, ReadSide};
use super::request_head::{self, Refusal, RequestHead};
use super::response::{self, Answering};
use crate::http::h1_body::BodyFraming;
use crate::http::{responses, Body};
use crate::server::{handler, ServerShared};
use arc_swap::ArcSwap;
use std::future::{poll_fn, Future};
use std::net::SocketAddr;
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;
use tokio::time::{Instant, Sleep};

/// What is asked of the socket per read while waiting for a head.
const HEAD_READ: usize = 8 * 1024;

/// How long, and for how many bytes, a connection closed with a request body still
/// arriving keeps reading (and dropping) it, so that the client gets to read the
/// response instead of a reset.
const LINGER_TIME: Duration = Duration::from_secs(1);
const LINGER_BYTES: usize = 1024 * 1024;

/// A server's HTTP/1.1 connection settings.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Connections may carry more than one request.
    pub keep_alive: bool,
    /// How long a client may take to send a whole request head, including the wait
    /// for it on an idle kept-alive connection.
    pub head_timeout: Duration,
}

/// Serves requests on one connection until it ends. `side` holds what was read while
/// telling HTTP/1.1 from HTTP/2. `stop` turns true when the server shuts down: an idle
/// connection closes at once, a busy one after its current response.
pub async fn serve<W: AsyncWrite + Unpin>(
    side: ReadSide,
    mut writer: W,
    peer: SocketAddr,
    live: Arc<ArcSwap<ServerShared>>,
    settings: Settings,
    mut stop: watch::Receiver<bool>,
) {
    let probe = stop.clone();
    let mut stopping = pin!(stop.wait_for(|stopped| *stopped));
    let mut head_deadline = pin!(tokio::time::sleep(settings.head_timeout));
    let mut side = Some(side);
    let mut handback: Option<Arc<Handback>> = None;
    let mut out = Vec::with_capacity(1024);
    loop {
        let reading = side.as_mut().expect("the read side is back between requests");
        let waiting = Waiting {
            deadline: head_deadline.as_mut(),
            timeout: settings.head_timeout,
            stopping: stopping.as_mut(),
        };
        let head = match next_head(reading, waiting).await {
            Ok(Some(head)) => head,
            Ok(None) => return,
            Err(refusal) => {
                tracing::debug!(%peer, why = %refusal.why, status = %refusal.status, "request refused");
                refuse(&mut writer, &mut out, refusal).await;
                linger(writer, side).await;
                return;
            }
        };
        let RequestHead {
            parts,
            framing,
            keep_alive,
            expect_continue,
        } = head;
        let (version, head_request) = (parts.version, parts.method == http::Method::HEAD);
        let body = match framing {
            BodyFraming::None => Body::Empty,
            _ => {
                let handback = handback.get_or_insert_with(Default::default).clone();
                let taken = side.take().expect("checked above");
                Body::from_client(ClientBody::new(taken, framing, expect_continue, handback))
            }
        };
        let request = http::Request::from_parts(parts, body);
        let server = live.load_full();
        // Pinned where it is made: the request's whole future (about 2 KB) is then not
        // copied again by each `.await` or call that takes it, only a pointer to it.
        let mut handling = pin!(handler::handle(request, peer, &server));
        let response = match (&handback, expect_continue) {
            (Some(handback), true) => match answer_with_continue(handling.as_mut(), handback, &mut writer).await {
                Some(response) => response,
                None => return,
            },
            _ => handling.await,
        };

        let mut reusable = keep_alive && settings.keep_alive && !*probe.borrow();
        if side.is_none() {
            match handback.as_ref().and_then(|h| h.take()) {
                Some(returned) => {
                    reusable &= returned.finished;
                    side = Some(returned.side);
                }
                // Something still holds the body: the connection cannot be read again.
                None => reusable = false,
            }
        }
        let answering = Answering {
            version,
            head_request,
            keep_alive: reusable,
        };
        match response::write(&mut writer, &mut out, response, &answering).await {
            Ok(true) => {}
            Ok(false) => {
                linger(writer, side).await;
                return;
            }
            Err(e) => {
                tracing::debug!(%peer, error = %e, "writing the response failed");
                return;
            }
        }
    }
}

/// What a wait for a request head also watches.
struct Waiting<'a, S> {
    deadline: Pin<&'a mut Sleep>,
    timeout: Duration,
    stopping: Pin<&'a mut S>,
}

enum Event {
    Read(std::io::Result<usize>),
    TimedOut,
    Stopping,
}

/// The next request head: `Ok(None)` when the client closed the connection, was too
/// slow, or the server is stopping while the connection is idle.
async fn next_head<S: Future>(
    side: &mut ReadSide,
    mut waiting: Waiting<'_, S>,
) -> Result<Option<RequestHead>, Refusal> {
    let mut armed = false;
    loop {
        if !side.buffered.is_empty() {
            if let Some(head) = request_head::parse(&mut side.buffered)? {
                return Ok(Some(head));
            }
            if let Some(refusal) = request_head::too_large(&side.buffered) {
                return Err(refusal);
            }
        }
        if !armed {
            // Moving a deadline later is cheap in tokio's timer: no re-registration.
            waiting.deadline.as_mut().reset(Instant::now() + waiting.timeout);
            armed = true;
        }
        let idle = side.buffered.is_empty();
        side.buffered.reserve(HEAD_READ);
        let event = tokio::select! {
            biased;
            read = side.reader.read_buf(&mut side.buffered) => Event::Read(read),
            _ = waiting.deadline.as_mut() => Event::TimedOut,
            _ = waiting.stopping.as_mut(), if idle => Event::Stopping,
        };
        match event {
            Event::Read(Ok(0)) => return Ok(None),
            Event::Read(Ok(_)) => {}
            Event::Read(Err(e)) => {
                tracing::debug!(error = %e, "reading a request head failed");
                return Ok(None);
            }
            Event::TimedOut | Event::Stopping => return Ok(None),
        }
    }
}

/// Runs the handler for a request whose client waits for `100 Continue` before it
/// sends the body, and sends that as soon as someone reads the body. `None` when the
/// connection failed meanwhile.
async fn answer_with_continue<F: Future, W: AsyncWrite + Unpin>(
    mut handling: Pin<&mut F>,
    handback: &Handback,
    writer: &mut W,
) -> Option<F::Output> {
    loop {
        let step = poll_fn(|cx| match handling.as_mut().poll(cx) {
            Poll::Ready(response) => Poll::Ready(Some(response)),
            Poll::Pending if handback.take_continue() => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        })
        .await;
        if let Some(response) = step {
            return Some(response);
        }
        let sent = writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await;
        if sent.is_err() || writer.flush().await.is_err() {
            return None;
        }
    }
}

/// Answers a head that will not be served, and says the connection ends.
async fn refuse<W: AsyncWrite + Unpin>(writer: &mut W, out: &mut Vec<u8>, refusal: Refusal) {
    let answering = Answering {
        version: http::Version::HTTP_11,
        head_request: false,
        keep_alive: false,
    };
    let _ = response::write(writer, out, responses::empty(refusal.status), &answering).await;
}

/// Ends the connection: the write side first, so the client sees the end of the
/// response, then whatever the client is still sending is read and dropped for a
/// moment, since closing with unread bytes would reset the connection and could destroy
/// the response before the client read it.
async fn linger<W: AsyncWrite + Unpin>(mut writer: W, side: Option<ReadSide>) {
    let _ = writer.shutdown().await;
    let Some(mut side) = side else { return };
    let drain = async {
        let mut dropped = 0;
        while dropped < LINGER_BYTES {
            side.buffered.clear();
            side.buffered.reserve(HEAD_READ);
            match side.reader.read_buf(&mut side.buffered).await {
                Ok(0) | Err(_) => break,
                Ok(n) => dropped += n,
            }
        }
    };
    let _ = tokio::time::timeout(LINGER_TIME, drain).await;
}
