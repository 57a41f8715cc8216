//! Building the request a backend receives: its URL, its headers (hop-by-hop removed,
//! Host chosen as Easegress does), and its body.
//!
//! Plain-HTTP backends are sent an [`UpstreamHead`], a view of the client's request
//! that the HTTP/1.1 client writes out directly; TLS backends (through hyper's client)
//! get a request of their own from [`Server::upstream_request`].

use crate::config::FieldError;
use crate::http::{hop_by_hop, Body, Request};
use http::header::{CONTENT_LENGTH, HOST};
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{HeaderMap, HeaderValue, Method, Uri, Version};

/// The head of a request to a plain-HTTP backend, borrowed from the request it is sent
/// for: the headers are written out as they stand, leaving out what a proxy must not
/// pass on, instead of being copied into a new request first.
#[derive(Debug)]
pub struct UpstreamHead<'a> {
    /// The backend's address: where to connect, and which idle connections fit.
    pub backend: &'a Authority,
    pub method: &'a Method,
    /// Goes before `path_and_query`: the server URL's own path ("" when none).
    pub path_prefix: &'a str,
    pub path_and_query: &'a str,
    pub headers: &'a HeaderMap,
    /// The Host to send: in place of the one in `headers` when `replace_host`, else only
    /// when `headers` has none.
    pub host: &'a str,
    pub replace_host: bool,
    /// `headers` may still hold hop-by-hop headers, which are left out.
    pub strip_hop_by_hop: bool,
}

impl<'a> UpstreamHead<'a> {
    /// The head of a request already made for its backend (absolute URI, hop-by-hop
    /// headers removed), sent as it is.
    pub fn of_prepared(parts: &'a http::request::Parts) -> Option<UpstreamHead<'a>> {
        let backend = parts.uri.authority()?;
        Some(UpstreamHead {
            backend,
            method: &parts.method,
            path_prefix: "",
            path_and_query: parts.uri.path_and_query().map_or("/", PathAndQuery::as_str),
            headers: &parts.headers,
            host: backend.as_str(),
            replace_host: false,
            strip_hop_by_hop: false,
        })
    }
}

/// One backend server of a pool, parsed once.
#[derive(Debug)]
pub struct Server {
    pub base: Uri,
    scheme: Scheme,
    authority: Authority,
    /// Path prefix from the server URL, without a trailing `/` ("" when none).
    base_path: String,
    /// `authority` as a Host value, made once: cloning it shares its bytes, where
    /// making it per request would allocate a copy each time.
    host_header: HeaderValue,
    /// The server is given by IP address, so the client's Host means more to it.
    is_ip: bool,
    keep_host: bool,
}

impl Server {
    pub fn parse(url: &str, keep_host: bool) -> Result<Server, FieldError> {
        let base: Uri = url
            .parse()
            .map_err(|e| FieldError::new("url", format!("{url:?} is not a URL: {e}")))?;
        let scheme = base
            .scheme()
            .cloned()
            .ok_or_else(|| FieldError::new("url", format!("{url:?} needs http:// or https://")))?;
        if scheme != Scheme::HTTP && scheme != Scheme::HTTPS {
            return Err(FieldError::new(
                "url",
                format!("{url:?}: only http and https backends are supported"),
            ));
        }
        let authority = base
            .authority()
            .cloned()
            .ok_or_else(|| FieldError::new("url", format!("{url:?} has no host")))?;
        let host = authority.host().trim_matches(|c| c == '[' || c == ']');
        let is_ip = host.parse::<std::net::IpAddr>().is_ok();
        let base_path = base.path().trim_end_matches('/').to_string();
        let host_header = HeaderValue::from_str(authority.as_str()).map_err(|_| FieldError::new("url", "bad host"))?;
        Ok(Server {
            base,
            scheme,
            authority,
            base_path,
            host_header,
            is_ip,
            keep_host,
        })
    }

    /// Whether requests go out over plain HTTP (as an [`UpstreamHead`]).
    pub fn is_plain_http(&self) -> bool {
        self.scheme == Scheme::HTTP
    }

