//! The access log: one line per request, written through `tracing` at INFO with target
//! `weir::access`, in a format like Easegress's `accessLogFormat`. The format is parsed
//! when the server is built; a request only copies what its line will show, and only
//! when the line will be written.

mod format;

pub use format::{Format, Segment, Variable, DEFAULT_FORMAT};

use crate::metrics::Exchange;
use http::{HeaderMap, Method, Uri, Version};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

/// The `tracing` target of access-log lines: filter on it (`WEIR_LOG=info,weir::access=off`)
/// or route it to its own writer.
pub const TARGET: &str = "weir::access";

/// `URI` is cut to this many characters, as in Easegress.
const MAX_URI_CHARS: usize = 512;

/// One server's access log.
#[derive(Debug)]
pub struct AccessLog {
    format: Format,
}

/// What one request's line needs, gathered while it is served and written when its
/// response is done.
pub struct Entry {
    log: Arc<AccessLog>,
    started: SystemTime,
    remote: SocketAddr,
    method: Method,
    uri: Uri,
    version: Version,
    real_ip: Option<String>,
    request_headers: Option<HeaderMap>,
    response_headers: Option<HeaderMap>,
    tags: String,
}

impl AccessLog {
    /// Parses `format` (the default when `None`).
    pub fn new(format: Option<&str>) -> Result<AccessLog, String> {
        Ok(AccessLog {
            format: Format::parse(format.unwrap_or(DEFAULT_FORMAT))?,
        })
    }

    /// Whether a line would be written now; false when the subscriber filters the
    /// target out, so that nothing is gathered for nothing.
    pub fn enabled() -> bool {
        tracing::enabled!(target: TARGET, tracing::Level::INFO)
    }

    /// Starts the entry of a request that just arrived from `remote`.
    pub fn begin<B>(self: &Arc<Self>, request: &http::Request<B>, remote: SocketAddr) -> Box<Entry> {
        let uses = |v| self.format.uses(v);
        let headers = request.headers();
        Box::new(Entry {
            log: self.clone(),
            started: SystemTime::now(),
            remote,
            method: request.method().clone(),
            uri: request.uri().clone(),
            version: request.version(),
            real_ip: uses(Variable::RealIp).then(|| real_ip(headers, remote)),
            request_headers: uses(Variable::ReqHeaders).then(|| headers.clone()),
            response_headers: None,
            tags: String::new(),
        })
    }
}

/// The first `X-Forwarded-For` address, else `X-Real-IP`, else the peer's.
fn real_ip(headers: &HeaderMap, remote: SocketAddr) -> String {
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    header("x-forwarded-for")
        .and_then(|v| v.split(',').next())
        .or_else(|| header("x-real-ip"))
        .map(str::trim)
        .filter(|ip| !ip.is_empty())
        .map_or_else(|| remote.ip().to_canonical().to_string(), str::to_string)
}

fn write_headers(out: &mut String, headers: Option<&HeaderMap>) {
    let mut object = serde_json::Map::new();
    for (name, value) in headers.into_iter().flatten() {
        let value = String::from_utf8_lossy(value.as_bytes());
        match object.get_mut(name.as_str()) {
            Some(serde_json::Value::String(existing)) => {
                existing.push_str(", ");
                existing.push_str(&value);
            }
            _ => {
                object.insert(name.as_str().to_string(), value.into_owned().into());
            }
        }
    }
    out.push_str(&serde_json::Value::Object(object).to_string());
}

impl Entry {
    /// Keeps the response headers, if the format shows them.
    pub fn response_head<B>(&mut self, response: &mut http::Response<B>) {
        if self.log.format.uses(Variable::RespHeaders) {
            crate::http::raw_headers::into_map(response);
            self.response_headers = Some(response.headers().clone());
        }
    }

    /// Adds a tag (shown by `{{Tags}}`).
    pub fn tag(&mut self, tag: std::fmt::Arguments<'_>) {
        if !self.tags.is_empty() {
            self.tags.push_str(", ");
        }
        let _ = self.tags.write_fmt(tag);
    }

