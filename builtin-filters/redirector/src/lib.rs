//! `kind: Redirector`: when `match` (a regular expression) finds the chosen part of the
//! request, answers `statusCode` (301 by default) with `Location` set to that part
//! rewritten by `replacement` (`$1` / `${1}` name groups); the result is `redirected`.
//! No match lets the flow go on.
//!
//! `matchPart` is `uri` (path and query, the default), `path`, or `full`. Easegress
//! builds `full` from Go's `URL.String()`, which for an ordinary request has no scheme or
//! host, so the documentation's full-URL examples never match there; here `full` is
//! `http://` + the Host header + the URI, which is what those examples expect. The ABI
//! does not say whether the client used TLS, hence the fixed `http`.

use regex::Regex;
use serde::Deserialize;
use weir_sdk::{BuiltResponse, Config, Exchange, Filter, Outcome, Request};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Spec {
    #[serde(rename = "match")]
    matching: String,
    #[serde(default)]
    match_part: MatchPart,
    replacement: String,
    #[serde(default = "moved_permanently")]
    status_code: u16,
}

fn moved_permanently() -> u16 {
    301
}

#[derive(Default, Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum MatchPart {
    #[default]
    Uri,
    Path,
    Full,
}

impl MatchPart {
    fn of(self, request: &Request) -> String {
        let path = request.path();
        let uri = match request.query() {
            Some(q) if !q.is_empty() => format!("{path}?{q}"),
            _ => path.clone(),
        };
        match self {
            MatchPart::Path => path,
            MatchPart::Uri => uri,
            MatchPart::Full => format!("http://{}{uri}", request.host().unwrap_or_default()),
        }
    }
}

pub struct Redirector {
    regex: Regex,
    part: MatchPart,
    replacement: String,
    status: u16,
}

impl Filter for Redirector {
    fn new(config: Config) -> Result<Self, String> {
        let spec: Spec = config.parse()?;
        let regex = Regex::new(&spec.matching).map_err(|e| format!("match: {e}"))?;
        if ![301, 302, 303, 304, 307, 308].contains(&spec.status_code) {
            return Err(format!(
                "statusCode: {} is not one of 301, 302, 303, 304, 307, 308",
                spec.status_code
            ));
        }
        // It reads headers and answers; nothing it does waits.
        weir_sdk::runtime::never_waits();
        Ok(Redirector {
            regex,
            part: spec.match_part,
            replacement: spec.replacement,
            status: spec.status_code,
        })
    }

    fn on_request(&self, exchange: &Exchange) -> Outcome {
        let Some(request) = exchange.request() else {
            return Outcome::Continue;
        };
        let subject = self.part.of(&request);
        // As Go's ReplaceAllString: every match is replaced, the rest is kept.
        if !self.regex.is_match(&subject) {
            return Outcome::Continue;
        }
        let location = self.regex.replace_all(&subject, self.replacement.as_str());
        let response = BuiltResponse::new(self.status).header("Location", location.into_owned());
        match exchange.set_response(response) {
            Ok(()) => Outcome::Result("redirected".into()),
            Err(e) => Outcome::Respond(BuiltResponse::new(500).body(format!("Redirector: {e}\n"))),
        }
    }
}

weir_sdk::export_filter!(Redirector);

#[cfg(test)]
mod tests {
    use super::*;
    use weir_sdk::testing::{Harness, TestExchange, TestRequest};

    fn location(config: &str, request: TestRequest) -> Option<(u16, String)> {
        let r = Harness::<Redirector>::new(config).unwrap();
        let exchange = TestExchange::new(request);
        match r.on_request(&exchange) {
            Outcome::Result(result) => {
                assert_eq!(result, "redirected");
                let response = exchange.response().unwrap();
                Some((response.status(), response.header("location").unwrap()))
            }
            _ => None,
        }
    }

    #[test]
    fn groups_rewrite_the_uri_with_its_query() {
        let config = r#"{"match":"^/users/([0-9]+)","replacement":"/user/${1}/profile"}"#;
        assert_eq!(
            location(config, TestRequest::get("/users/42?tab=a")),
            Some((301, "/user/42/profile?tab=a".into()))
        );
        assert_eq!(location(config, TestRequest::get("/orders/1")), None);
    }

    #[test]
    fn path_and_full_parts() {
        let path = r#"{"match":"/old$","matchPart":"path","replacement":"/new","statusCode":307}"#;
        assert_eq!(location(path, TestRequest::get("/a/old?x=1")), Some((307, "/a/new".into())));
        let full = r#"{"match":"^http://example.com(.*)","matchPart":"full","replacement":"https://example.org$1"}"#;
        let request = TestRequest::get("/p?q=1").header("host", "example.com");
        assert_eq!(location(full, request), Some((301, "https://example.org/p?q=1".into())));
        assert!(Harness::<Redirector>::new(r#"{"match":"x","replacement":"y","statusCode":200}"#).is_err());
    }
}
