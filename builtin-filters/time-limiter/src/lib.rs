//! `kind: TimeLimiter`, a guard: the step it guards (every retry of it included) must
//! end within a deadline, or it is cut off, the namespace gets 408 and the result is
//! `timeout`. The deadline may differ by request: the first `urls` entry matching the
//! method and path gives it, else `defaultTimeoutDuration`.
//!
//! The host enforces the deadline (it drops the guarded work, a backend request
//! included, at the moment it passes); this filter chooses it.

use serde::Deserialize;
use weir_builtin_common::{parse_millis, StringMatcher, StringMatcherSpec};
use weir_sdk::{Config, Exchange, Filter, Outcome, Phases};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Spec {
    /// The deadline of requests no `urls` entry matches; `0` sets none.
    #[serde(default = "default_timeout")]
    default_timeout_duration: String,
    #[serde(default)]
    urls: Vec<UrlSpec>,
}

fn default_timeout() -> String {
    "500ms".into()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct UrlSpec {
    #[serde(default)]
    methods: Vec<String>,
    #[serde(default)]
    url: StringMatcherSpec,
    timeout_duration: String,
}

struct Rule {
    methods: Vec<String>,
    url: StringMatcher,
    millis: u32,
}

impl Rule {
    fn matches(&self, method: &str, path: &str) -> bool {
        (self.methods.is_empty() || self.methods.iter().any(|m| m.eq_ignore_ascii_case(method)))
            && (self.url.is_blank() || self.url.matches(path))
    }
}

pub struct TimeLimiter {
    rules: Vec<Rule>,
    default_millis: u32,
}

fn millis(field: &str, text: &str) -> Result<u32, String> {
    let value = parse_millis(text).map_err(|e| format!("{field}: {e}"))?;
    u32::try_from(value).map_err(|_| format!("{field}: {text:?} is too long"))
}

impl TimeLimiter {
    /// The deadline for a request, in milliseconds; 0 for none.
    fn deadline(&self, method: &str, path: &str) -> u32 {
        self.rules
            .iter()
            .find(|r| r.matches(method, path))
            .map_or(self.default_millis, |r| r.millis)
    }
}

impl Filter for TimeLimiter {
    const PHASES: Phases = Phases::REQUEST;

    fn new(config: Config) -> Result<Self, String> {
        let spec: Spec = config.parse()?;
        let mut rules = Vec::new();
        for (i, url) in spec.urls.into_iter().enumerate() {
            let at = format!("urls[{i}]");
            rules.push(Rule {
                methods: url.methods,
                url: StringMatcher::new(url.url, &format!("{at}.url"))?,
                millis: millis(&format!("{at}.timeoutDuration"), &url.timeout_duration)?,
            });
        }
        // It only sets the guarded step's deadline; the host enforces it, outside this
        // filter's calls. Nothing it does waits.
        weir_sdk::runtime::never_waits();
        Ok(TimeLimiter {
            rules,
            default_millis: millis("defaultTimeoutDuration", &spec.default_timeout_duration)?,
        })
    }

    fn on_request(&self, exchange: &Exchange) -> Outcome {
        let deadline = match exchange.request() {
            Some(request) => self.deadline(&request.method(), &request.path()),
            None => self.default_millis,
        };
        if deadline > 0 {
            exchange.set_deadline(deadline);
        }
        Outcome::Continue
    }
}

weir_sdk::export_filter!(TimeLimiter);

#[cfg(test)]
mod tests {
    use super::*;
    use weir_sdk::testing::{Harness, TestExchange, TestRequest};

    fn deadline_for(filter: &Harness<TimeLimiter>, request: TestRequest) -> Option<u32> {
        let exchange = TestExchange::new(request);
        exchange.before_guarded_step();
        assert_eq!(filter.on_request(&exchange), Outcome::Continue);
        exchange.deadline()
    }

    #[test]
    fn the_first_matching_url_sets_the_deadline() {
        let limiter = Harness::<TimeLimiter>::new(
            r#"{"defaultTimeoutDuration":"2s","urls":[
                {"methods":["POST"],"url":{"prefix":"/slow/"},"timeoutDuration":"10s"},
                {"url":{"exact":"/fast"},"timeoutDuration":"50ms"}]}"#,
        )
        .unwrap();
        assert_eq!(deadline_for(&limiter, TestRequest::post("/slow/x")), Some(10_000));
        assert_eq!(deadline_for(&limiter, TestRequest::get("/slow/x")), Some(2_000));
        assert_eq!(deadline_for(&limiter, TestRequest::get("/fast")), Some(50));
    }

    #[test]
    fn zero_sets_no_deadline_and_bad_durations_are_refused() {
        let none = Harness::<TimeLimiter>::new(r#"{"defaultTimeoutDuration":"0"}"#).unwrap();
        assert_eq!(deadline_for(&none, TestRequest::get("/")), None);
        let err = Harness::<TimeLimiter>::new(r#"{"urls":[{"timeoutDuration":"later"}]}"#)
            .err()
            .unwrap();
        assert!(err.contains("urls[0].timeoutDuration"), "{err}");
    }
}
