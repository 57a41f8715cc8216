//! `kind: CORSAdaptor`, with the rules of Go's rs/cors that Easegress uses:
//!
//! - no `Origin` header: not a CORS request, the flow goes on;
//! - a preflight (`OPTIONS` with `Access-Control-Request-Method`) from an allowed origin
//!   asking for an allowed method and headers is answered 204 with the
//!   `Access-Control-Allow-*` headers, result `preflighted`;
//! - any other request from an allowed origin goes on, and its response gets
//!   `Access-Control-Allow-Origin` (and `-Expose-Headers`, `-Allow-Credentials`) in the
//!   response phase;
//! - a request the policy refuses gets an empty 200 without any `Access-Control-*`
//!   header (so the browser blocks it) and the result `rejected`; `jumpIf` may route it
//!   elsewhere.

use serde::Deserialize;
use weir_sdk::{BuiltResponse, Config, Exchange, Filter, Outcome, Phases, Request};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Spec {
    #[serde(default = "any_origin")]
    allowed_origins: Vec<String>,
    #[serde(default = "simple_methods")]
    allowed_methods: Vec<String>,
    #[serde(default = "simple_headers")]
    allowed_headers: Vec<String>,
    #[serde(default)]
    allow_credentials: bool,
    #[serde(default)]
    exposed_headers: Vec<String>,
    /// Seconds a browser may cache a preflight; 0 sends no `Access-Control-Max-Age`.
    #[serde(default)]
    max_age: u32,
}

fn any_origin() -> Vec<String> {
    vec!["*".into()]
}
fn simple_methods() -> Vec<String> {
    ["HEAD", "GET", "POST"].map(String::from).to_vec()
}
/// rs/cors's default.
fn simple_headers() -> Vec<String> {
    ["Origin", "Accept", "Content-Type", "X-Requested-With"]
        .map(String::from)
        .to_vec()
}

/// An allowed origin: exact, or with one `*` standing for any run of characters.
enum OriginRule {
    Any,
    Exact(String),
    Wildcard(String, String),
}

impl OriginRule {
    fn parse(text: &str) -> Result<OriginRule, String> {
        let text = text.to_ascii_lowercase();
        if text == "*" {
            return Ok(OriginRule::Any);
        }
        match text.split_once('*') {
            None => Ok(OriginRule::Exact(text)),
            Some((_, after)) if after.contains('*') => Err(format!("{text:?} has more than one wildcard")),
            Some((before, after)) => Ok(OriginRule::Wildcard(before.into(), after.into())),
        }
    }

    fn matches(&self, origin: &str) -> bool {
        match self {
            OriginRule::Any => true,
            OriginRule::Exact(o) => o == origin,
            OriginRule::Wildcard(before, after) => {
                origin.len() >= before.len() + after.len() && origin.starts_with(before) && origin.ends_with(after)
            }
        }
    }
}

pub struct CorsAdaptor {
    origins: Vec<OriginRule>,
    any_origin: bool,
    methods: Vec<String>,
    headers: Vec<String>,
    any_header: bool,
    credentials: bool,
    exposed: String,
    max_age: u32,
}

impl CorsAdaptor {
    fn origin_allowed(&self, origin: &str) -> bool {
        let origin = origin.to_ascii_lowercase();
        self.origins.iter().any(|r| r.matches(&origin))
    }

    /// `*` only when any origin is fine and no credentials travel: browsers refuse `*`
    /// with credentials.
    fn allow_origin_value(&self, origin: &str) -> String {
        if self.any_origin && !self.credentials {
            "*".into()
        } else {
            origin.into()
        }
    }

