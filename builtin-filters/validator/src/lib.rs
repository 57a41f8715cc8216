//! `kind: Validator` (the headers rule): every configured header must have a value that
//! equals one of `values` or matches `regexp`; otherwise the request gets 400 and the
//! result `invalid`.

use regex::Regex;
use serde::Deserialize;
use std::collections::BTreeMap;
use weir_sdk::{BuiltResponse, Config, Exchange, Filter, Outcome};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Spec {
    /// Header name → the rule its values must meet.
    #[serde(default)]
    headers: BTreeMap<String, HeaderRule>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct HeaderRule {
    /// Accepted values, compared exactly.
    #[serde(default)]
    values: Vec<String>,
    /// A regular expression a value may match instead.
    #[serde(default)]
    regexp: Option<String>,
}

struct Rule {
    header: String,
    values: Vec<String>,
    regexp: Option<Regex>,
}

impl Rule {
    fn accepts(&self, value: &str) -> bool {
        self.values.iter().any(|v| v == value) || self.regexp.as_ref().is_some_and(|r| r.is_match(value))
    }
}

pub struct Validator {
    rules: Vec<Rule>,
}

impl Filter for Validator {
    fn new(config: Config) -> Result<Self, String> {
        let spec: Spec = config.parse()?;
        if spec.headers.is_empty() {
            return Err("a Validator needs at least one rule: `headers`".into());
        }
        let mut rules = Vec::new();
        for (header, rule) in spec.headers {
            if rule.values.is_empty() && rule.regexp.is_none() {
                return Err(format!("headers.{header}: give `values` or `regexp`"));
            }
            let regexp = match rule.regexp {
                Some(r) => Some(Regex::new(&r).map_err(|e| format!("headers.{header}.regexp: {e}"))?),
                None => None,
            };
            rules.push(Rule {
                header,
                values: rule.values,
                regexp,
            });
        }
        Ok(Validator { rules })
    }

    fn on_request(&self, exchange: &Exchange) -> Outcome {
        let Some(request) = exchange.request() else {
            return invalid(exchange);
        };
        for rule in &self.rules {
            let values = request.header_all(&rule.header);
            if !values.iter().any(|v| rule.accepts(v)) {
                return invalid(exchange);
            }
        }
        Outcome::Continue
    }
}

/// Like Easegress: an empty 400 in the step's namespace, and the result `invalid` so
/// that `jumpIf` can send the flow to a custom failure response (or END).
fn invalid(exchange: &Exchange) -> Outcome {
    // Setting an empty 400 cannot fail: it has no headers to reject.
    let _ = exchange.set_response(BuiltResponse::new(400));
    Outcome::Result("invalid".into())
}

weir_sdk::export_filter!(Validator);
