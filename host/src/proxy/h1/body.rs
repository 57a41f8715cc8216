//! A response body still arriving from a backend, read from its connection as the
//! client side asks for it. After the last byte the connection goes back to its pool;
//! a body dropped before its end takes the connection with it (it is mid-message).

use super::connection::Connection;
use crate::http::h1_body::{BodyFraming, Decoder};
use bytes::Bytes;
use std::io;
use std::task::{ready, Context, Poll};

/// Hands a connection back to its pool.
pub type GiveBack = Box<dyn FnOnce(Connection) + Send + Sync>;

pub struct BackendBody {
    /// `None` once the body has ended or failed.
    connection: Option<Connection>,
    decoder: Decoder,
    /// Whether the connection may carry another request after this body.
    keep_alive: bool,
    give_back: Option<GiveBack>,
}

impl std::fmt::Debug for BackendBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackendBody").field("decoder", &self.decoder).finish()
    }
}

impl BackendBody {
    /// The body that follows a head on `connection`, whose read buffer may already hold
    /// its first bytes. `keep_alive` is the head's verdict on reusing the connection.
    pub fn new(connection: Connection, framing: BodyFraming, keep_alive: bool, give_back: Option<GiveBack>) -> Self {
        BackendBody {
            connection: Some(connection),
            decoder: Decoder::new(framing, "backend"),
            keep_alive,
            give_back,
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
        let Some(connection) = self.connection.as_mut() else {
            return Poll::Ready(None);
        };
        let result = ready!(self.decoder.poll_next(&mut connection.read, &mut connection.stream, cx));
        match &result {
            Ok(_) if self.decoder.is_done() => self.finish(),
            Ok(_) => {}
            // A body that failed half way leaves the connection mid-message.
            Err(_) => self.connection = None,
        }
        Poll::Ready(result.transpose())
    }

    /// The body has ended: the connection goes back if it can carry another request
    /// (nothing unread is left on it).
    fn finish(&mut self) {
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
