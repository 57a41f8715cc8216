//! `kind: Mock`: the first rule whose `match` fits the request answers it with its
//! `code`, `headers` and `body`, after its `delay`; the result is `mocked`. No rule
//! matching lets the flow go on.

use serde::Deserialize;
use std::collections::BTreeMap;
use weir_builtin_common::{parse_millis, StringMatcher, StringMatcherSpec};
use weir_sdk::{clock, BuiltResponse, Config, Exchange, Filter, Outcome};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Spec {
    #[serde(default)]
    rules: Vec<RuleSpec>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RuleSpec {
    #[serde(default, rename = "match")]
    matching: MatchSpec,
    #[serde(default = "ok")]
    code: u16,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    body: String,
    /// A Go duration such as `500ms`.
    #[serde(default)]
    delay: Option<String>,
}

fn ok() -> u16 {
    200
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct MatchSpec {
    #[serde(default)]
    path: String,
    #[serde(default)]
    path_prefix: String,
    #[serde(default)]
    headers: BTreeMap<String, StringMatcherSpec>,
    #[serde(default)]
    match_all_headers: bool,
}

struct Rule {
    path: String,
    path_prefix: String,
    headers: Vec<(String, StringMatcher)>,
    match_all_headers: bool,
    response: BuiltResponse,
    delay_millis: u32,
}

impl Rule {
    fn matches_path(&self, path: &str) -> bool {
        if self.path.is_empty() && self.path_prefix.is_empty() {
            return true;
        }
        self.path == path || (!self.path_prefix.is_empty() && path.starts_with(&self.path_prefix))
    }

    /// As Easegress: with `matchAllHeaders` every header must match, otherwise one is
    /// enough; a rule without headers matches any request.
    fn matches_headers(&self, values_of: impl Fn(&str) -> Vec<String>) -> bool {
        if self.headers.is_empty() {
            return true;
        }
        for (name, matcher) in &self.headers {
            let values = values_of(name);
            let matched = if values.is_empty() {
                matcher.empty()
            } else {
                !matcher.empty() && values.iter().any(|v| matcher.matches(v))
            };
            if matched && !self.match_all_headers {
                return true;
            }
            if !matched && self.match_all_headers {
                return false;
            }
        }
        self.match_all_headers
    }
}

pub struct Mock {
    rules: Vec<Rule>,
}

impl Filter for Mock {
    fn new(config: Config) -> Result<Self, String> {
        let spec: Spec = config.parse()?;
        let mut rules = Vec::new();
        for (i, rule) in spec.rules.into_iter().enumerate() {
            let at = format!("rules[{i}]");
            let mut headers = Vec::new();
            for (name, m) in rule.matching.headers {
                headers.push((
                    name.clone(),
                    StringMatcher::new(m, &format!("{at}.match.headers.{name}"))?,
                ));
            }
            let mut response = BuiltResponse::new(rule.code).body(rule.body);
            for (name, value) in rule.headers {
                response = response.header(name, value);
            }
            let delay_millis = match rule.delay.as_deref() {
                Some(d) => parse_millis(d)
                    .and_then(|ms| u32::try_from(ms).map_err(|_| format!("{d:?} is too long")))
                    .map_err(|e| format!("{at}.delay: {e}"))?,
                None => 0,
            };
            rules.push(Rule {
                path: rule.matching.path,
                path_prefix: rule.matching.path_prefix,
                headers,
                match_all_headers: rule.matching.match_all_headers,
                response,
                delay_millis,
            });
        }
        Ok(Mock { rules })
    }

    fn on_request(&self, exchange: &Exchange) -> Outcome {
        let Some(request) = exchange.request() else {
            return Outcome::Continue;
        };
        let path = request.path();
        let Some(rule) = self
            .rules
            .iter()
            .find(|r| r.matches_path(&path) && r.matches_headers(|name| request.header_all(name)))
        else {
            return Outcome::Continue;
        };
        if rule.delay_millis > 0 {
            clock::sleep(rule.delay_millis);
        }
        match exchange.set_response(rule.response.clone()) {
            Ok(()) => Outcome::Result("mocked".into()),
            // A header the host refuses is a config mistake; answering 500 beats
            // pretending the mock ran.
            Err(e) => Outcome::Respond(BuiltResponse::new(500).body(format!("Mock: {e}\n"))),
        }
    }
}

weir_sdk::export_filter!(Mock);

#[cfg(test)]
mod tests {
    use super::*;
    use weir_sdk::testing::{Harness, TestExchange, TestRequest};

    #[test]
    fn the_first_matching_rule_answers() {
        let mock = Harness::<Mock>::new(
            r#"{"rules":[
                {"match":{"pathPrefix":"/users/","headers":{"X-Mock":{"exact":"yes"}}},"code":418,"body":"teapot"},
                {"match":{"path":"/ping"},"code":200,"headers":{"X-Mocked":"1"},"body":"pong"}
            ]}"#,
        )
        .unwrap();
        let exchange = TestExchange::new(TestRequest::get("/ping"));
        assert_eq!(mock.on_request(&exchange), Outcome::Result("mocked".into()));
        let response = exchange.response().unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.header("x-mocked").as_deref(), Some("1"));

        let exchange = TestExchange::new(TestRequest::get("/users/1").header("x-mock", "yes"));
        mock.on_request(&exchange);
        assert_eq!(exchange.response().unwrap().status(), 418);

        let exchange = TestExchange::new(TestRequest::get("/users/1"));
        assert_eq!(mock.on_request(&exchange), Outcome::Continue);
        assert!(exchange.response().is_none());
    }
}
