//! The CircuitBreaker's YAML, with Easegress's field names and defaults.

use crate::window::Window;
use serde::Deserialize;
use weir_builtin_common::parse_millis;
use weir_sdk::Config;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Spec {
    /// `COUNT_BASED` (the last N calls) or `TIME_BASED` (the calls of the last N
    /// seconds).
    #[serde(default)]
    sliding_window_type: Option<String>,
    /// N: calls (COUNT_BASED) or seconds (TIME_BASED).
    #[serde(default = "default_window_size")]
    sliding_window_size: u32,
    /// Percentage of failed calls at which the breaker opens.
    #[serde(default = "default_failure_rate")]
    failure_rate_threshold: f64,
    /// Percentage of slow calls at which the breaker opens.
    #[serde(default = "default_slow_rate")]
    slow_call_rate_threshold: f64,
    /// A call at least this long is slow.
    #[serde(default = "default_slow_duration")]
    slow_call_duration_threshold: String,
    /// Calls the window needs before any rate counts.
    #[serde(default)]
    minimum_number_of_calls: Option<u32>,
    /// Trial calls let through when half-open.
    #[serde(default = "default_half_open_calls")]
    permitted_number_of_calls_in_half_open_state: u32,
    /// Longest wait for the trial calls; `0` waits for as long as they take.
    #[serde(default)]
    max_wait_duration_in_half_open_state: Option<String>,
    /// How long the breaker stays open before it tries again.
    #[serde(default = "default_open_wait")]
    wait_duration_in_open_state: String,
}

fn default_window_size() -> u32 {
    100
}
fn default_failure_rate() -> f64 {
    50.0
}
fn default_slow_rate() -> f64 {
    100.0
}
fn default_slow_duration() -> String {
    "1m".into()
}
fn default_half_open_calls() -> u32 {
    10
}
fn default_open_wait() -> String {
    "1m".into()
}

/// Easegress's code default for `minimumNumberOfCalls` (its docs say 10).
const EASEGRESS_MINIMUM_CALLS: u32 = 100;

pub struct Settings {
    pub window: Window,
    pub failure_rate: f64,
    pub slow_rate: f64,
    pub slow_call_micros: u64,
    pub minimum_calls: i64,
    pub half_open_calls: u32,
    /// Milliseconds; 0 for no limit.
    pub max_wait_in_half_open: u64,
    pub wait_in_open: u64,
}

impl Settings {
    pub fn parse(config: &Config) -> Result<Settings, String> {
        let spec: Spec = config.parse()?;
        if spec.sliding_window_size == 0 {
            return Err("slidingWindowSize: must be at least 1".into());
        }
        let window = match spec
            .sliding_window_type
            .as_deref()
            .map(str::to_ascii_uppercase)
            .as_deref()
        {
            None | Some("") | Some("COUNT_BASED") => Window::count_based(spec.sliding_window_size),
            Some("TIME_BASED") => Window::time_based(spec.sliding_window_size),
            Some(other) => {
                return Err(format!(
                    "slidingWindowType: {other:?} is neither COUNT_BASED nor TIME_BASED"
                ))
            }
        };
        for (field, value) in [
            ("failureRateThreshold", spec.failure_rate_threshold),
            ("slowCallRateThreshold", spec.slow_call_rate_threshold),
        ] {
            if !(value > 0.0 && value <= 100.0) {
                return Err(format!("{field}: must be a percentage above 0 and at most 100"));
            }
        }
        if spec.permitted_number_of_calls_in_half_open_state == 0 {
            return Err("permittedNumberOfCallsInHalfOpenState: must be at least 1".into());
        }
        let millis = |field: &str, text: &str| parse_millis(text).map_err(|e| format!("{field}: {e}"));
        // Easegress's default of 100 means a window of 10 calls never opens. Here the
        // default is never more than a COUNT_BASED window can hold.
        let minimum_calls = spec.minimum_number_of_calls.unwrap_or(match window {
            Window::Count { size } => EASEGRESS_MINIMUM_CALLS.min(size),
            Window::Time { .. } => EASEGRESS_MINIMUM_CALLS,
        });
        Ok(Settings {
            window,
            failure_rate: spec.failure_rate_threshold,
            slow_rate: spec.slow_call_rate_threshold,
            slow_call_micros: millis("slowCallDurationThreshold", &spec.slow_call_duration_threshold)? * 1000,
            minimum_calls: i64::from(minimum_calls.max(1)),
            half_open_calls: spec.permitted_number_of_calls_in_half_open_state,
            max_wait_in_half_open: match &spec.max_wait_duration_in_half_open_state {
                Some(text) => millis("maxWaitDurationInHalfOpenState", text)?,
                None => 0,
            },
            wait_in_open: millis("waitDurationInOpenState", &spec.wait_duration_in_open_state)?,
        })
    }
}
