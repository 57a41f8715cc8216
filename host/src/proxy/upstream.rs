//! Building the request a backend receives: its URL, its headers (hop-by-hop removed,
//! Host chosen as Easegress does), and its body.

use crate::config::FieldError;
use crate::http::{hop_by_hop, Body, Request};
use http::header::{CONTENT_LENGTH, HOST};
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{HeaderValue, Uri, Version};

/// One backend server of a pool, parsed once.
#[derive(Debug)]
pub struct Server {
    pub base: Uri,
    scheme: Scheme,
    authority: Authority,
    /// Path prefix from the server URL, without a trailing `/` ("" when none).
    base_path: String,
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
        let host_header = HeaderValue::from_str(authority.as_str()).map_err(|_| FieldError::new("url", "bad host"))?;
        let base_path = base.path().trim_end_matches('/').to_string();
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

    /// The request to send to this server for `request`. A streaming body is moved out
    /// of `request` (it can be read only once); an in-memory body is shared.
    pub fn upstream_request(&self, request: &mut Request, set_upstream_host: bool) -> Result<Request, http::Error> {
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

        let mut headers = request.headers().clone();
        hop_by_hop::strip(&mut headers);
        let keep_client_host = self.keep_host || (self.is_ip && !set_upstream_host);
        if keep_client_host {
            // HTTP/2 clients send :authority instead of Host.
            if !headers.contains_key(HOST) {
                if let Some(authority) = request.uri().authority() {
                    if let Ok(value) = HeaderValue::from_str(authority.as_str()) {
                        headers.insert(HOST, value);
                    }
                }
            }
        } else {
            headers.insert(HOST, self.host_header.clone());
        }

        let body = match request.body().try_clone() {
            Some(copy) => copy,
            None => std::mem::take(request.body_mut()),
        };
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
        *upstream.method_mut() = request.method().clone();
        *upstream.uri_mut() = uri;
        // The client picks HTTP/1.1 or h2 per connection (ALPN); it expects 1.1 here.
        *upstream.version_mut() = Version::HTTP_11;
        *upstream.headers_mut() = headers;
        Ok(upstream)
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
