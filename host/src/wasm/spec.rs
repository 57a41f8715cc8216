//! The YAML of WASM filters: `kind: Wasm` with its module and config, and the runtime
//! settings every WASM filter (built-in kinds included) accepts.

use crate::config::duration;
use crate::config::FieldError;
use serde::{Deserialize, Deserializer};
use std::time::Duration;

/// The default `timeout`: the guest time one phase call may use. Generous for header
/// work (a call costs microseconds) yet short enough that a runaway loop costs a
/// request, not a worker.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(100);

/// The default `maxMemory` per instance.
pub const DEFAULT_MAX_MEMORY: usize = 32 << 20;

/// What a request gets when the filter traps, times out or hits its memory cap.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FailurePolicy {
    /// A 500 whose body names the filter. The default.
    #[default]
    Closed,
    /// Go on as if the filter had returned `continue`.
    Open,
}

/// How instances are used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Isolation {
    /// A pool of initialised instances reused across requests. The default.
    #[default]
    Pool,
    /// A fresh instance per call, for code nobody trusts: nothing a request leaves in
    /// memory reaches the next one.
    Instance,
}

/// Runtime settings of any WASM filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeSettings {
    pub timeout: Duration,
    pub max_memory: usize,
    pub failure_policy: FailurePolicy,
    pub isolation: Isolation,
    /// URL prefixes the filter's outbound calls may go to.
    pub allowed_urls: Vec<String>,
    /// Extra result strings the filter may return, for `jumpIf`.
    pub results: Vec<String>,
    /// Whether the filter is a guard that wraps the step after it (ABI 1.1.0).
    pub guard: bool,
}

/// `kind: Wasm`: a custom filter.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WasmSpec {
    #[allow(
        dead_code,
        reason = "read by the pipeline; declared so that deny_unknown_fields accepts it"
    )]
    pub name: String,
    #[allow(
        dead_code,
        reason = "read by the pipeline; declared so that deny_unknown_fields accepts it"
    )]
    pub kind: String,
    /// Path of the `.wasm` component, relative to the configuration file.
    pub module: String,
    /// Anything; handed to the filter's `init` as JSON.
    #[serde(default)]
    pub config: Option<serde_yaml::Value>,
    /// Guest time one call may use, e.g. `50ms`. Default 100ms.
    #[serde(default, deserialize_with = "opt_duration")]
    pub timeout: Option<Duration>,
    /// Memory cap per instance: bytes, or `16MiB`, `512KiB`, `1GiB`. Default 32MiB.
    #[serde(default)]
    pub max_memory: Option<ByteSize>,
    /// `closed` (default): a failing call answers 500. `open`: the flow goes on.
    #[serde(default)]
    pub failure_policy: FailurePolicy,
    /// `pool` (default) or `instance` (a fresh instance per call).
    #[serde(default)]
    pub isolation: Isolation,
    /// URL prefixes outbound calls may go to. None by default.
    #[serde(default)]
    pub allowed_urls: Vec<String>,
    /// The result strings the filter may return (what `jumpIf` may name).
    #[serde(default)]
    pub results: Vec<String>,
    /// A guard wraps the step after it in the flow: its `on-request` runs before that
    /// step, its `on-response` after each attempt at it (and may ask for a retry).
    /// Needs a component built against ABI 1.1.0 or later.
    #[serde(default)]
    pub guard: bool,
}

impl WasmSpec {
    pub fn settings(&self) -> Result<RuntimeSettings, FieldError> {
        settings(
            self.timeout,
            self.max_memory,
            self.failure_policy,
            self.isolation,
            self.allowed_urls.clone(),
            self.results.clone(),
        )
        .map(|settings| RuntimeSettings {
            guard: self.guard,
            ..settings
        })
    }
}

