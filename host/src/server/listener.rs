//! The accept loop of one HTTPServer and the serving of each connection, with graceful
//! shutdown: stop accepting, let requests in flight finish, then close.

use super::framing::{FramingWatch, Watched};
use super::{handler, limits, HttpServer, ServerShared};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

/// A server that is accepting connections.
pub struct RunningServer {
    pub name: String,
    pub addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl RunningServer {
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
        tracing::info!(server = %name, %addr, https = self.tls.is_some(), "listening");
        let task = tokio::spawn(accept_loop(self, listener, stopped));
        RunningServer { name, addr, stop, task }
    }

    fn connection_builder(&self) -> auto::Builder<TokioExecutor> {
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .keep_alive(self.spec.keep_alive)
            .header_read_timeout(self.spec.keep_alive_timeout)
            .max_buf_size(limits::MAX_HEAD_BYTES)
            .max_headers(limits::MAX_HEADERS);
        builder
            .http2()
            .timer(TokioTimer::new())
            .max_header_list_size(limits::H2_MAX_HEADER_LIST_BYTES)
            .max_concurrent_streams(limits::H2_MAX_CONCURRENT_STREAMS)
            .keep_alive_interval(self.spec.keep_alive.then_some(self.spec.keep_alive_timeout));
        builder
    }
}

async fn accept_loop(server: HttpServer, listener: TcpListener, mut stopped: watch::Receiver<bool>) {
    let builder = Arc::new(server.connection_builder());
    let tls = server.tls.clone().map(TlsAcceptor::from);
    let shared = server.shared.clone();
    let slots = Arc::new(Semaphore::new(server.spec.max_connections as usize));
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
                    tracing::warn!(server = %shared.name, error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    continue;
                }
            },
            _ = stopped.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        let builder = builder.clone();
        let shared = shared.clone();
        let tls = tls.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let _permit = permit;
            serve_connection(stream, peer, tls, &builder, shared, watcher).await;
        });
    }
    drop(listener);
    graceful.shutdown().await;
    tracing::info!(server = %shared.name, "stopped");
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    tls: Option<TlsAcceptor>,
    builder: &auto::Builder<TokioExecutor>,
    shared: Arc<ServerShared>,
    watcher: hyper_util::server::graceful::Watcher,
) {
    let framing = Arc::new(FramingWatch::default());
    let watch = framing.clone();
    let service = service_fn(move |request| {
        let shared = shared.clone();
        let framing = framing.clone();
        async move { Ok::<_, Infallible>(handler::handle(request, peer, &shared, &framing).await) }
    });
    let result = match tls {
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
