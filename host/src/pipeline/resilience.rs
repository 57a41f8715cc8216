//! A pipeline's `resilience:` policies: `Retry` and `CircuitBreaker` guards built once
//! with the pipeline, which Proxy pools name in `retryPolicy` and
//! `circuitBreakerPolicy`. They are the same components as the guard kinds of a flow.

use super::filter::{BuildContext, Filter};
use super::kinds::FilterKinds;
use crate::config::{FieldError, FilterSpec};
use std::collections::HashMap;
use std::sync::Arc;

/// The kinds a `resilience:` entry may have (Easegress's).
const POLICY_KINDS: [&str; 2] = ["Retry", "CircuitBreaker"];

struct Policy {
    kind: String,
    filter: Arc<dyn Filter>,
}

/// Built policies by name. Cheap to clone.
#[derive(Clone, Default)]
pub struct ResiliencePolicies {
    by_name: Arc<HashMap<String, Policy>>,
}

impl std::fmt::Debug for ResiliencePolicies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.by_name.keys()).finish()
    }
}

impl ResiliencePolicies {
    /// Builds every entry of `resilience:`. Names must differ from each other and from
    /// the pipeline's filters, since a policy keeps its counters under its name.
    pub fn build(
        specs: &[FilterSpec],
        filter_names: &[&str],
        kinds: &FilterKinds,
        ctx: &BuildContext,
    ) -> Result<ResiliencePolicies, FieldError> {
        let mut by_name = HashMap::new();
        for (i, spec) in specs.iter().enumerate() {
            let at = format!("resilience[{i}]");
            if !POLICY_KINDS.contains(&spec.kind.as_str()) {
                return Err(FieldError::new(
                    format!("{at}.kind"),
                    format!(
                        "{:?} is not a resilience policy kind (known: {})",
                        spec.kind,
                        POLICY_KINDS.join(", ")
                    ),
                ));
            }
            if filter_names.contains(&spec.name.as_str()) || by_name.contains_key(&spec.name) {
                return Err(FieldError::new(
                    format!("{at}.name"),
                    format!("{:?} is already the name of a filter or another policy", spec.name),
                ));
            }
            let kind = kinds.get(&spec.kind).expect("the policy kinds are built in");
            let built = kind.build(spec, ctx).map_err(|e| e.within(&at))?;
            by_name.insert(
                spec.name.clone(),
                Policy {
                    kind: spec.kind.clone(),
                    filter: built.filter,
                },
            );
        }
        Ok(ResiliencePolicies {
            by_name: Arc::new(by_name),
        })
    }

    /// The policy called `name`, which must be of `kind`. `field` names the reference
    /// in errors (`pools[0].retryPolicy`).
    pub fn get(&self, name: &str, kind: &str, field: &str) -> Result<Arc<dyn Filter>, FieldError> {
        match self.by_name.get(name) {
            Some(policy) if policy.kind == kind => Ok(policy.filter.clone()),
            Some(policy) => Err(FieldError::new(
                field,
                format!("policy {name:?} is a {}, not a {kind}", policy.kind),
            )),
            None => {
                let mut known: Vec<_> = self
                    .by_name
                    .iter()
                    .filter(|(_, p)| p.kind == kind)
                    .map(|(n, _)| n.as_str())
                    .collect();
                known.sort_unstable();
                let known = if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                };
                Err(FieldError::new(
                    field,
                    format!(
                        "the pipeline's resilience has no {kind} policy named {name:?} (its {kind} policies: {known})"
                    ),
                ))
            }
        }
    }
}