    /// The line for this request, which ended as `exchange` says.
    pub fn render(&self, exchange: &Exchange) -> String {
        let mut out = String::with_capacity(192);
        for segment in &self.log.format.segments {
            let variable = match segment {
                Segment::Text(text) => {
                    out.push_str(text);
                    continue;
                }
                Segment::Variable(v) => v,
            };
            let _ = match variable {
                Variable::Time => {
                    crate::timestamp::write_rfc3339_millis(&mut out, self.started);
                    Ok(())
                }
                Variable::RemoteAddr => write!(out, "{}", self.remote),
                Variable::RealIp => write!(out, "{}", self.real_ip.as_deref().unwrap_or_default()),
                Variable::Method => write!(out, "{}", self.method),
                Variable::Uri => {
                    let uri = self.uri.path_and_query().map_or("/", |p| p.as_str());
                    match uri.char_indices().nth(MAX_URI_CHARS) {
                        Some((cut, _)) => out.push_str(&uri[..cut]),
                        None => out.push_str(uri),
                    }
                    Ok(())
                }
                Variable::Proto => write!(out, "{:?}", self.version),
                Variable::StatusCode => write!(out, "{}", exchange.status),
                Variable::Duration => write!(out, "{:?}", exchange.duration),
                Variable::ReqSize => write!(out, "{}", exchange.request_bytes),
                Variable::RespSize => write!(out, "{}", exchange.response_bytes),
                Variable::ReqHeaders => {
                    write_headers(&mut out, self.request_headers.as_ref());
                    Ok(())
                }
                Variable::RespHeaders => {
                    write_headers(&mut out, self.response_headers.as_ref());
                    Ok(())
                }
                Variable::Tags => {
                    out.push_str(&self.tags);
                    Ok(())
                }
            };
        }
        out
    }

    /// Writes the line.
    pub fn write(&self, exchange: &Exchange) {
        tracing::info!(target: TARGET, "{}", self.render(exchange));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn entry(format: &str, request: http::Request<()>) -> Box<Entry> {
        let log = Arc::new(AccessLog::new(Some(format)).unwrap());
        let mut entry = log.begin(&request, "192.0.2.7:40000".parse().unwrap());
        entry.started = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        entry
    }

    fn exchange() -> Exchange {
        Exchange {
            status: 201,
            duration: Duration::from_micros(1500),
            request_bytes: 12,
            response_bytes: 345,
        }
    }

    #[test]
    fn the_default_format_shows_every_field() {
        let request = http::Request::post("/items?id=3").body(()).unwrap();
        let mut entry = entry(DEFAULT_FORMAT, request);
        entry.tag(format_args!("pipeline: {}", "items"));
        assert_eq!(
            entry.render(&exchange()),
            "[2023-11-14T22:13:20.123Z] [192.0.2.7:40000 192.0.2.7 POST /items?id=3 HTTP/1.1 201] \
             [1.5ms rx:12B tx:345B] [pipeline: items]"
        );
    }

    #[test]
    fn real_ip_prefers_forwarded_for_then_real_ip() {
        let forwarded = http::Request::get("/")
            .header("x-forwarded-for", " 203.0.113.1 , 10.0.0.1")
            .header("x-real-ip", "198.51.100.2")
            .body(())
            .unwrap();
        assert_eq!(entry("{{RealIP}}", forwarded).render(&exchange()), "203.0.113.1");
        let real = http::Request::get("/")
            .header("x-real-ip", "198.51.100.2")
            .body(())
            .unwrap();
        assert_eq!(entry("{{RealIP}}", real).render(&exchange()), "198.51.100.2");
    }

    #[test]
    fn headers_render_as_one_json_object() {
        let request = http::Request::get("/")
            .header("accept", "text/plain")
            .header("x-multi", "a")
            .header("x-multi", "b\"c")
            .body(())
            .unwrap();
        let mut entry = entry("{{ReqHeaders}} {{RespHeaders}}", request);
        let mut response = http::Response::builder()
            .header("content-type", "text/html")
            .body(())
            .unwrap();
        entry.response_head(&mut response);
        assert_eq!(
            entry.render(&exchange()),
            r#"{"accept":"text/plain","x-multi":"a, b\"c"} {"content-type":"text/html"}"#
        );
    }

    #[test]
    fn only_what_the_format_shows_is_copied() {
        let request = http::Request::get("/")
            .header("x-forwarded-for", "1.2.3.4")
            .body(())
            .unwrap();
        let mut entry = entry("{{Method}}", request);
        entry.response_head(&mut http::Response::new(()));
        assert!(entry.request_headers.is_none() && entry.response_headers.is_none() && entry.real_ip.is_none());
    }

    #[test]
    fn long_uris_are_cut() {
        let path = format!("/{}", "a".repeat(600));
        let request = http::Request::get(path.as_str()).body(()).unwrap();
        let line = entry("{{URI}}", request).render(&exchange());
        assert_eq!(line.chars().count(), MAX_URI_CHARS);
        let h2 = http::Request::get("https://example.com/x?y")
            .version(Version::HTTP_2)
            .body(())
            .unwrap();
        assert_eq!(entry("{{Proto}} {{URI}}", h2).render(&exchange()), "HTTP/2.0 /x?y");
    }
}
