//! The accept loop of one HTTPServer and the serving of each connection, with graceful
//! shutdown (stop accepting, let requests in flight finish, then close) and live
//! settings (see [`ServerShared`]).

use super::framing::{FramingWatch, Watched};
use super::{handler, limits, HttpServer, ServerShared};
use crate::config::HttpServerSpec;
use arc_swap::ArcSwap;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinHandle;

/// A server that is accepting connections.
pub struct RunningServer {
    pub name: String,
    pub addr: SocketAddr,
    live: Arc<ArcSwap<ServerShared>>,
    /// Free connection slots; resized when `maxConnections` changes.
    slots: Arc<Semaphore>,
    spec: Mutex<HttpServerSpec>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl RunningServer {
    /// The spec the server currently runs.
    pub fn spec(&self) -> HttpServerSpec {
        self.spec.lock().expect("spec lock").clone()
    }

    /// Replaces routes, limits, certificates and connection settings. New connections
    /// and new requests use them at once; requests already running finish as they began.
    pub fn update(&self, server: HttpServer) {
        let old = self.live.load().max_connections;
        let new = server.shared.max_connections;
        if new > old {
            self.slots.add_permits((new - old) as usize);
        } else if old > new {
            // Slots in use now are given back by their connections; only idle ones shrink
            // the limit at once.
            self.slots.forget_permits((old - new) as usize);
        }
        self.live.store(server.shared);
        *self.spec.lock().expect("spec lock") = server.spec;
    }

    /// Stops accepting, asks every connection to finish its current requests and close,
    /// and resolves when the last one has.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

impl HttpServer {
    /// Binds the listening socket. Done for every server before any starts, so a port
    /// in use refuses the whole configuration.
    pub async fn bind(&self) -> std::io::Result<TcpListener> {
        TcpListener::bind(self.listen_addr()).await
    }

    /// Starts accepting on `listener`.
    pub fn start(self, listener: TcpListener) -> RunningServer {
        let addr = listener.local_addr().unwrap_or_else(|_| self.listen_addr());
        let (stop, stopped) = watch::channel(false);
        let name = self.spec.name.clone();
        tracing::info!(server = %name, %addr, https = self.shared.tls.is_some(), "listening");
        let slots = Arc::new(Semaphore::new(self.shared.max_connections as usize));
        let live = Arc::new(ArcSwap::new(self.shared));
        let task = tokio::spawn(accept_loop(listener, live.clone(), slots.clone(), stopped));
        RunningServer {
            name,
            addr,
            live,
            slots,
            spec: Mutex::new(self.spec),
            stop,
            task,
        }
    }
}

/// hyper's connection settings for a spec, with Weir's limits set explicitly.
pub(super) fn connection_builder(spec: &HttpServerSpec) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .keep_alive(spec.keep_alive)
        .header_read_timeout(spec.keep_alive_timeout)
        .max_buf_size(limits::MAX_HEAD_BYTES)
        .max_headers(limits::MAX_HEADERS);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(limits::H2_MAX_HEADER_LIST_BYTES)
        .max_concurrent_streams(limits::H2_MAX_CONCURRENT_STREAMS)
        .keep_alive_interval(spec.keep_alive.then_some(spec.keep_alive_timeout));
    builder
}

async fn accept_loop(
    listener: TcpListener,
    live: Arc<ArcSwap<ServerShared>>,
    slots: Arc<Semaphore>,
    mut stopped: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    loop {
        let permit = tokio::select! {
            permit = slots.clone().acquire_owned() => permit.expect("semaphore is never closed"),
            _ = stopped.changed() => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Usually out of file descriptors; back off briefly instead of spinning.
                    tracing::warn!(server = %live.load().name, error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    continue;
                }
            },
            _ = stopped.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        let live = live.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let _permit = permit;
            serve_connection(stream, peer, live, watcher).await;
        });
    }
    drop(listener);
    graceful.shutdown().await;
    tracing::info!(server = %live.load().name, "stopped");
}

async fn serve_connection(stream: TcpStream, peer: SocketAddr, live: Arc<ArcSwap<ServerShared>>, watcher: Watcher) {
    // A connection keeps the TLS and protocol settings it was accepted with; its requests
    // always see the current routes.
    let settings = live.load_full();
    let framing = Arc::new(FramingWatch::default());
    let watch = framing.clone();
    let service = service_fn(move |request| {
        let live = live.clone();
        let framing = framing.clone();
        async move {
            // An owned pointer, not an arc-swap guard: the request may wait a long time.
            let server = live.load_full();
            Ok::<_, Infallible>(handler::handle(request, peer, &server, &framing).await)
        }
    });
    let builder = &settings.connections;
    let result = match &settings.tls {
        Some(acceptor) => match tokio::time::timeout(limits::TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
            Ok(Ok(stream)) => {
                watcher
                    .watch(builder.serve_connection(TokioIo::new(Watched::new(stream, watch)), service))
                    .await
            }
            Ok(Err(e)) => {
                tracing::debug!(%peer, error = %e, "TLS handshake failed");
                return;
            }
            Err(_) => {
                tracing::debug!(%peer, "TLS handshake timed out");
                return;
            }
        },
        None => {
            watcher
                .watch(builder.serve_connection(TokioIo::new(Watched::new(stream, watch)), service))
                .await
        }
    };
    if let Err(e) = result {
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
}
