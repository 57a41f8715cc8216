//! Keep-alive HTTP/1.1 connections to plain-HTTP backends, each exchange driven by the
//! request's own task (see [`super::h1`]).
//!
//! A request takes the most recently used idle connection to its backend (one lock,
//! one hash lookup). The connection comes back when its response body has been read to
//! the end: at once when the body arrived with the head, otherwise after the body's last
//! byte. An idle connection the backend has closed meanwhile is noticed before use
//! without a system call; one closed in the instant between that check and the request
//! going out is retried on another connection when the request is safe to repeat.

use super::client::{CONNECT_TIMEOUT, IDLE_TIMEOUT};
use super::h1::{BackendBody, Connection, ExchangeError, GiveBack, ResponseHead};
use super::upstream::UpstreamHead;
use crate::http::{Body, Request};
use http::uri::Authority;
use http::Method;
use rustc_hash::FxHashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

/// How often idle connections past `IDLE_TIMEOUT` are looked for and closed.
const SWEEP_EVERY: Duration = Duration::from_secs(30);

/// Why a request did not get a response.
#[derive(Debug, thiserror::Error)]
pub enum Http1Error {
    #[error("cannot connect to {authority}: {source}")]
    Connect {
        authority: Authority,
        source: std::io::Error,
    },
    #[error("connecting to {0} took longer than {CONNECT_TIMEOUT:?}")]
    ConnectTimeout(Authority),
    #[error("HTTP/1.1 exchange with {authority} failed: {source}")]
    Exchange {
        authority: Authority,
        source: ExchangeError,
    },
}

#[derive(Clone)]
pub struct Http1Pool {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Http1Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http1Pool")
            .field("max_idle_per_host", &self.shared.max_idle_per_host)
            .finish()
    }
}

struct Shared {
    /// Keyed by backend address, which comes from the configuration, never from a
    /// client: a fast hash is safe here (see the note on `rustc-hash`). The key is the
    /// address as text: `Authority` hashes and compares byte by byte, ignoring case,
    /// which cost more than the rest of the lookup.
    idle: Mutex<FxHashMap<Box<str>, Vec<Idle>>>,
    /// Idle connections kept per backend; 0 closes each one after its response.
    max_idle_per_host: usize,
    sweeping: std::sync::Once,
}

struct Idle {
    connection: Connection,
    since: Instant,
}

impl Http1Pool {
    pub fn new(max_idle_per_host: usize) -> Self {
        Http1Pool {
            shared: Arc::new(Shared {
                idle: Mutex::new(FxHashMap::default()),
                max_idle_per_host,
                sweeping: std::sync::Once::new(),
            }),
        }
    }

    /// Sends `request` (its URI absolute, `http://`, its headers ready to go) and
    /// returns the response, whose body hands the connection back when read to its end.
    pub async fn request(&self, request: Request, body_limit: Option<u64>) -> Result<http::Response<Body>, Http1Error> {
        let (parts, body) = request.into_parts();
        let head = UpstreamHead::of_prepared(&parts).expect("upstream requests carry an absolute URI");
        self.send(&head, body, body_limit).await
    }

    /// Sends `head` and `body` to `head.backend` and returns the response, whose body
    /// hands the connection back when read to its end.
    pub async fn send(
        &self,
        head: &UpstreamHead<'_>,
        mut body: Body,
        body_limit: Option<u64>,
    ) -> Result<http::Response<Body>, Http1Error> {
        let authority = head.backend;
        let exchange_failed = |source| Http1Error::Exchange {
            authority: authority.clone(),
            source,
        };

        while let Some(mut connection) = self.take(authority) {
            match connection.send(head, &mut body).await {
                Ok(response) => return Ok(self.respond(response, connection, authority, body_limit)),
                // Most likely closed by the backend while idle, before it saw this
                // request: try the next connection, if sending again is safe.
                Err(e) if connection.unanswered() && can_repeat(head.method, &body) => {
                    tracing::debug!(%authority, error = %e, "pooled connection failed unanswered; retrying");
                }
                Err(e) => return Err(exchange_failed(e)),
            }
        }
        let mut connection = connect(authority).await?;
        match connection.send(head, &mut body).await {
            Ok(response) => Ok(self.respond(response, connection, authority, body_limit)),
            Err(e) => Err(exchange_failed(e)),
        }
    }

