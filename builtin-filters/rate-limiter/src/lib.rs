//! `kind: RateLimiter`: each `urls` entry has its own budget of `limitForPeriod`
//! requests per `limitRefreshPeriod`; a request over the budget waits for a later period
//! if one starts within `timeoutDuration`, and is otherwise answered 429 with
//! `X-EG-Rate-Limiter: too-many-requests` and the result `rateLimited`.
//!
//! The budget is counted in the host's shared state, not in instance memory: every
//! admission is one atomic `add` on the counter of its period, so the limit is exact
//! however many instances and worker threads serve the requests, and the counters
//! survive a hot swap of the pipeline (keys include the policy, so a changed policy
//! starts afresh).

use serde::Deserialize;
use std::cell::{Cell, RefCell};
use weir_builtin_common::{parse_millis, StringMatcher, StringMatcherSpec};
use weir_sdk::{clock, state, BuiltResponse, Config, Exchange, Filter, Outcome};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Spec {
    #[serde(default)]
    policies: Vec<PolicySpec>,
    #[serde(default)]
    default_policy_ref: Option<String>,
    #[serde(default)]
    urls: Vec<UrlSpec>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PolicySpec {
    name: String,
    #[serde(default = "default_timeout")]
    timeout_duration: String,
    #[serde(default = "default_refresh")]
    limit_refresh_period: String,
    #[serde(default = "default_limit")]
    limit_for_period: u32,
}

fn default_timeout() -> String {
    "100ms".into()
}
fn default_refresh() -> String {
    "10ms".into()
}
fn default_limit() -> u32 {
    50
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct UrlSpec {
    #[serde(default)]
    methods: Vec<String>,
    #[serde(default)]
    url: StringMatcherSpec,
    #[serde(default)]
    policy_ref: Option<String>,
}

/// One budget: a `urls` entry with its policy.
struct Limiter {
    methods: Vec<String>,
    url: StringMatcher,
    /// Prefix of this limiter's state keys.
    key: String,
    limit: i64,
    period_millis: u64,
    timeout_millis: u64,
    /// The shared epoch once this instance has read it. It is written once and never
    /// changes, so reading it again on every request would be a wasted host call.
    epoch: Cell<Option<u64>>,
    /// The last period counted and its counter's key: formatted once per period, not
    /// once per request.
    period_key: RefCell<(u64, String)>,
}

impl Limiter {
    /// Whether the entry takes every request, so that it needs neither method nor path.
    fn matches_all(&self) -> bool {
        self.methods.is_empty() && self.url.is_blank()
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        (self.methods.is_empty() || self.methods.iter().any(|m| m.eq_ignore_ascii_case(method)))
            && (self.url.is_blank() || self.url.matches(path))
    }

    /// Takes a permit, waiting for a later period when one starts within the timeout.
    ///
    /// Periods are numbered from an epoch stored once (by compare-and-swap) in the
    /// shared state, so all instances agree on where a period begins. A request adds
    /// one to its period's counter; the first `limit` adds win. An add beyond the limit
    /// only inflates a counter that is already spent, so it needs no undo.
    fn admit(&self, now_millis: u64) -> Option<u64> {
        let epoch = match self.epoch.get() {
            Some(epoch) => epoch,
            None => {
                let epoch = self.shared_epoch(now_millis);
                self.epoch.set(Some(epoch));
                epoch
            }
        };
        let mut period = now_millis.saturating_sub(epoch) / self.period_millis;
        loop {
            let start = epoch + period * self.period_millis;
            let wait = start.saturating_sub(now_millis);
            if wait > self.timeout_millis {
                return None;
            }
            // The counter must outlive its period; a second of slack covers slow callers.
            let ttl = start + self.period_millis + 1000 - now_millis;
            if self.count(period, ttl) <= self.limit {
                return Some(wait);
            }
            period += 1;
        }
    }

    /// Adds one to `period`'s shared counter and returns the new count.
    fn count(&self, period: u64, ttl_millis: u64) -> i64 {
        let mut cached = self.period_key.borrow_mut();
        if cached.0 != period {
            *cached = (period, format!("{}/{period}", self.key));
        }
        state::add(&cached.1, 1, Some(ttl_millis))
    }

    /// The epoch every instance numbers periods from: the first to ask sets it.
    fn shared_epoch(&self, now_millis: u64) -> u64 {
        let epoch_key = format!("{}/epoch", self.key);
        if let Some(epoch) = state::get(&epoch_key) {
            return epoch as u64;
        }
        state::compare_and_swap(&epoch_key, None, now_millis as i64, None);
        state::get(&epoch_key).map_or(now_millis, |e| e as u64)
    }
}

pub struct RateLimiter {
    limiters: Vec<Limiter>,
}

fn policy_limiter(
    policies: &[PolicySpec],
    name: &str,
    at: &str,
    index: usize,
    methods: Vec<String>,
    url: StringMatcher,
) -> Result<Limiter, String> {
    let policy = policies
        .iter()
        .find(|p| p.name == name)
        .ok_or_else(|| format!("{at}: no policy named {name:?}"))?;
    let period_millis = parse_millis(&policy.limit_refresh_period)
        .map_err(|e| format!("policies.{name}.limitRefreshPeriod: {e}"))?;
    if period_millis == 0 {
        return Err(format!("policies.{name}.limitRefreshPeriod: must be at least 1ms"));
    }
    let timeout_millis =
        parse_millis(&policy.timeout_duration).map_err(|e| format!("policies.{name}.timeoutDuration: {e}"))?;
    Ok(Limiter {
        methods,
        url,
        key: format!("{index}/{name}/{}/{period_millis}", policy.limit_for_period),
        limit: i64::from(policy.limit_for_period),
        period_millis,
        timeout_millis,
        epoch: Cell::new(None),
        period_key: RefCell::new((u64::MAX, String::new())),
    })
}

impl Filter for RateLimiter {
    fn new(config: Config) -> Result<Self, String> {
        let spec: Spec = config.parse()?;
        let mut limiters = Vec::new();
        for (i, url) in spec.urls.into_iter().enumerate() {
            let at = format!("urls[{i}]");
            let name = url
                .policy_ref
                .or_else(|| spec.default_policy_ref.clone())
                .ok_or_else(|| format!("{at}: no policyRef and no defaultPolicyRef"))?;
            let matcher = StringMatcher::new(url.url, &format!("{at}.url"))?;
            limiters.push(policy_limiter(&spec.policies, &name, &at, i, url.methods, matcher)?);
        }
        // Without `urls`, the default policy guards every request: the short form for
        // "limit this pipeline".
        if limiters.is_empty() {
            if let Some(name) = &spec.default_policy_ref {
                let any = StringMatcher::new(StringMatcherSpec::default(), "url")?;
                limiters.push(policy_limiter(&spec.policies, name, "defaultPolicyRef", 0, Vec::new(), any)?);
            }
        }
        // Only a policy with a `timeoutDuration` waits (for a permit); without one every
        // call is plain.
        if limiters.iter().all(|limiter| limiter.timeout_millis == 0) {
            weir_sdk::runtime::never_waits();
        }
        Ok(RateLimiter { limiters })
    }

    fn on_request(&self, exchange: &Exchange) -> Outcome {
        // As Easegress: the first matching entry decides; none matching is not limited.
        // The method and path are only asked for when an entry tests them.
        let mut method_path = None;
        let mut chosen = None;
        for limiter in &self.limiters {
            if limiter.matches_all() {
                chosen = Some(limiter);
                break;
            }
            if method_path.is_none() {
                match exchange.request_method_path() {
                    Some(found) => method_path = Some(found),
                    None => return Outcome::Continue,
                }
            }
            let (method, path) = method_path.as_ref().expect("set just above");
            if limiter.matches(method, path) {
                chosen = Some(limiter);
                break;
            }
        }
        let Some(limiter) = chosen else {
            return Outcome::Continue;
        };
        let now = clock::monotonic_nanos() / 1_000_000;
        match limiter.admit(now) {
            Some(0) => Outcome::Continue,
            Some(wait) => {
                clock::sleep(wait.min(u64::from(u32::MAX)) as u32);
                Outcome::Continue
            }
            None => {
                let response = BuiltResponse::new(429).header("X-EG-Rate-Limiter", "too-many-requests");
                match exchange.set_response(response) {
                    Ok(()) => Outcome::Result("rateLimited".into()),
                    Err(e) => Outcome::Respond(BuiltResponse::new(500).body(format!("RateLimiter: {e}\n"))),
                }
            }
        }
    }
}

weir_sdk::export_filter!(RateLimiter);

#[cfg(test)]
mod tests {
    use super::*;
    use weir_sdk::testing::{Harness, TestExchange, TestRequest};

    fn limiter(policy: &str) -> Harness<RateLimiter> {
        Harness::<RateLimiter>::new(&format!(
            r#"{{"policies":[{policy}],"defaultPolicyRef":"p",
                "urls":[{{"methods":["GET"],"url":{{"prefix":"/api/"}}}}]}}"#
        ))
        .unwrap()
    }

    #[test]
    fn promises_never_to_wait_unless_a_policy_waits_for_a_permit() {
        let refuses = limiter(r#"{"name":"p","limitForPeriod":3,"limitRefreshPeriod":"1s","timeoutDuration":"0"}"#);
        assert!(refuses.promised_never_to_wait());
        let waits = limiter(r#"{"name":"p","limitForPeriod":3,"limitRefreshPeriod":"1s","timeoutDuration":"50ms"}"#);
        assert!(!waits.promised_never_to_wait());
    }

    #[test]
    fn the_budget_of_a_period_is_exact_then_429() {
        let rl = limiter(r#"{"name":"p","limitForPeriod":3,"limitRefreshPeriod":"1h","timeoutDuration":"0"}"#);
        for _ in 0..3 {
            assert_eq!(rl.on_request(&TestExchange::new(TestRequest::get("/api/x"))), Outcome::Continue);
        }
        let exchange = TestExchange::new(TestRequest::get("/api/x"));
        assert_eq!(rl.on_request(&exchange), Outcome::Result("rateLimited".into()));
        let response = exchange.response().unwrap();
        assert_eq!(response.status(), 429);
        assert_eq!(response.header("x-eg-rate-limiter").as_deref(), Some("too-many-requests"));
        // Not matched by any entry: not limited.
        let other = TestExchange::new(TestRequest::get("/health"));
        assert_eq!(rl.on_request(&other), Outcome::Continue);
    }

    #[test]
    fn an_unknown_policy_is_refused() {
        let err = Harness::<RateLimiter>::new(r#"{"policies":[],"urls":[{"policyRef":"nope"}]}"#).err();
        assert!(err.unwrap().contains("nope"));
    }
}