    /// The head to send to this server for `request`, borrowed from it. Host is the
    /// client's when this server is given by IP address (unless `set_upstream_host`) or
    /// keeps it, and this server's own otherwise.
    pub fn upstream_head<'a>(&'a self, request: &'a Request, set_upstream_host: bool) -> UpstreamHead<'a> {
        let keeps_client_host = self.keep_host || (self.is_ip && !set_upstream_host);
        // HTTP/2 clients send :authority instead of Host.
        let client_authority = request.uri().authority().map(Authority::as_str);
        let host = match client_authority {
            Some(authority) if keeps_client_host => authority,
            _ => self.authority.as_str(),
        };
        UpstreamHead {
            backend: &self.authority,
            method: request.method(),
            path_prefix: &self.base_path,
            path_and_query: request.uri().path_and_query().map_or("/", PathAndQuery::as_str),
            headers: request.headers(),
            host,
            replace_host: !keeps_client_host,
            strip_hop_by_hop: true,
        }
    }

    /// The request to send to this server for `request`. A streaming body is moved out
    /// of `request` (it can be read only once); an in-memory body is shared.
    pub fn upstream_request(&self, request: &mut Request, set_upstream_host: bool) -> Result<Request, http::Error> {
        let body = body_to_send(request);
        let head = self.upstream_head(request, set_upstream_host);
        let path_and_query = match (self.base_path.is_empty(), request.uri().path_and_query()) {
            (true, Some(pq)) => pq.clone(),
            (true, None) => PathAndQuery::from_static("/"),
            (false, pq) => {
                let pq = pq.map(|pq| pq.as_str()).unwrap_or("/");
                PathAndQuery::try_from(format!("{}{pq}", self.base_path))?
            }
        };
        let uri = Uri::builder()
            .scheme(self.scheme.clone())
            .authority(self.authority.clone())
            .path_and_query(path_and_query)
            .build()?;

        let mut headers = head.headers.clone();
        hop_by_hop::strip(&mut headers);
        if head.replace_host || !headers.contains_key(HOST) {
            let host = if head.host == self.authority.as_str() {
                self.host_header.clone()
            } else {
                HeaderValue::from_str(head.host)?
            };
            headers.insert(HOST, host);
        }

        // Filters may have replaced an in-memory body; send its true length.
        match &body {
            Body::Full(bytes) => {
                headers.insert(CONTENT_LENGTH, HeaderValue::from(bytes.len()));
            }
            Body::Empty if headers.contains_key(CONTENT_LENGTH) => {
                headers.insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
            }
            _ => {}
        }

        let mut upstream = Request::new(body);
        *upstream.method_mut() = head.method.clone();
        *upstream.uri_mut() = uri;
        // The client picks HTTP/1.1 or h2 per connection (ALPN); it expects 1.1 here.
        *upstream.version_mut() = Version::HTTP_11;
        *upstream.headers_mut() = headers;
        Ok(upstream)
    }
}

/// The body to send for `request`: a copy of one in memory, or else the stream itself,
/// moved out (it can be read only once).
pub fn body_to_send(request: &mut Request) -> Body {
    match request.body().try_clone() {
        Some(copy) => copy,
        None => std::mem::take(request.body_mut()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(uri: &str, host: &str) -> Request {
        let mut r = Request::new(Body::Empty);
        *r.uri_mut() = uri.parse().unwrap();
        r.headers_mut().insert(HOST, host.parse().unwrap());
        r.headers_mut().insert("connection", "keep-alive".parse().unwrap());
        r
    }

    #[test]
    fn ip_server_keeps_client_host_and_joins_base_path() {
        let s = Server::parse("http://127.0.0.1:9000/base/", false).unwrap();
        let up = s
            .upstream_request(&mut request("/a?b=1", "example.com"), false)
            .unwrap();
        assert_eq!(up.uri().to_string(), "http://127.0.0.1:9000/base/a?b=1");
        assert_eq!(up.headers()[HOST], "example.com");
        assert!(!up.headers().contains_key("connection"));
    }

    #[test]
    fn named_server_sends_its_own_host_unless_keep_host() {
        let s = Server::parse("http://backend.local:9000", false).unwrap();
        let up = s.upstream_request(&mut request("/", "example.com"), false).unwrap();
        assert_eq!(up.headers()[HOST], "backend.local:9000");
        let s = Server::parse("http://backend.local:9000", true).unwrap();
        let up = s.upstream_request(&mut request("/", "example.com"), false).unwrap();
        assert_eq!(up.headers()[HOST], "example.com");
    }

    #[test]
    fn rejects_other_schemes() {
        assert!(Server::parse("ftp://x", false).is_err());
        assert!(Server::parse("/relative", false).is_err());
    }
}