    /// The response for `head`. A body that already arrived whole becomes bytes in
    /// memory and the connection goes back at once; otherwise the body reads on from
    /// the connection and hands it back at its end.
    fn respond(
        &self,
        head: ResponseHead,
        mut connection: Connection,
        authority: &Authority,
        body_limit: Option<u64>,
    ) -> http::Response<Body> {
        let ResponseHead {
            parts,
            framing,
            keep_alive,
        } = head;
        let body = match connection.whole_body(framing) {
            Some(body) => {
                if keep_alive && connection.is_drained() {
                    self.put(authority, connection);
                }
                body
            }
            None => {
                let give_back = self.give_back(authority);
                Body::from_backend(BackendBody::new(connection, framing, keep_alive, give_back), body_limit)
            }
        };
        http::Response::from_parts(parts, body)
    }

    fn put(&self, authority: &Authority, connection: Connection) {
        if self.shared.max_idle_per_host > 0 {
            self.start_sweeping();
            self.shared.put(authority, connection);
        }
    }

    /// How a streamed body returns its connection (`None` when none are kept).
    fn give_back(&self, authority: &Authority) -> Option<GiveBack> {
        if self.shared.max_idle_per_host == 0 {
            return None;
        }
        self.start_sweeping();
        let pool = Arc::downgrade(&self.shared);
        let authority = authority.clone();
        Some(Box::new(move |connection| {
            if let Some(shared) = pool.upgrade() {
                shared.put(&authority, connection);
            }
        }))
    }

    /// The most recently used idle connection to `authority` that still looks open.
    fn take(&self, authority: &Authority) -> Option<Connection> {
        let mut idle = self.shared.idle.lock().unwrap_or_else(|e| e.into_inner());
        let list = idle.get_mut(authority.as_str())?;
        while let Some(Idle { connection, since }) = list.pop() {
            if since.elapsed() < IDLE_TIMEOUT && connection.looks_open() {
                return Some(connection);
            }
        }
        None
    }

    /// Closes idle connections past `IDLE_TIMEOUT` every `SWEEP_EVERY`, for as long as
    /// the pool exists, so a burst of traffic does not hold sockets open for ever.
    fn start_sweeping(&self) {
        self.shared.sweeping.call_once(|| {
            tokio::spawn(sweep(Arc::downgrade(&self.shared)));
        });
    }
}

/// Whether a request may be sent again after a connection failed before any answer:
/// its body is still in memory and its method is idempotent (RFC 9110 §9.2.2), so a
/// backend that did see it the first time comes to no harm.
fn can_repeat(method: &Method, body: &Body) -> bool {
    let idempotent = matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE | Method::PUT | Method::DELETE
    );
    idempotent && body.as_bytes().is_some()
}

impl Shared {
    fn put(&self, authority: &Authority, connection: Connection) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        let idle_one = Idle {
            connection,
            since: Instant::now(),
        };
        // Looked up by reference first: the key is copied only the first time.
        match idle.get_mut(authority.as_str()) {
            Some(list) if list.len() < self.max_idle_per_host => list.push(idle_one),
            Some(_) => {}
            None => {
                idle.insert(authority.as_str().into(), vec![idle_one]);
            }
        }
    }
}

async fn sweep(pool: Weak<Shared>) {
    loop {
        tokio::time::sleep(SWEEP_EVERY).await;
        let Some(shared) = pool.upgrade() else { return };
        let mut idle = shared.idle.lock().unwrap_or_else(|e| e.into_inner());
        for list in idle.values_mut() {
            list.retain(|c| c.since.elapsed() < IDLE_TIMEOUT && c.connection.looks_open());
        }
        idle.retain(|_, list| !list.is_empty());
    }
}

/// A new connection to `authority`.
async fn connect(authority: &Authority) -> Result<Connection, Http1Error> {
    let host = authority.host().trim_matches(|c| c == '[' || c == ']');
    let port = authority.port_u16().unwrap_or(80);
    let stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect((host, port)))
        .await
        .map_err(|_| Http1Error::ConnectTimeout(authority.clone()))?
        .map_err(|source| Http1Error::Connect {
            authority: authority.clone(),
            source,
        })?;
    // Small requests and responses go out at once rather than waiting on Nagle.
    let _ = stream.set_nodelay(true);
    Ok(Connection::new(stream))
}
