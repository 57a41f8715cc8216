//! Keep-alive HTTP/1.1 connections to plain-HTTP backends, driven from the request's
//! own task.
//!
//! hyper-util's general client (still used for `https://` backends, where ALPN may pick
//! h2) spawns a task per request to notice when a connection is free again, and moves
//! large futures around while checking out and racing a new connect. Profiles of the
//! pass-through benchmark put that at about a tenth of the proxy's CPU. Here a
//! connection goes back to its pool when its response body has been read to the end
//! (`Body::received`), and a request takes the most recently used idle connection
//! with one lock and one hash lookup.

use super::client::{CONNECT_TIMEOUT, IDLE_TIMEOUT};
use crate::http::body::OnEnd;
use crate::http::{Body, Request};
use http::header::HOST;
use http::uri::{Authority, PathAndQuery};
use http::{HeaderValue, Uri};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
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
    Exchange { authority: Authority, source: hyper::Error },
}

#[derive(Clone, Debug)]
pub struct Http1Pool {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    /// Keyed by backend address, which comes from the configuration, never from a
    /// client: a fast hash is safe here (see the note on `rustc-hash`).
    idle: Mutex<FxHashMap<Authority, Vec<Idle>>>,
    /// Idle connections kept per backend; 0 closes each one after its response.
    max_idle_per_host: usize,
    sweeping: std::sync::Once,
}

#[derive(Debug)]
struct Idle {
    sender: SendRequest<Body>,
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

    /// Sends `request` (its URI absolute, `http://`) and returns the response, whose
    /// body hands the connection back when read to its end.
    pub async fn request(
        &self,
        mut request: Request,
        body_limit: Option<u64>,
    ) -> Result<http::Response<Body>, Http1Error> {
        let authority = request
            .uri()
            .authority()
            .cloned()
            .expect("upstream requests carry an absolute URI");
        to_origin_form(&mut request, &authority);

        // A pooled connection may have been closed by the backend since it was used. A
        // request it could not even start sending is handed back by hyper and tried
        // on the next connection, then on a new one.
        while let Some(mut sender) = self.take(&authority) {
            if sender.ready().await.is_err() {
                continue;
            }
            match sender.try_send_request(request).await {
                Ok(response) => return Ok(self.with_return(response, sender, authority, body_limit)),
                Err(mut failed) => match failed.take_message() {
                    Some(unsent) => request = unsent,
                    None => {
                        return Err(Http1Error::Exchange {
                            authority,
                            source: failed.into_error(),
                        })
                    }
                },
            }
        }
        let mut sender = connect(&authority).await?;
        match sender.send_request(request).await {
            Ok(response) => Ok(self.with_return(response, sender, authority, body_limit)),
            Err(source) => Err(Http1Error::Exchange { authority, source }),
        }
    }

    /// The response with a body that returns `sender` to the pool at its end.
    fn with_return(
        &self,
        response: http::Response<Incoming>,
        sender: SendRequest<Body>,
        authority: Authority,
        body_limit: Option<u64>,
    ) -> http::Response<Body> {
        // With no idle connections kept, dropping the sender closes the connection once
        // this response is done.
        let give_back = (self.shared.max_idle_per_host > 0).then(|| {
            self.start_sweeping();
            let pool = Arc::downgrade(&self.shared);
            OnEnd::new(move || {
                if let Some(shared) = pool.upgrade() {
                    shared.put(authority, sender);
                }
            })
        });
        response.map(|incoming| Body::received(incoming, body_limit, give_back))
    }

    /// The most recently used idle connection to `authority` that is still open.
    fn take(&self, authority: &Authority) -> Option<SendRequest<Body>> {
        let mut idle = self.shared.idle.lock().unwrap_or_else(|e| e.into_inner());
        let list = idle.get_mut(authority)?;
        while let Some(Idle { sender, since }) = list.pop() {
            if !sender.is_closed() && since.elapsed() < IDLE_TIMEOUT {
                return Some(sender);
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

impl Shared {
    fn put(&self, authority: Authority, sender: SendRequest<Body>) {
        if sender.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        let list = idle.entry(authority).or_default();
        if list.len() < self.max_idle_per_host {
            list.push(Idle {
                sender,
                since: Instant::now(),
            });
        }
    }
}

async fn sweep(pool: Weak<Shared>) {
    loop {
        tokio::time::sleep(SWEEP_EVERY).await;
        let Some(shared) = pool.upgrade() else { return };
        let mut idle = shared.idle.lock().unwrap_or_else(|e| e.into_inner());
        for list in idle.values_mut() {
            list.retain(|c| !c.sender.is_closed() && c.since.elapsed() < IDLE_TIMEOUT);
        }
        idle.retain(|_, list| !list.is_empty());
    }
}

/// A new connection, its HTTP/1 state machine running in a task of its own.
async fn connect(authority: &Authority) -> Result<SendRequest<Body>, Http1Error> {
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
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|source| Http1Error::Exchange {
            authority: authority.clone(),
            source,
        })?;
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::debug!(%error, "upstream connection ended with an error");
        }
    });
    Ok(sender)
}

/// HTTP/1.1 to an origin server names the path only, and needs a Host header.
fn to_origin_form(request: &mut Request, authority: &Authority) {
    let path = request
        .uri()
        .path_and_query()
        .cloned()
        .unwrap_or_else(|| PathAndQuery::from_static("/"));
    *request.uri_mut() = Uri::from(path);
    if !request.headers().contains_key(HOST) {
        if let Ok(host) = HeaderValue::from_str(authority.as_str()) {
            request.headers_mut().insert(HOST, host);
        }
    }
}
