//! HTTPServer: listeners (HTTP/1.1, h2c, TLS with ALPN h2), connection limits, and the
//! handoff of each request to the router and its pipeline.

pub mod h1;
mod handler;
pub mod limits;
mod listener;
mod metered_body;
mod prefixed;
pub mod tls;

pub use listener::RunningServer;

use crate::access_log::AccessLog;
use crate::config::{FieldError, HttpServerSpec};
use crate::metrics::ServerStats;
use crate::registry::PipelineRegistry;
use crate::router::Router;
use hyper::server::conn::http2;
use hyper_util::rt::TokioExecutor;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;

/// Everything derived from one version of an HTTPServer spec. A running server holds
/// the current version behind an `ArcSwap`: each new connection and each request reads
/// it, so a reload replaces routes, limits, certificates and connection settings
/// without touching the listening socket.
pub struct ServerShared {
    pub name: String,
    pub router: Router,
    pub client_max_body_size: i64,
    pub x_forwarded_for: bool,
    pub tls: Option<TlsAcceptor>,
    /// HTTP/1.1 is served by Weir's own code, HTTP/2 by hyper.
    pub h1: h1::Settings,
    pub h2: http2::Builder<TokioExecutor>,
    pub max_connections: u32,
    /// `None` when `accessLog` is off.
    pub access_log: Option<Arc<AccessLog>>,
    /// Looked up once here, not per request.
    pub stats: Arc<ServerStats>,
}

/// A validated server, ready to bind and start (or to replace a running one's settings).
pub struct HttpServer {
    pub spec: HttpServerSpec,
    shared: Arc<ServerShared>,
}

impl HttpServer {
    /// Compiles the routes and TLS settings. Nothing is bound yet.
    pub fn build(spec: &HttpServerSpec, pipelines: &PipelineRegistry) -> Result<HttpServer, FieldError> {
        if spec.port == 0 {
            return Err(FieldError::new("port", "must be between 1 and 65535"));
        }
        if spec.max_connections == 0 {
            return Err(FieldError::new("maxConnections", "must be at least 1"));
        }
        if spec.client_max_body_size < -1 {
            return Err(FieldError::new(
                "clientMaxBodySize",
                "must be -1 (stream), 0 (default 4 MiB) or a size in bytes",
            ));
        }
        self::listen_addr(spec)?;
        // Checked even when the log is off, so that turning it on cannot fail later.
        let access_log =
            AccessLog::new(spec.access_log_format.as_deref()).map_err(|e| FieldError::new("accessLogFormat", e))?;
        let tls = if spec.https {
            Some(tls::server_config(spec)?)
        } else {
            if !spec.certs.is_empty() || spec.cert_base64.is_some() {
                tracing::warn!(server = %spec.name, "certificates are configured but https is false; serving plain HTTP");
            }
            None
        };
        let shared = Arc::new(ServerShared {
            name: spec.name.clone(),
            router: Router::build(spec, pipelines)?,
            client_max_body_size: spec.client_max_body_size,
            x_forwarded_for: spec.x_forwarded_for,
            tls: tls.map(TlsAcceptor::from),
            h1: listener::h1_settings(spec),
            h2: listener::h2_builder(spec),
            max_connections: spec.max_connections,
            access_log: spec.access_log.then(|| Arc::new(access_log)),
            stats: crate::metrics::global().server(&spec.name),
        });
        Ok(HttpServer {
            spec: spec.clone(),
            shared,
        })
    }

    pub fn listen_addr(&self) -> SocketAddr {
        listen_addr(&self.spec).expect("checked in build")
    }
}

fn listen_addr(spec: &HttpServerSpec) -> Result<SocketAddr, FieldError> {
    let ip = if spec.address.is_empty() {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    } else {
        spec.address
            .trim_matches(|c| c == '[' || c == ']')
            .parse()
            .map_err(|_| FieldError::new("address", format!("{:?} is not an IP address", spec.address)))?
    };
    Ok(SocketAddr::new(ip, spec.port))
}
