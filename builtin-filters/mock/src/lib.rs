//! `kind: Mock`: the first rule whose `match` fits the request answers it with its
//! `code`, `headers` and `body`, after its `delay`; the result is `mocked`. No rule
//! matching lets the flow go on.

use regex::Regex;
use serde::Deserialize;
use std::collections::BTreeMap;
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

/// Easegress's StringMatcher: any one of the given tests passing is a match.
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct StringMatcherSpec {
    #[serde(default)]
    exact: Option<String>,
    #[serde(default)]
    prefix: Option<String>,
    #[serde(default)]
    regex: Option<String>,
    /// Matches when the header is absent.
    #[serde(default)]
    empty: bool,
}

struct StringMatcher {
    exact: Option<String>,
    prefix: Option<String>,
    regex: Option<Regex>,
    empty: bool,
}

impl StringMatcher {
    fn matches(&self, value: &str) -> bool {
        self.exact.as_deref() == Some(value)
            || self.prefix.as_deref().is_some_and(|p| value.starts_with(p))
            || self.regex.as_ref().is_some_and(|r| r.is_match(value))
    }
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
                matcher.empty
            } else {
                !matcher.empty && values.iter().any(|v| matcher.matches(v))
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
                let regex = match m.regex {
                    Some(r) => Some(Regex::new(&r).map_err(|e| format!("{at}.match.headers.{name}.regex: {e}"))?),
                    None => None,
                };
                headers.push((
                    name,
                    StringMatcher {
                        exact: m.exact,
                        prefix: m.prefix,
                        regex,
                        empty: m.empty,
                    },
                ));
            }
            let mut response = BuiltResponse::new(rule.code).body(rule.body);
            for (name, value) in rule.headers {
                response = response.header(name, value);
            }
            let delay_millis = match rule.delay.as_deref() {
                Some(d) => parse_millis(d).map_err(|e| format!("{at}.delay: {e}"))?,
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

/// A Go duration (`1.5s`, `300ms`, `1m`) in whole milliseconds.
fn parse_millis(text: &str) -> Result<u32, String> {
    let mut total = 0f64;
    let mut rest = text.trim();
    if rest == "0" {
        return Ok(0);
    }
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("{text:?} has no unit"))?;
        let value: f64 = rest[..number_len].parse().map_err(|_| format!("{text:?} is not a duration"))?;
        rest = &rest[number_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let millis = match &rest[..unit_len] {
            "ns" => 1e-6,
            "us" | "µs" => 1e-3,
            "ms" => 1.0,
            "s" => 1e3,
            "m" => 60e3,
            "h" => 3600e3,
            unit => return Err(format!("{text:?} has an unknown unit {unit:?}")),
        };
        total += value * millis;
        rest = &rest[unit_len..];
    }
    if total > f64::from(u32::MAX) {
        return Err(format!("{text:?} is too long"));
    }
    Ok(total.round() as u32)
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

    #[test]
    fn durations_read_like_go() {
        assert_eq!(parse_millis("1.5s"), Ok(1500));
        assert_eq!(parse_millis("1m30s"), Ok(90_000));
        assert!(parse_millis("5").is_err());
    }
}
