//! A client's request body, read from its connection as the pipeline asks for it.
//!
//! The connection's read side (the socket's read half and the bytes already read)
//! travels inside the body while it is being read, so no task or channel stands
//! between the socket and the pipeline. When the body ends, or is dropped, the read
//! side goes back to the connection through a shared slot, saying whether the body was
//! read to its end: only then can the connection carry another request.

use crate::http::h1_body::{BodyFraming, Decoder};
use bytes::{Bytes, BytesMut};
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{ready, Context, Poll};
use tokio::io::AsyncRead;

/// The read half of a client connection.
pub type Reader = Box<dyn AsyncRead + Send + Sync + Unpin>;

/// The socket's read half and what has been read from it but not used yet.
pub struct ReadSide {
    pub reader: Reader,
    pub buffered: BytesMut,
}

/// Where a body leaves the read side for its connection.
#[derive(Default)]
pub struct Handback {
    slot: Mutex<Option<Returned>>,
    /// Set when the body is first read while the client waits for `100 Continue`.
    continue_wanted: AtomicBool,
}

pub struct Returned {
    pub side: ReadSide,
    /// The body was read to its end: what follows is the next request.
    pub finished: bool,
}

impl Handback {
    /// The read side, if the body has given it back.
    pub fn take(&self) -> Option<Returned> {
        self.slot.lock().expect("handback lock").take()
    }

    /// Whether the body has asked for `100 Continue` since the last call.
    pub fn take_continue(&self) -> bool {
        self.continue_wanted.swap(false, Ordering::Relaxed)
    }
}

pub struct ClientBody {
    /// `None` once handed back.
    side: Option<ReadSide>,
    decoder: Decoder,
    handback: Arc<Handback>,
    /// The client waits for `100 Continue`, not asked for yet.
    awaits_continue: bool,
}

impl std::fmt::Debug for ClientBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBody").field("decoder", &self.decoder).finish()
    }
}

impl ClientBody {
    pub fn new(side: ReadSide, framing: BodyFraming, expect_continue: bool, handback: Arc<Handback>) -> Self {
        ClientBody {
            side: Some(side),
            decoder: Decoder::new(framing, "client"),
            handback,
            awaits_continue: expect_continue,
        }
    }

    pub fn is_end_stream(&self) -> bool {
        self.decoder.is_done()
    }

    /// The exact length still to come, when the head stated it.
    pub fn remaining(&self) -> Option<u64> {
        self.decoder.remaining()
    }

    /// The next piece of the body: `Ok(None)` at its end.
    pub fn poll_data(&mut self, cx: &mut Context<'_>) -> Poll<Option<io::Result<Bytes>>> {
        let Some(side) = self.side.as_mut() else {
            return Poll::Ready(None);
        };
        if self.awaits_continue && side.buffered.is_empty() {
            // Someone wants the body: the connection tells the client to send it.
            self.awaits_continue = false;
            self.handback.continue_wanted.store(true, Ordering::Relaxed);
        }
        let result = ready!(self.decoder.poll_next(&mut side.buffered, &mut side.reader, cx));
        match &result {
            Ok(_) if self.decoder.is_done() => self.hand_back(true),
            Ok(_) => {}
            // A body that failed half way leaves the connection mid-message.
            Err(_) => self.hand_back(false),
        }
        Poll::Ready(result.transpose())
    }

    fn hand_back(&mut self, finished: bool) {
        if let Some(side) = self.side.take() {
            *self.handback.slot.lock().expect("handback lock") = Some(Returned { side, finished });
        }
    }
}

impl Drop for ClientBody {
    fn drop(&mut self) {
        // A short body that is already all buffered (say, a small POST that was refused
        // before anyone read it) is skipped, and the connection stays usable.
        if let (Some(side), Some(left)) = (self.side.as_mut(), self.decoder.remaining()) {
            if left <= side.buffered.len() as u64 {
                let _ = side.buffered.split_to(left as usize);
                self.hand_back(true);
                return;
            }
        }
        self.hand_back(false);
    }
}