/// The runtime fields of a built-in kind, which sit beside its own fields.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuiltinRuntime {
    #[serde(default, deserialize_with = "opt_duration")]
    pub timeout: Option<Duration>,
    #[serde(default)]
    pub max_memory: Option<ByteSize>,
    #[serde(default)]
    pub failure_policy: FailurePolicy,
    #[serde(default)]
    pub isolation: Isolation,
}

/// The keys of [`BuiltinRuntime`] (and `name`, `kind`), which are not passed to a
/// built-in filter's `init`.
pub const HOST_KEYS: [&str; 6] = ["name", "kind", "timeout", "maxMemory", "failurePolicy", "isolation"];

impl BuiltinRuntime {
    pub fn settings(&self, results: &[&str]) -> Result<RuntimeSettings, FieldError> {
        settings(
            self.timeout,
            self.max_memory,
            self.failure_policy,
            self.isolation,
            Vec::new(),
            results.iter().map(|r| r.to_string()).collect(),
        )
    }
}

fn settings(
    timeout: Option<Duration>,
    max_memory: Option<ByteSize>,
    failure_policy: FailurePolicy,
    isolation: Isolation,
    allowed_urls: Vec<String>,
    results: Vec<String>,
) -> Result<RuntimeSettings, FieldError> {
    let timeout = timeout.unwrap_or(DEFAULT_TIMEOUT);
    if timeout.is_zero() {
        return Err(FieldError::new("timeout", "must be more than zero"));
    }
    let max_memory = max_memory.map_or(DEFAULT_MAX_MEMORY, |b| b.0);
    let ceiling = super::engine::MEMORY_CEILING;
    if max_memory > ceiling {
        return Err(FieldError::new(
            "maxMemory",
            format!("{max_memory} bytes is above the host's ceiling of {ceiling} bytes"),
        ));
    }
    Ok(RuntimeSettings {
        timeout,
        max_memory,
        failure_policy,
        isolation,
        allowed_urls,
        results,
        guard: false,
    })
}

fn opt_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let text = String::deserialize(d)?;
    duration::parse(&text).map(Some).map_err(serde::de::Error::custom)
}

/// A size in bytes, written as a number or with a unit (`KiB`, `MiB`, `GiB`, `KB`,
/// `MB`, `GB`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSize(pub usize);

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(u64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Number(n) => Ok(ByteSize(n as usize)),
            Raw::Text(text) => parse_size(&text).map(ByteSize).map_err(serde::de::Error::custom),
        }
    }
}

fn parse_size(text: &str) -> Result<usize, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("size {text:?} is not like 16MiB or 1048576"))?;
    let scale: u64 = match unit.trim() {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        "KB" | "kB" => 1000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        other => return Err(format!("size {text:?} has an unknown unit {other:?}")),
    };
    number
        .checked_mul(scale)
        .map(|n| n as usize)
        .ok_or_else(|| format!("size {text:?} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_and_without_units() {
        assert_eq!(parse_size("16MiB"), Ok(16 << 20));
        assert_eq!(parse_size("512 KiB"), Ok(512 << 10));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert_eq!(parse_size("2MB"), Ok(2_000_000));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("3TiB").is_err());
    }

    #[test]
    fn a_wasm_spec_reads_its_fields_and_refuses_unknown_ones() {
        let spec: WasmSpec = serde_yaml::from_str(
            "{name: f, kind: Wasm, module: f.wasm, timeout: 20ms, maxMemory: 8MiB, failurePolicy: open, isolation: instance}",
        )
        .unwrap();
        let settings = spec.settings().unwrap();
        assert_eq!(settings.timeout, Duration::from_millis(20));
        assert_eq!(settings.max_memory, 8 << 20);
        assert_eq!(settings.failure_policy, FailurePolicy::Open);
        assert_eq!(settings.isolation, Isolation::Instance);
        assert!(serde_yaml::from_str::<WasmSpec>("{name: f, kind: Wasm, module: f.wasm, modul: x}").is_err());
    }
}
