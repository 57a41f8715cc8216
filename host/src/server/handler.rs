//! Serving one request: route it, apply the path's body limit and rewrite, and run the
//! backend pipeline. Every refusal here is native and never reaches a filter.

use super::metered_body::MeteredBody;
use super::ServerShared;
use crate::access_log::{AccessLog, Entry};
use crate::config::http_server::DEFAULT_MAX_BODY_SIZE;
use crate::http::{responses, Body, BodyError, Response};
use crate::router::RouteRequest;
use http::header::{HeaderValue, CONTENT_LENGTH, HOST};
use http::{StatusCode, Uri};
use http_body::Body as _;
use std::borrow::Cow;
use std::net::SocketAddr;
use std::pin::pin;
use std::time::Instant;

/// What serving a request learns that its figures and log line need.
struct Served {
    /// Request body bytes: all of them when buffered, the declared length when
    /// streamed to the pipeline, 0 when refused before reading.
    request_bytes: u64,
    log: Option<Box<Entry>>,
}

/// Handles one request from `client`. Its figures are recorded, and its access-log
/// line written, when the response body has been sent.
pub async fn handle(
    request: http::Request<Body>,
    client: SocketAddr,
    server: &ServerShared,
) -> http::Response<MeteredBody> {
    let started = Instant::now();
    let mut served = Served {
        request_bytes: 0,
        log: match &server.access_log {
            Some(log) if AccessLog::enabled() => Some(log.begin(&request, client)),
            _ => None,
        },
    };
    // Pinned where it is made, as `respond` pins the pipeline's run: awaiting a future
    // by value copies it, and each of these is over a kilobyte.
    let response = pin!(respond(request, client, server, &mut served)).await;
    MeteredBody::wrap(
        response,
        started,
        served.request_bytes,
        server.stats.clone(),
        served.log,
    )
}

/// Routes the request and runs its pipeline, noting in `served` what was learnt.
async fn respond(
    request: http::Request<Body>,
    client: SocketAddr,
    server: &ServerShared,
    served: &mut Served,
) -> Response {
    let (mut parts, body) = request.into_parts();
    let router = &server.router;
    let route = {
        let host = request_host(&parts);
        router.route(&RouteRequest {
            method: &parts.method,
            host: &host,
            path: parts.uri.path(),
            query: parts.uri.query(),
            headers: &parts.headers,
            client_ip: client.ip(),
        })
    };
    let path = match route {
        Ok(path) => path,
        Err(status) => return responses::empty(status),
    };

    let body = match read_body(
        body,
        &parts.headers,
        path.client_max_body_size.unwrap_or(server.client_max_body_size),
    )
    .await
    {
        Ok(body) => body,
        Err(status) => return responses::empty(status),
    };
    served.request_bytes = match body.as_bytes() {
        Some(bytes) => bytes.len() as u64,
        None => body.size_hint().exact().unwrap_or(0),
    };

    if let Some(new_path) = path.rewrite(parts.uri.path()) {
        match with_path(&parts.uri, &new_path) {
            Some(uri) => parts.uri = uri,
            None => {
                return responses::text(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "rewriteTarget produced an invalid path",
                )
            }
        }
    }
    if server.x_forwarded_for {
        append_forwarded_for(&mut parts.headers, client);
    }

    let Some(pipeline) = path.pipeline.load_full() else {
        return responses::empty(StatusCode::SERVICE_UNAVAILABLE);
    };
    if let Some(log) = &mut served.log {
        log.tag(format_args!("pipeline: {}", pipeline.name()));
    }
    let running = pin!(pipeline.run(http::Request::from_parts(parts, body), client));
    running.await
}

/// The host the client asked for, lower-case and without port: the URI's authority
/// (HTTP/2, absolute-form) or else the Host header.
fn request_host(parts: &http::request::Parts) -> Cow<'_, str> {
    let raw = parts
        .uri
        .host()
        .or_else(|| parts.headers.get(HOST).and_then(|h| h.to_str().ok()))
        .unwrap_or("");
    let without_port = match raw.rfind(':') {
        // Leave bracketed IPv6 literals ("[::1]") intact when they have no port.
        Some(i) if !raw[i..].contains(']') => &raw[..i],
        _ => raw,
    };
    if without_port.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(without_port.to_ascii_lowercase())
    } else {
        Cow::Borrowed(without_port)
    }
}

/// Applies the body limit: 413 when the body is (or turns out) larger, 400 when it
/// cannot be read. A limit of -1 streams the body without buffering.
async fn read_body(mut body: Body, headers: &http::HeaderMap, limit: i64) -> Result<Body, StatusCode> {
    if body.is_end_stream() {
        return Ok(Body::Empty);
    }
    if limit < 0 {
        return Ok(body);
    }
    let limit = if limit == 0 {
        DEFAULT_MAX_BODY_SIZE
    } else {
        limit as u64
    };
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(StatusCode::PAYLOAD_TOO_LARGE);
    }
    body.limit(limit);
    match body.buffer().await {
        Ok(_) => Ok(body),
        Err(BodyError::TooLarge(_)) => Err(StatusCode::PAYLOAD_TOO_LARGE),
        Err(BodyError::Read(_) | BodyError::Backend(_) | BodyError::Client(_)) => Err(StatusCode::BAD_REQUEST),
    }
}

fn with_path(uri: &Uri, path: &str) -> Option<Uri> {
    let path_and_query = match uri.query() {
        Some(q) => format!("{path}?{q}"),
        None => path.to_string(),
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(path_and_query.parse().ok()?);
    Uri::from_parts(parts).ok()
}

fn append_forwarded_for(headers: &mut http::HeaderMap, client: SocketAddr) {
    let ip = client.ip().to_canonical().to_string();
    let value = match headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()) {
        Some(existing) if !existing.is_empty() => format!("{existing}, {ip}"),
        _ => ip,
    };
    if let Ok(value) = HeaderValue::from_str(&value) {
        headers.insert("x-forwarded-for", value);
    }
}