    fn preflight(&self, request: &Request, origin: &str) -> Option<BuiltResponse> {
        let method = request.header("access-control-request-method")?.to_ascii_uppercase();
        // OPTIONS itself is always fine to ask for, as in rs/cors.
        if !self.origin_allowed(origin) || (method != "OPTIONS" && !self.methods.contains(&method)) {
            return None;
        }
        let asked: Vec<String> = request
            .header_all("access-control-request-headers")
            .iter()
            .flat_map(|v| v.split(','))
            .map(|h| h.trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .collect();
        if !self.any_header && !asked.iter().all(|h| self.headers.contains(h)) {
            return None;
        }
        let mut response = BuiltResponse::new(204)
            .header("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
            .header("Access-Control-Allow-Origin", self.allow_origin_value(origin))
            .header("Access-Control-Allow-Methods", method);
        if !asked.is_empty() {
            response = response.header("Access-Control-Allow-Headers", asked.join(", "));
        }
        if self.credentials {
            response = response.header("Access-Control-Allow-Credentials", "true");
        }
        if self.max_age > 0 {
            response = response.header("Access-Control-Max-Age", self.max_age.to_string());
        }
        Some(response)
    }

    /// Whether a request that is not a preflight may be read cross-origin.
    fn actual_allowed(&self, request: &Request, origin: &str) -> bool {
        let method = request.method().to_ascii_uppercase();
        self.origin_allowed(origin) && (method == "OPTIONS" || self.methods.contains(&method))
    }

    fn reject(exchange: &Exchange) -> Outcome {
        match exchange.set_response(BuiltResponse::new(200)) {
            Ok(()) => Outcome::Result("rejected".into()),
            Err(_) => Outcome::Respond(BuiltResponse::new(200)),
        }
    }
}

impl Filter for CorsAdaptor {
    const PHASES: Phases = Phases::BOTH;

    fn new(config: Config) -> Result<Self, String> {
        let spec: Spec = config.parse()?;
        let origins = spec
            .allowed_origins
            .iter()
            .enumerate()
            .map(|(i, o)| OriginRule::parse(o).map_err(|e| format!("allowedOrigins[{i}]: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        let headers: Vec<String> = spec.allowed_headers.iter().map(|h| h.to_ascii_lowercase()).collect();
        // It reads headers and answers; nothing it does waits.
        weir_sdk::runtime::never_waits();
        Ok(CorsAdaptor {
            any_origin: origins.iter().any(|o| matches!(o, OriginRule::Any)),
            origins,
            methods: spec.allowed_methods.iter().map(|m| m.to_ascii_uppercase()).collect(),
            any_header: headers.iter().any(|h| h == "*"),
            headers,
            credentials: spec.allow_credentials,
            exposed: spec.exposed_headers.join(", "),
            max_age: spec.max_age,
        })
    }

    fn on_request(&self, exchange: &Exchange) -> Outcome {
        let Some(request) = exchange.request() else {
            return Outcome::Continue;
        };
        let Some(origin) = request.header("origin") else {
            return Outcome::Continue;
        };
        let is_preflight =
            request.method() == "OPTIONS" && request.header("access-control-request-method").is_some();
        if is_preflight {
            return match self.preflight(&request, &origin) {
                Some(response) => match exchange.set_response(response) {
                    Ok(()) => Outcome::Result("preflighted".into()),
                    Err(e) => Outcome::Respond(BuiltResponse::new(500).body(format!("CORSAdaptor: {e}\n"))),
                },
                None => Self::reject(exchange),
            };
        }
        if !self.actual_allowed(&request, &origin) {
            return Self::reject(exchange);
        }
        Outcome::Continue
    }

    fn on_response(&self, exchange: &Exchange) -> Outcome {
        let (Some(request), Some(response)) = (exchange.request(), exchange.response()) else {
            return Outcome::Continue;
        };
        let Some(origin) = request.header("origin") else {
            return Outcome::Continue;
        };
        // Preflights and rejections already carry what they should.
        if request.method() == "OPTIONS" && request.header("access-control-request-method").is_some() {
            return Outcome::Continue;
        }
        // A rejected request must leave without the headers that would let it through.
        if !self.actual_allowed(&request, &origin) || response.header("access-control-allow-origin").is_some() {
            return Outcome::Continue;
        }
        let mut set = vec![("Access-Control-Allow-Origin", self.allow_origin_value(&origin))];
        if !self.exposed.is_empty() {
            set.push(("Access-Control-Expose-Headers", self.exposed.clone()));
        }
        if self.credentials {
            set.push(("Access-Control-Allow-Credentials", "true".into()));
        }
        for (name, value) in set {
            // A value the host refuses came from config we validated; nothing to add.
            let _ = response.set_header(name, &value);
        }
        let _ = response.add_header("Vary", "Origin");
        Outcome::Continue
    }
}

weir_sdk::export_filter!(CorsAdaptor);

#[cfg(test)]
mod tests {
    use super::*;
    use weir_sdk::testing::{Harness, TestExchange, TestRequest, TestResponse};

    const CONFIG: &str = r#"{"allowedOrigins":["https://*.example.com"],"allowedMethods":["GET","PUT"],
        "allowedHeaders":["X-Token"],"exposedHeaders":["X-Trace"],"maxAge":600,"allowCredentials":true}"#;

    fn preflight(origin: &str, method: &str, headers: &str) -> TestExchange {
        TestExchange::new(
            TestRequest::new("OPTIONS", "/api")
                .header("origin", origin)
                .header("access-control-request-method", method)
                .header("access-control-request-headers", headers),
        )
    }

    #[test]
    fn an_allowed_preflight_is_answered_204() {
        let cors = Harness::<CorsAdaptor>::new(CONFIG).unwrap();
        let exchange = preflight("https://app.example.com", "PUT", "x-token");
        assert_eq!(cors.on_request(&exchange), Outcome::Result("preflighted".into()));
        let response = exchange.response().unwrap();
        assert_eq!(response.status(), 204);
        let h = |n: &str| response.header(n);
        assert_eq!(h("access-control-allow-origin").as_deref(), Some("https://app.example.com"));
        assert_eq!(h("access-control-allow-methods").as_deref(), Some("PUT"));
        assert_eq!(h("access-control-allow-headers").as_deref(), Some("x-token"));
        assert_eq!(h("access-control-max-age").as_deref(), Some("600"));
        assert_eq!(h("access-control-allow-credentials").as_deref(), Some("true"));
    }

    #[test]
    fn refused_origins_methods_and_headers_are_rejected() {
        let cors = Harness::<CorsAdaptor>::new(CONFIG).unwrap();
        let rejected = Outcome::Result("rejected".into());
        assert_eq!(cors.on_request(&preflight("https://evil.test", "PUT", "")), rejected);
        assert_eq!(cors.on_request(&preflight("https://a.example.com", "DELETE", "")), rejected);
        assert_eq!(cors.on_request(&preflight("https://a.example.com", "GET", "x-other")), rejected);
        let exchange = preflight("https://evil.test", "GET", "");
        cors.on_request(&exchange);
        let response = exchange.response().unwrap();
        assert_eq!(response.status(), 200);
        assert!(response.header("access-control-allow-origin").is_none());
    }

    #[test]
    fn an_actual_request_gets_its_response_marked() {
        let cors = Harness::<CorsAdaptor>::new(CONFIG).unwrap();
        let request = TestRequest::get("/api").header("origin", "https://app.example.com");
        assert_eq!(cors.on_request(&TestExchange::new(request.clone())), Outcome::Continue);
        let exchange = TestExchange::new(request).with_response(TestResponse::new(200));
        cors.on_response(&exchange);
        let response = exchange.response().unwrap();
        assert_eq!(
            response.header("access-control-allow-origin").as_deref(),
            Some("https://app.example.com")
        );
        assert_eq!(response.header("access-control-expose-headers").as_deref(), Some("X-Trace"));
        let plain = TestExchange::new(TestRequest::get("/api"));
        assert_eq!(cors.on_request(&plain), Outcome::Continue, "no Origin: not CORS");
    }
}
