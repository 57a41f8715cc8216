//! The admin endpoint. For now it answers `/healthz`, so orchestrators and scripts can
//! tell when Weir is up; the objects API, status and metrics build on it.

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::convert::Infallible;
use std::net::SocketAddr;
use tokio::net::TcpListener;

/// Binds the admin address; call [`serve`] to answer on it.
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

pub async fn serve(listener: TcpListener) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        tokio::spawn(async move {
            let service = service_fn(|request: http::Request<hyper::body::Incoming>| async move {
                let (status, body) = match request.uri().path() {
                    "/healthz" => (200, "ok\n"),
                    _ => (404, "not found\n"),
                };
                let mut response = http::Response::new(Full::new(Bytes::from_static(body.as_bytes())));
                *response.status_mut() = http::StatusCode::from_u16(status).expect("valid status");
                Ok::<_, Infallible>(response)
            });
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
