//! A real HTTP backend for tests and demos. It echoes what it received as JSON, and the
//! request can steer it: `x-backend-status` picks the status, `x-backend-delay-ms` delays
//! the answer, `x-backend-body-size` asks for a body of that many bytes. `/health`
//! answers with a status the test sets, and [`Backend::fail_next`] makes the next
//! requests fail. It can serve TLS with h2 and HTTP/1.1 (ALPN).

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use rustls_pki_types::pem::PemObject;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

/// What the backend saw of one request.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub uri: String,
    pub version: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
pub struct BackendOptions {
    pub name: String,
    /// Listen on this port instead of a fresh one (to bring a stopped backend back).
    pub port: Option<u16>,
    /// Serve TLS with this certificate and key (PEM).
    pub tls: Option<(String, String)>,
}

struct State {
    name: String,
    hits: AtomicUsize,
    received: AtomicUsize,
    connections: AtomicUsize,
    health: AtomicU16,
    recorded: Mutex<Vec<Recorded>>,
    /// Requests still to be failed, and with which status.
    failing: AtomicUsize,
    failing_status: AtomicU16,
}

pub struct Backend {
    pub addr: SocketAddr,
    pub name: String,
    tls: bool,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl Backend {
    pub async fn start(name: &str) -> Backend {
        Backend::start_with(BackendOptions {
            name: name.into(),
            ..Default::default()
        })
        .await
    }

    pub async fn start_with(options: BackendOptions) -> Backend {
        let listener = TcpListener::bind(("127.0.0.1", options.port.unwrap_or(0)))
            .await
            .expect("backend bind");
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State {
            name: options.name.clone(),
            hits: AtomicUsize::new(0),
            received: AtomicUsize::new(0),
            connections: AtomicUsize::new(0),
            health: AtomicU16::new(200),
            recorded: Mutex::new(Vec::new()),
            failing: AtomicUsize::new(0),
            failing_status: AtomicU16::new(503),
        });
        let tls = options.tls.as_ref().map(|(cert, key)| tls_acceptor(cert, key));
        let task = tokio::spawn(serve(listener, state.clone(), tls.clone()));
        Backend {
            addr,
            name: options.name,
            tls: tls.is_some(),
            state,
            task,
        }
    }

    pub fn url(&self) -> String {
        format!(
            "{}://127.0.0.1:{}",
            if self.tls { "https" } else { "http" },
            self.addr.port()
        )
    }

    /// Requests answered, `/health` probes excluded.
    pub fn hits(&self) -> usize {
        self.state.hits.load(Ordering::SeqCst)
    }

    /// Requests that have arrived, counted before any delay (answered or not).
    pub fn received(&self) -> usize {
        self.state.received.load(Ordering::SeqCst)
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.recorded.lock().unwrap().clone()
    }

    /// The status `/health` answers with.
    /// Answers the next `count` requests (not health checks) with `status` and an
    /// empty body; `usize::MAX` fails every request until the next call.
    pub fn fail_next(&self, count: usize, status: u16) {
        self.state.failing_status.store(status, Ordering::SeqCst);
        self.state.failing.store(count, Ordering::SeqCst);
    }

    pub fn set_health(&self, status: u16) {
        self.state.health.store(status, Ordering::SeqCst);
    }

    /// Stops listening and drops every open connection.
    pub fn stop(self) {
        self.task.abort();
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(listener: TcpListener, state: Arc<State>, tls: Option<tokio_rustls::TlsAcceptor>) {
    // Connections live in this set so that stopping the backend ends them too.
    let mut connections = JoinSet::new();
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted { Ok(a) => a, Err(_) => continue },
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        state.connections.fetch_add(1, Ordering::SeqCst);
        let state = state.clone();
        let tls = tls.clone();
        connections.spawn(async move {
            let service = service_fn(move |request| {
                let state = state.clone();
                async move { Ok::<_, Infallible>(answer(request, peer, &state).await) }
            });
            let builder = auto::Builder::new(TokioExecutor::new());
            match tls {
                Some(acceptor) => {
                    if let Ok(stream) = acceptor.accept(stream).await {
                        let _ = builder.serve_connection(TokioIo::new(stream), service).await;
                    }
                }
                None => {
                    let _ = builder.serve_connection(TokioIo::new(stream), service).await;
                }
            }
        });
    }
}

async fn answer(request: http::Request<Incoming>, peer: SocketAddr, state: &State) -> http::Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    if parts.uri.path() == "/health" {
        let mut response = http::Response::new(Full::new(Bytes::from_static(b"health\n")));
        *response.status_mut() = http::StatusCode::from_u16(state.health.load(Ordering::SeqCst)).unwrap();
        return response;
    }
    state.received.fetch_add(1, Ordering::SeqCst);
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    if let Some(ms) = header("x-backend-delay-ms").and_then(|v| v.parse().ok()) {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let recorded = Recorded {
        method: parts.method.to_string(),
        uri: parts.uri.to_string(),
        version: format!("{:?}", parts.version),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| (k.to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    state.hits.fetch_add(1, Ordering::SeqCst);
    state.recorded.lock().unwrap().push(recorded.clone());
    let fail = state
        .failing
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| match left {
            0 => None,
            usize::MAX => Some(usize::MAX),
            n => Some(n - 1),
        })
        .is_ok();
    if fail {
        let mut response = http::Response::new(Full::new(Bytes::new()));
        *response.status_mut() = http::StatusCode::from_u16(state.failing_status.load(Ordering::SeqCst)).unwrap();
        response.headers_mut().insert("x-backend", state.name.parse().unwrap());
        return response;
    }

    let payload = match header("x-backend-body-size").and_then(|v| v.parse::<usize>().ok()) {
        Some(size) => Bytes::from(vec![b'x'; size]),
        None => Bytes::from(
            serde_json::json!({
                "backend": state.name,
                "method": recorded.method,
                "uri": recorded.uri,
                "version": recorded.version,
                "peer": peer.to_string(),
                "headers": recorded.headers.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>(),
                "body": recorded.body,
            })
            .to_string(),
        ),
    };
    let mut response = http::Response::new(Full::new(payload));
    if let Some(status) = header("x-backend-status").and_then(|v| v.parse().ok()) {
        *response.status_mut() = http::StatusCode::from_u16(status).unwrap();
    }
    response.headers_mut().insert("x-backend", state.name.parse().unwrap());
    response
        .headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    response
}

fn tls_acceptor(cert_pem: &str, key_pem: &str) -> tokio_rustls::TlsAcceptor {
    let certs = rustls_pki_types::CertificateDer::pem_slice_iter(cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = rustls_pki_types::PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).unwrap();
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}
