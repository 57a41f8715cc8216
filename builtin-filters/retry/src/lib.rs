//! `kind: Retry`, a guard: when the step it guards fails, it waits and asks the host to
//! run the step again, up to `maxAttempts` attempts in all.
//!
//! The host does the re-running (it restores the request as it was before the first
//! attempt); this filter only decides whether and when. It sees the guarded step's
//! result and the attempt number through the exchange (ABI 1.1.0), and waits with the
//! host's `sleep`, which holds no thread.

use serde::Deserialize;
use weir_builtin_common::parse_millis;
use weir_sdk::{clock, random, Config, Exchange, Filter, Outcome, Phases};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Spec {
    /// Attempts in all, the first included.
    #[serde(default = "default_attempts")]
    max_attempts: u32,
    /// The wait before the second attempt.
    #[serde(default = "default_wait")]
    wait_duration: String,
    /// `random` (the same wait each time) or `exponential` (×1.5 per attempt). The
    /// Easegress docs write it in capitals, its code in lower case: both are accepted.
    #[serde(default)]
    back_off_policy: Option<String>,
    /// Spreads each wait over `wait × (1 ± factor)`, so that clients that failed
    /// together do not retry together.
    #[serde(default)]
    randomization_factor: f64,
    /// The results that are retried. Default: any failure except `clientError` (the
    /// client went away) and `shortCircuited` (an open circuit breaker said no).
    #[serde(default)]
    retry_on: Option<Vec<String>>,
}

fn default_attempts() -> u32 {
    3
}

fn default_wait() -> String {
    "500ms".into()
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum BackOff {
    Random,
    Exponential,
}

pub struct Retry {
    max_attempts: u32,
    wait_millis: u64,
    back_off: BackOff,
    randomization: f64,
    retry_on: Option<Vec<String>>,
}

/// Results that are never worth retrying by default.
const NOT_RETRIED: [&str; 2] = ["clientError", "shortCircuited"];

/// Exponential back-off grows the wait by half each attempt.
const GROWTH: f64 = 1.5;

/// No wait is longer than this, whatever the growth (the host's `sleep` caps at 5
/// minutes anyway).
const MAX_WAIT_MILLIS: f64 = 60_000.0;

impl Retry {
    fn retries(&self, result: &str) -> bool {
        if result.is_empty() {
            return false;
        }
        match &self.retry_on {
            Some(listed) => listed.iter().any(|r| r == result),
            None => !NOT_RETRIED.contains(&result),
        }
    }

    /// The wait after failed attempt `attempt` (from 1). `unit` is a random number in
    /// [0, 1) for the randomisation.
    fn wait_after(&self, attempt: u32, unit: f64) -> u32 {
        let base = self.wait_millis as f64;
        let grown = match self.back_off {
            BackOff::Random => base,
            BackOff::Exponential => base * GROWTH.powi(attempt.saturating_sub(1).min(64) as i32),
        };
        let spread = 1.0 + self.randomization * (2.0 * unit - 1.0);
        (grown * spread).clamp(0.0, MAX_WAIT_MILLIS) as u32
    }
}

impl Filter for Retry {
    // Only the response phase: a retry has nothing to check before the first attempt.
    const PHASES: Phases = Phases::RESPONSE;

    fn new(config: Config) -> Result<Self, String> {
        let spec: Spec = config.parse()?;
        if spec.max_attempts == 0 {
            return Err("maxAttempts: must be at least 1 (the first attempt counts)".into());
        }
        let wait_millis = parse_millis(&spec.wait_duration).map_err(|e| format!("waitDuration: {e}"))?;
        let back_off = match spec.back_off_policy.as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("") | Some("random") => BackOff::Random,
            Some("exponential") => BackOff::Exponential,
            Some(other) => return Err(format!("backOffPolicy: {other:?} is neither random nor exponential")),
        };
        if !(0.0..=1.0).contains(&spec.randomization_factor) {
            return Err("randomizationFactor: must be between 0 and 1".into());
        }
        Ok(Retry {
            max_attempts: spec.max_attempts,
            wait_millis,
            back_off,
            randomization: spec.randomization_factor,
            retry_on: spec.retry_on,
        })
    }

    fn on_response(&self, exchange: &Exchange) -> Outcome {
        let Some(result) = exchange.guarded_result() else {
            return Outcome::Continue;
        };
        let attempt = exchange.attempt();
        // Unlike Easegress, no wait after the last attempt: nobody is waiting for it.
        if !self.retries(&result) || attempt >= self.max_attempts {
            return Outcome::Continue;
        }
        let unit = (random::u64() >> 11) as f64 / (1u64 << 53) as f64;
        let wait = self.wait_after(attempt, unit);
        if wait > 0 {
            clock::sleep(wait);
        }
        Outcome::Result("retry".into())
    }
}

weir_sdk::export_filter!(Retry);

#[cfg(test)]
mod tests {
    use super::*;
    use weir_sdk::testing::{Harness, TestExchange, TestRequest};

    fn retry(config: &str) -> Harness<Retry> {
        Harness::<Retry>::new(config).unwrap()
    }

    fn after(filter: &Harness<Retry>, attempt: u32, result: &str) -> Outcome {
        let exchange = TestExchange::new(TestRequest::get("/"));
        exchange.after_guarded_step(attempt, result, 1000);
        filter.on_response(&exchange)
    }

    #[test]
    fn failures_are_retried_until_max_attempts() {
        let r = retry(r#"{"maxAttempts":3,"waitDuration":"0"}"#);
        assert_eq!(after(&r, 1, "serverError"), Outcome::Result("retry".into()));
        assert_eq!(after(&r, 2, "failureCode"), Outcome::Result("retry".into()));
        assert_eq!(after(&r, 3, "serverError"), Outcome::Continue, "the third was the last");
        assert_eq!(after(&r, 1, ""), Outcome::Continue, "success is kept");
        assert_eq!(after(&r, 1, "clientError"), Outcome::Continue);
    }

    #[test]
    fn retry_on_limits_the_results() {
        let r = retry(r#"{"waitDuration":"0","retryOn":["timeout"]}"#);
        assert_eq!(after(&r, 1, "timeout"), Outcome::Result("retry".into()));
        assert_eq!(after(&r, 1, "serverError"), Outcome::Continue);
    }

    #[test]
    fn waits_grow_exponentially_and_spread_with_the_factor() {
        let r = retry(r#"{"waitDuration":"100ms","backOffPolicy":"EXPONENTIAL"}"#);
        let waits: Vec<u32> = (1..=4).map(|a| r.filter().wait_after(a, 0.5)).collect();
        assert_eq!(waits, vec![100, 150, 225, 337]);
        let spread = retry(r#"{"waitDuration":"100ms","randomizationFactor":0.5}"#);
        assert_eq!(spread.filter().wait_after(1, 0.0), 50);
        assert_eq!(spread.filter().wait_after(1, 0.5), 100);
        assert!(spread.filter().wait_after(1, 0.999) <= 150);
    }

    #[test]
    fn bad_settings_are_refused() {
        for (config, field) in [
            (r#"{"maxAttempts":0}"#, "maxAttempts"),
            (r#"{"backOffPolicy":"linear"}"#, "backOffPolicy"),
            (r#"{"randomizationFactor":2}"#, "randomizationFactor"),
            (r#"{"waitDuration":"soon"}"#, "waitDuration"),
        ] {
            let err = Harness::<Retry>::new(config).err().unwrap();
            assert!(err.contains(field), "{err}");
        }
    }
}
