//! The accept loop of one HTTPServer and the serving of each connection, with graceful
//! shutdown (stop accepting, let requests in flight finish, then close) and live
//! settings (see [`ServerShared`]).

use super::prefixed::Prefixed;
use super::{h1, handler, limits, HttpServer, ServerShared};
use crate::config::HttpServerSpec;
use crate::http::Body;
use arc_swap::ArcSwap;
use bytes::BytesMut;
use hyper::server::conn::http2;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinHandle;

/// What an HTTP/2 client sends first (RFC 9113 §3.4).
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

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

/// The HTTP/1.1 connection settings of a spec (Weir's own server).
pub(super) fn h1_settings(spec: &HttpServerSpec) -> h1::Settings {
    h1::Settings {
        keep_alive: spec.keep_alive,
        head_timeout: spec.keep_alive_timeout,
    }
}

/// hyper's HTTP/2 connection settings for a spec, with Weir's limits set explicitly.
pub(super) fn h2_builder(spec: &HttpServerSpec) -> http2::Builder<TokioExecutor> {
    let mut builder = http2::Builder::new(TokioExecutor::new());
    builder
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
        let stop = stopped.clone();
        tokio::spawn(async move {
            let _permit = permit;
            serve_connection(stream, peer, live, watcher, stop).await;
        });
    }
    drop(listener);
    graceful.shutdown().await;
    tracing::info!(server = %live.load().name, "stopped");
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    live: Arc<ArcSwap<ServerShared>>,
    watcher: Watcher,
    stop: watch::Receiver<bool>,
) {
    // A connection keeps the TLS and protocol settings it was accepted with; its requests
    // always see the current routes.
    let settings = live.load_full();
    let Some(acceptor) = &settings.tls else {
        // A TCP stream splits into owned halves, with no lock between them.
        let split = |stream: TcpStream| {
            let (reader, writer) = stream.into_split();
            (Box::new(reader) as h1::Reader, writer)
        };
        return serve_sniffed(stream, split, peer, live, &settings, watcher, stop).await;
    };
    let stream = match tokio::time::timeout(limits::TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => {
            tracing::debug!(%peer, error = %e, "TLS handshake failed");
            return;
        }
        Err(_) => {
            tracing::debug!(%peer, "TLS handshake timed out");
            return;
        }
    };
    if stream.get_ref().1.alpn_protocol() == Some(b"h2") {
        return serve_h2(stream, peer, live, &settings, watcher).await;
    }
    let split = |stream| {
        let (reader, writer) = tokio::io::split(stream);
        (Box::new(reader) as h1::Reader, writer)
    };
    serve_sniffed(stream, split, peer, live, &settings, watcher, stop).await;
}

/// Serves a connection whose protocol its first bytes tell: HTTP/2 with prior knowledge
/// (the preface), else HTTP/1.1 on the halves `split` makes of it.
async fn serve_sniffed<IO, W>(
    mut stream: IO,
    split: impl FnOnce(IO) -> (h1::Reader, W),
    peer: SocketAddr,
    live: Arc<ArcSwap<ServerShared>>,
    settings: &ServerShared,
    watcher: Watcher,
    stop: watch::Receiver<bool>,
) where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    W: AsyncWrite + Unpin,
{
    let Some(first) = first_bytes(&mut stream, settings.h1.head_timeout, stop.clone()).await else {
        return;
    };
    if first.starts_with(H2_PREFACE) {
        return serve_h2(Prefixed::new(first, stream), peer, live, settings, watcher).await;
    }
    let (reader, writer) = split(stream);
    let side = h1::ReadSide {
        reader,
        buffered: first,
    };
    // Holding the watcher makes the server's shutdown wait for this connection.
    let _watcher = watcher;
    h1::serve(side, writer, peer, live, settings.h1, stop).await;
}

/// The first bytes of a connection, enough to tell an HTTP/2 preface from anything
/// else. `None` when the client closed, was silent too long, or the server is stopping.
async fn first_bytes<IO: AsyncRead + Unpin>(
    stream: &mut IO,
    timeout: Duration,
    mut stop: watch::Receiver<bool>,
) -> Option<BytesMut> {
    let mut first = BytesMut::with_capacity(8 * 1024);
    let read = async {
        loop {
            if stream.read_buf(&mut first).await.ok()? == 0 {
                return None;
            }
            let known = first.len().min(H2_PREFACE.len());
            if first.len() >= H2_PREFACE.len() || first[..known] != H2_PREFACE[..known] {
                return Some(());
            }
        }
    };
    tokio::select! {
        read = tokio::time::timeout(timeout, read) => read.ok().flatten()?,
        _ = stop.wait_for(|stopped| *stopped) => return None,
    }
    Some(first)
}

async fn serve_h2<IO>(
    stream: IO,
    peer: SocketAddr,
    live: Arc<ArcSwap<ServerShared>>,
    settings: &ServerShared,
    watcher: Watcher,
) where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |request: http::Request<hyper::body::Incoming>| {
        let live = live.clone();
        async move {
            // An owned pointer, not an arc-swap guard: the request may wait a long time.
            let server = live.load_full();
            let request = request.map(|incoming| Body::received(incoming, None));
            let mut response = handler::handle(request, peer, &server).await;
            // hyper writes the header map only.
            crate::http::raw_headers::into_map(&mut response);
            Ok::<_, Infallible>(response)
        }
    });
    let connection = settings.h2.serve_connection(TokioIo::new(stream), service);
    if let Err(e) = watcher.watch(connection).await {
        tracing::debug!(%peer, error = %e, "HTTP/2 connection ended with an error");
    }
}
