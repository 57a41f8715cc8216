//! The `kind: HTTPServer` object: listener settings and routing rules, with Easegress's
//! field names. Each field's doc comment is its reference documentation.

use super::duration;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// A listener plus the ordered rules that route its requests to pipelines.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpServerSpec {
    pub kind: String,
    pub name: String,
    /// TCP port to listen on (required, 1..=65535).
    pub port: u16,
    /// Address to bind; empty means all interfaces (`0.0.0.0`).
    #[serde(default)]
    pub address: String,
    /// Keep client connections open between requests. Default true (Easegress's code
    /// default; its docs say false).
    #[serde(default = "default_true")]
    pub keep_alive: bool,
    /// How long a client connection may sit idle, or take to send a complete request
    /// head, before it is closed. Default 60s.
    #[serde(default = "default_keep_alive_timeout", deserialize_with = "duration::deserialize")]
    pub keep_alive_timeout: Duration,
    /// Most client connections served at once; further connections wait in the accept
    /// queue. Default 10240.
    #[serde(default = "default_max_connections")]
    pub max_connections: u32,
    /// Terminate TLS. Needs `certs`/`keys` (or `certBase64`/`keyBase64`).
    #[serde(default)]
    pub https: bool,
    /// Legacy single certificate, base64 of the PEM.
    #[serde(default)]
    pub cert_base64: Option<String>,
    /// Legacy single key, base64 of the PEM.
    #[serde(default)]
    pub key_base64: Option<String>,
    /// Certificates by pair name; the value is PEM text or base64 of it. The one served is
    /// chosen by SNI against each certificate's names; the first pair is the fallback.
    #[serde(default)]
    pub certs: BTreeMap<String, String>,
    /// Private keys by the same pair names as `certs`.
    #[serde(default)]
    pub keys: BTreeMap<String, String>,
    /// CA (base64 of PEM) that client certificates must chain to; when set, every
    /// client must present one (mutual TLS).
    #[serde(default)]
    pub ca_cert_base64: Option<String>,
    /// Largest request body accepted, in bytes; larger ones get 413. 0 means 4 MiB;
    /// -1 streams the body to the backend without buffering or limit.
    #[serde(default)]
    pub client_max_body_size: i64,
    /// Append the client's address to `X-Forwarded-For`.
    #[serde(default)]
    pub x_forwarded_for: bool,
    /// Server-wide IP allow/block list; a refused client gets 403.
    #[serde(default)]
    pub ip_filter: Option<IpFilterSpec>,
    /// Routing rules, tried in order; the first full match wins.
    #[serde(default)]
    pub rules: Vec<RuleSpec>,
    /// Write one access-log line per request, through the log (level INFO, target
    /// `weir::access`; `WEIR_LOG=info,weir::access=off` silences it too). Default true,
    /// as operators expect of a proxy; turn it off for benchmarks or when a sidecar
    /// logs instead.
    #[serde(default = "default_true")]
    pub access_log: bool,
    /// The access-log line, with `{{Variable}}` placeholders. Variables: `Time` (arrival,
    /// RFC 3339 UTC with milliseconds), `RemoteAddr` (client address:port), `RealIP`
    /// (first `X-Forwarded-For` address, else `X-Real-IP`, else the client's), `Method`,
    /// `URI` (path and query as received, cut to 512 characters), `Proto`, `StatusCode`,
    /// `Duration` (arrival until the response body was sent), `ReqSize` (request body
    /// bytes), `RespSize` (response body bytes sent), `ReqHeaders` and `RespHeaders`
    /// (JSON objects), `Tags` (`pipeline: NAME` when a pipeline served it). Default, as
    /// in Easegress: `[{{Time}}] [{{RemoteAddr}} {{RealIP}} {{Method}} {{URI}} {{Proto}}
    /// {{StatusCode}}] [{{Duration}} rx:{{ReqSize}}B tx:{{RespSize}}B] [{{Tags}}]`.
    #[serde(default)]
    pub access_log_format: Option<String>,
}

/// Allow and block lists of addresses or CIDR ranges (IPv4 and IPv6).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IpFilterSpec {
    /// When true only `allowIPs` pass; when false everything but `blockIPs` passes.
    #[serde(default)]
    pub block_by_default: bool,
    #[serde(default, rename = "allowIPs")]
    pub allow_ips: Vec<String>,
    #[serde(default, rename = "blockIPs")]
    pub block_ips: Vec<String>,
}

/// One routing rule: which hosts it covers and its paths.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RuleSpec {
    /// Exact host, or one wildcard at the start (`*.example.com`) or end (`www.*`).
    #[serde(default)]
    pub host: Option<String>,
    /// Host regular expression.
    #[serde(default)]
    pub host_regexp: Option<String>,
    /// More hosts; the rule matches if any of `host`, `hostRegexp` or `hosts` does. No
    /// host at all matches every host. Hosts are compared without the port.
    #[serde(default)]
    pub hosts: Vec<HostSpec>,
    #[serde(default)]
    pub ip_filter: Option<IpFilterSpec>,
    #[serde(default)]
    pub paths: Vec<PathSpec>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HostSpec {
    pub value: String,
    #[serde(default)]
    pub is_regexp: bool,
}

/// One path of a rule. `path`, `pathPrefix` and `pathRegexp` are alternatives (any may
/// match); with none of them the entry matches every path.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PathSpec {
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub path_prefix: Option<String>,
    #[serde(default)]
    pub path_regexp: Option<String>,
    /// New path: replaces an exact path, replaces the matched prefix, or is the
    /// replacement (with `$1`) for `pathRegexp`.
    #[serde(default)]
    pub rewrite_target: Option<String>,
    /// Allowed methods; empty allows all. A path that matches with another method gives 405.
    #[serde(default)]
    pub methods: Vec<String>,
    /// Header conditions; a mismatch gives 400 if nothing else matches.
    #[serde(default)]
    pub headers: Vec<KeyMatchSpec>,
    /// Require every header condition (default: any one).
    #[serde(default)]
    pub match_all_header: bool,
    /// Query-parameter conditions, like `headers`.
    #[serde(default)]
    pub queries: Vec<KeyMatchSpec>,
    #[serde(default)]
    pub match_all_query: bool,
    #[serde(default)]
    pub ip_filter: Option<IpFilterSpec>,
    /// Name of the pipeline that handles matching requests.
    pub backend: String,
    /// Overrides the server's `clientMaxBodySize` for this path.
    #[serde(default)]
    pub client_max_body_size: Option<i64>,
}

/// A header or query condition: the value equals one of `values` or matches `regexp`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KeyMatchSpec {
    pub key: String,
    #[serde(default)]
    pub values: Vec<String>,
    #[serde(default)]
    pub regexp: Option<String>,
}

fn default_true() -> bool {
    true
}

fn default_keep_alive_timeout() -> Duration {
    Duration::from_secs(60)
}

fn default_max_connections() -> u32 {
    10240
}

/// The body limit used when `clientMaxBodySize` is 0.
pub const DEFAULT_MAX_BODY_SIZE: u64 = 4 * 1024 * 1024;
