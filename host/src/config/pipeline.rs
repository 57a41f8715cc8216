//! The `kind: Pipeline` object: the flow of filters one request runs through.

use serde::Deserialize;
use std::collections::BTreeMap;

/// A pipeline: filters, and the flow that orders them.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PipelineSpec {
    pub kind: String,
    pub name: String,
    /// Order of execution. When absent, filters run in the order they are defined.
    #[serde(default)]
    pub flow: Vec<FlowNodeSpec>,
    /// The filters; each has a `name`, a `kind`, and the fields of that kind.
    #[serde(default)]
    pub filters: Vec<FilterSpec>,
    /// Static data for templates (`.data.PIPELINE`).
    #[serde(default)]
    pub data: Option<serde_yaml::Value>,
    /// Named policies (`kind: Retry`, `kind: CircuitBreaker`) that Proxy pools refer
    /// to by `retryPolicy` and `circuitBreakerPolicy`.
    #[serde(default)]
    pub resilience: Vec<FilterSpec>,
}

/// One step of a flow.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FlowNodeSpec {
    /// A filter name, or `END` to stop the pipeline here.
    pub filter: String,
    /// Unique name of this step, so one filter can appear more than once. Defaults to
    /// the filter name.
    #[serde(default)]
    pub alias: Option<String>,
    /// The request/response slot this step works on. Default `DEFAULT`, which holds the
    /// client's request and the response sent back.
    #[serde(default)]
    pub namespace: Option<String>,
    /// Result string → alias (later in the flow) or `END`. `""` is success.
    #[serde(default)]
    pub jump_if: BTreeMap<String, String>,
}

/// A filter as written in YAML: its name and kind, with the rest of its fields kept as
/// they are for the kind to interpret.
#[derive(Debug, Clone, PartialEq)]
pub struct FilterSpec {
    pub name: String,
    pub kind: String,
    /// The whole mapping, `name` and `kind` included.
    pub spec: serde_yaml::Value,
    /// 1-based line of the filter in its file, when known.
    pub line: Option<usize>,
}

impl<'de> Deserialize<'de> for FilterSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let spec = serde_yaml::Value::deserialize(d)?;
        let field = |key: &str| -> Result<String, D::Error> {
            match spec.get(key) {
                Some(serde_yaml::Value::String(s)) if !s.is_empty() => Ok(s.clone()),
                Some(_) => Err(D::Error::custom(format!("filter `{key}` must be a non-empty string"))),
                None => Err(D::Error::custom(format!("a filter needs a `{key}`"))),
            }
        };
        let name = field("name")?;
        let kind = field("kind")?;
        Ok(FilterSpec {
            name,
            kind,
            spec,
            line: None,
        })
    }
}

/// The reserved flow node and jump target that stops a pipeline.
pub const END: &str = "END";

/// The namespace holding the client's request and the response sent back.
pub const DEFAULT_NAMESPACE: &str = "DEFAULT";
