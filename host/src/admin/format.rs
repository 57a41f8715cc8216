//! Content negotiation for the admin API: JSON unless the client asks for YAML (as
//! Easegress does), and request bodies in either.

use bytes::Bytes;
use http::header::{HeaderValue, ACCEPT, CONTENT_TYPE};
use http::{HeaderMap, StatusCode};
use http_body_util::Full;

pub type AdminResponse = http::Response<Full<Bytes>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Yaml,
}

impl Format {
    pub fn wanted(headers: &HeaderMap) -> Format {
        let accept = headers.get(ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
        if accept.contains("yaml") {
            Format::Yaml
        } else {
            Format::Json
        }
    }
}

/// A value in the requested format.
pub fn value(status: StatusCode, format: Format, value: &impl serde::Serialize) -> AdminResponse {
    let (body, content_type) = match format {
        Format::Json => (serde_json::to_vec_pretty(value).unwrap_or_default(), "application/json"),
        Format::Yaml => (
            serde_yaml::to_string(value).unwrap_or_default().into_bytes(),
            "application/yaml",
        ),
    };
    respond(status, content_type, body)
}

/// A plain-text message (errors), with a newline.
pub fn message(status: StatusCode, text: impl std::fmt::Display) -> AdminResponse {
    respond(status, "text/plain; charset=utf-8", format!("{text}\n").into_bytes())
}

pub fn respond(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> AdminResponse {
    let mut response = http::Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
