//! Outbound calls a filter may make: the URL prefixes its `allowedUrls` lists, and the
//! one HTTP client every filter shares.

use crate::http::Body;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::sync::OnceLock;
use std::time::Duration;

pub type OutboundClient = Client<HttpsConnector<HttpConnector>, Body>;

/// The longest an outbound call may take, whatever the guest asks for.
pub const MAX_CALL_TIME: Duration = Duration::from_secs(30);

#[derive(Debug, Default)]
pub struct HttpPolicy {
    allowed_prefixes: Vec<String>,
}

impl HttpPolicy {
    pub fn new(allowed_prefixes: Vec<String>) -> Self {
        HttpPolicy { allowed_prefixes }
    }

    /// Whether `url` starts with an allowed prefix. Prefixes are compared as written,
    /// so `http://auth.internal/` does not allow `http://auth.internal.evil/`.
    pub fn allows(&self, url: &str) -> bool {
        self.allowed_prefixes.iter().any(|p| url.starts_with(p.as_str()))
    }

    pub fn client(&self) -> Result<&'static OutboundClient, String> {
        static CLIENT: OnceLock<Result<OutboundClient, String>> = OnceLock::new();
        CLIENT
            .get_or_init(|| {
                let https = HttpsConnectorBuilder::new()
                    .with_native_roots()
                    .map_err(|e| format!("no TLS roots for outbound calls: {e}"))?
                    .https_or_http()
                    .enable_http1()
                    .build();
                Ok(Client::builder(TokioExecutor::new()).build(https))
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_listed_prefixes_are_allowed() {
        let policy = HttpPolicy::new(vec!["http://auth.internal/".into()]);
        assert!(policy.allows("http://auth.internal/introspect"));
        assert!(!policy.allows("http://auth.internal.evil/"));
        assert!(!HttpPolicy::default().allows("http://anything/"));
    }
}
