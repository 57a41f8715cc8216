//! The admin API (default 127.0.0.1:2381): configuration objects, their status,
//! Prometheus metrics and a health check. The CLI is a client of it.
//!
//! | path | methods |
//! |---|---|
//! | `/healthz` | GET |
//! | `/metrics` | GET (Prometheus text) |
//! | `/apis/v2/objects`, `/apis/v2/objects/{name}` | GET, POST, PUT, DELETE (see `objects.rs`) |
//! | `/apis/v2/status/objects/{name}` | GET: figures for one object and the last reload |
//! | `/apis/v2/status/reloads` | GET: outcome of the last configuration change |

pub mod auth;
mod format;
mod objects;

pub use auth::AdminAuth;

use crate::app::App;
use crate::store::ConfigStore;
use bytes::Bytes;
use format::{AdminResponse, Format};
use http::{Method, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::convert::Infallible;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Largest request body the admin API reads.
const MAX_BODY: usize = 8 * 1024 * 1024;

pub struct Admin {
    pub app: Arc<App>,
    pub store: Arc<ConfigStore>,
    pub auth: AdminAuth,
}

/// Answers admin requests on `listener` until the task is aborted.
pub async fn serve(listener: TcpListener, admin: Arc<Admin>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let admin = admin.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let admin = admin.clone();
                async move { Ok::<_, Infallible>(handle(&admin, request).await) }
            });
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn handle(admin: &Admin, request: http::Request<hyper::body::Incoming>) -> AdminResponse {
    let (parts, body) = request.into_parts();
    let format = Format::wanted(&parts.headers);
    let path = parts.uri.path().trim_end_matches('/');
    let mutation = matches!(parts.method, Method::POST | Method::PUT | Method::DELETE);
    if mutation
        && !admin
            .auth
            .allows_mutation(parts.headers.get(http::header::AUTHORIZATION).map(|v| v.as_bytes()))
    {
        return format::message(
            StatusCode::UNAUTHORIZED,
            "this change needs `Authorization: Bearer TOKEN`",
        );
    }
    let body: Bytes = match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => return format::message(StatusCode::PAYLOAD_TOO_LARGE, format!("cannot read the body: {e}")),
    };

    let object_name = path
        .strip_prefix("/apis/v2/objects/")
        .filter(|n| !n.is_empty() && !n.contains('/'));
    let status_name = path
        .strip_prefix("/apis/v2/status/objects/")
        .filter(|n| !n.is_empty() && !n.contains('/'));
    match (&parts.method, path) {
        (&Method::GET, "/healthz") => format::message(StatusCode::OK, "ok"),
        (&Method::GET, "/metrics") => metrics(),
        (&Method::GET, "/apis/v2/objects") => objects::list(admin, format).await,
        (&Method::POST, "/apis/v2/objects") => objects::create(admin, &body).await,
        (&Method::GET, "/apis/v2/status/reloads") => format::value(StatusCode::OK, format, &admin.store.log.to_json()),
        (method, _) => match (method, object_name, status_name) {
            (&Method::GET, Some(name), _) => objects::get(admin, name, format).await,
            (&Method::PUT, Some(name), _) => objects::update(admin, name, &body).await,
            (&Method::DELETE, Some(name), _) => objects::delete(admin, name).await,
            (&Method::GET, _, Some(name)) => status(admin, name, format).await,
            (_, None, None) => format::message(StatusCode::NOT_FOUND, format!("no admin endpoint at {path}")),
            _ => format::message(
                StatusCode::METHOD_NOT_ALLOWED,
                format!("{method} is not allowed on {path}"),
            ),
        },
    }
}

async fn status(admin: &Admin, name: &str, format: Format) -> AdminResponse {
    let Some(object) = admin.app.objects().await.into_iter().find(|o| o.spec.name() == name) else {
        return format::message(StatusCode::NOT_FOUND, format!("no object is named {name:?}"));
    };
    let status = serde_json::json!({
        "name": name,
        "kind": object.spec.kind(),
        "figures": crate::metrics::global().status(object.spec.kind(), name),
        "reloads": admin.store.log.to_json(),
    });
    format::value(StatusCode::OK, format, &status)
}

fn metrics() -> AdminResponse {
    let text = crate::metrics::global().prometheus_text();
    format::respond(
        StatusCode::OK,
        "text/plain; version=0.0.4; charset=utf-8",
        text.into_bytes(),
    )
}
