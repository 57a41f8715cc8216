//! `kind: Proxy` spec, with Easegress's field names. Each field's doc comment is its
//! reference documentation.

use crate::config::duration;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProxySpec {
    pub name: String,
    pub kind: String,
    /// Backend pools. Exactly one has no `filter`: the main pool. The others are
    /// candidates, used (first match wins) for requests their `filter` matches.
    pub pools: Vec<PoolSpec>,
    /// A pool that receives a copy of matching requests; its responses are discarded.
    /// Needs a `filter`.
    #[serde(default)]
    pub mirror_pool: Option<PoolSpec>,
    /// Idle upstream connections kept per backend host. Default 1024.
    #[serde(default = "default_max_idle_per_host")]
    pub max_idle_conns_per_host: usize,
    /// Accepted for Easegress compatibility; the per-host limit is what bounds pooling.
    #[serde(default)]
    pub max_idle_conns: Option<usize>,
    /// Largest backend response body, in bytes. 0 means 4 MiB; -1 means no limit. A
    /// larger declared length fails with 500 (`internalError`); a stream that grows past
    /// the limit is cut.
    #[serde(default)]
    pub server_max_body_size: i64,
    /// TLS towards HTTPS backends. Certificates are verified against the system's roots
    /// (plus `rootCertBase64`) unless `insecureSkipVerify` is set.
    #[serde(default)]
    pub mtls: Option<UpstreamTlsSpec>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpstreamTlsSpec {
    /// Client certificate (PEM, plain or base64) presented to backends.
    #[serde(default)]
    pub cert_base64: Option<String>,
    #[serde(default)]
    pub key_base64: Option<String>,
    /// Extra CA (PEM, plain or base64) trusted for backend certificates.
    #[serde(default)]
    pub root_cert_base64: Option<String>,
    /// Accept any backend certificate. Off by default (Easegress turns it on).
    #[serde(default)]
    pub insecure_skip_verify: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PoolSpec {
    pub servers: Vec<ServerSpec>,
    #[serde(default)]
    pub load_balance: LoadBalanceSpec,
    /// Which requests this pool takes (candidate and mirror pools only).
    #[serde(default)]
    pub filter: Option<RequestMatcherSpec>,
    /// Deadline for the backend's response headers; past it the client gets 408 and the
    /// result is `timeout`. No deadline when absent.
    #[serde(default, deserialize_with = "duration::deserialize_option")]
    pub timeout: Option<Duration>,
    /// Backend statuses counted as failures: the response is kept and the result is
    /// `failureCode`. Default: every 5xx.
    #[serde(default)]
    pub failure_codes: Option<Vec<u16>>,
    /// Overrides the proxy's `serverMaxBodySize` for this pool.
    #[serde(default)]
    pub server_max_body_size: Option<i64>,
    /// Always send the server's host as `Host` (`keepHost` on a server still wins).
    #[serde(default)]
    pub set_upstream_host: bool,
    #[serde(default)]
    pub health_check: Option<HealthCheckSpec>,
    /// The name of a `Retry` policy in the pipeline's `resilience:`: a forward to this
    /// pool that fails is retried by it.
    #[serde(default)]
    pub retry_policy: Option<String>,
    /// The name of a `CircuitBreaker` policy in the pipeline's `resilience:`, which
    /// guards every forward to this pool (around the retries: one client request is
    /// one call to the breaker).
    #[serde(default)]
    pub circuit_breaker_policy: Option<String>,
    /// Accepted for Easegress compatibility; tags only matter with service registries.
    #[serde(default)]
    pub server_tags: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServerSpec {
    /// `http://host:port` or `https://host:port`, optionally with a base path.
    pub url: String,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Relative weight for `weightedRandom`, 0..=100.
    #[serde(default)]
    pub weight: u32,
    /// Forward the client's `Host` header unchanged.
    #[serde(default)]
    pub keep_host: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoadBalanceSpec {
    /// `roundRobin` (default), `random`, `weightedRandom`, `ipHash` or `headerHash`.
    #[serde(default)]
    pub policy: Option<String>,
    /// Header hashed by `headerHash`.
    #[serde(default)]
    pub header_hash_key: Option<String>,
}

/// Active health checking: unhealthy servers leave the rotation until they pass again.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HealthCheckSpec {
    /// Time between checks. Default 60s.
    #[serde(default = "default_interval", deserialize_with = "duration::deserialize")]
    pub interval: Duration,
    /// Deadline of one check. Default 3s.
    #[serde(default = "default_check_timeout", deserialize_with = "duration::deserialize")]
    pub timeout: Duration,
    /// Consecutive failures that make a server unhealthy. Default 1.
    #[serde(default = "one")]
    pub fails: u32,
    /// Consecutive successes that make it healthy again. Default 1. (`pass` is accepted,
    /// as Easegress's docs spell it.)
    #[serde(default = "one", alias = "pass")]
    pub passes: u32,
    /// Port to check instead of the server's.
    #[serde(default)]
    pub port: Option<u16>,
    /// Path and query to request. Default `/`. (`path` is accepted too.)
    #[serde(default, alias = "path")]
    pub uri: Option<String>,
    /// Method of the check. Default GET.
    #[serde(default)]
    pub method: Option<String>,
    /// Extra request headers (`Host` overrides the host).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default, rename = "match")]
    pub matches: Option<HealthMatchSpec>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HealthMatchSpec {
    /// Inclusive ranges of healthy statuses. Default `[[200, 399]]`.
    #[serde(default)]
    pub status_codes: Vec<[u16; 2]>,
}

/// Selects requests for a candidate or mirror pool.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RequestMatcherSpec {
    /// `general` (default: match `headers`/`urls`), or `ipHash`, `headerHash`, `random`,
    /// which take the share of requests given by `permil`.
    #[serde(default)]
    pub policy: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, StringMatcherSpec>,
    #[serde(default)]
    pub urls: Vec<MethodAndUrlMatcherSpec>,
    /// Require all `headers` to match (default: any one).
    #[serde(default)]
    pub match_all_headers: bool,
    /// Share of requests (out of 1000) taken by the hash and random policies.
    #[serde(default)]
    pub permil: u32,
    #[serde(default)]
    pub header_hash_key: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StringMatcherSpec {
    #[serde(default)]
    pub exact: Option<String>,
    #[serde(default)]
    pub prefix: Option<String>,
    #[serde(default)]
    pub regex: Option<String>,
    /// Matches when the value is empty or absent.
    #[serde(default)]
    pub empty: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MethodAndUrlMatcherSpec {
    /// Empty allows every method.
    #[serde(default)]
    pub methods: Vec<String>,
    pub url: StringMatcherSpec,
}

fn default_max_idle_per_host() -> usize {
    1024
}

fn default_interval() -> Duration {
    Duration::from_secs(60)
}

fn default_check_timeout() -> Duration {
    Duration::from_secs(3)
}

fn one() -> u32 {
    1
}
