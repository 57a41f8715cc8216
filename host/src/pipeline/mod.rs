//! Pipelines: a flow of filters that one request runs through, and the orchestrator that
//! drives it (flow order, `jumpIf`, implicit END, namespaces, the response phase).

pub mod context;
pub mod filter;
pub mod flow;
pub mod guard;
mod kinds;
pub mod resilience;
#[cfg(test)]
mod tests;

pub use context::{Context, NamespaceId};
pub use filter::{BuildContext, BuiltFilter, Filter, FilterFuture, FilterKind, Outcome};
pub use kinds::FilterKinds;

use crate::config::pipeline::END;
use crate::config::{FieldError, PipelineSpec};
use crate::http::{responses, Request, Response};
use flow::{Flow, Jump};
use http::StatusCode;
use std::collections::HashSet;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

/// A built, validated pipeline, ready to serve. Immutable: a change builds a new one.
pub struct Pipeline {
    name: String,
    filters: Vec<Arc<dyn Filter>>,
    flow: Flow,
    /// `flow.namespaces`, shared with every request's context.
    namespaces: Arc<[String]>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("name", &self.name)
            .field("flow", &self.flow)
            .finish()
    }
}

/// The steps of one request whose `on_request` ran and that have a response phase, in
/// the order they ran. Up to eight are kept inline (more spill to the heap), so that a
/// request through a few response filters allocates nothing for the list.
type RanSteps = smallvec::SmallVec<[usize; 8]>;

/// Kinds whose templates see the whole pipeline (`.data.PIPELINE`, every namespace).
const PIPELINE_AWARE_KINDS: &[&str] = &["RequestBuilder", "ResponseBuilder", "ResultBuilder", "DataBuilder"];

/// For the builder kinds, the filter's spec with a `pipeline` field added: the pipeline's
/// `data` and the namespaces its flow uses (DEFAULT first), which templates range over.
/// Filters get nothing else from their pipeline, so this rides in the config they
/// already receive instead of a new host interface.
fn pipeline_aware(filter: &crate::config::FilterSpec, spec: &PipelineSpec) -> Option<crate::config::FilterSpec> {
    if !PIPELINE_AWARE_KINDS.contains(&filter.kind.as_str()) {
        return None;
    }
    let mut namespaces = vec![crate::config::pipeline::DEFAULT_NAMESPACE.to_string()];
    for node in &spec.flow {
        if let Some(ns) = node.namespace.as_deref().filter(|ns| !ns.is_empty()) {
            if !namespaces.iter().any(|n| n == ns) {
                namespaces.push(ns.to_string());
            }
        }
    }
    let mut info = serde_yaml::Mapping::new();
    info.insert("name".into(), spec.name.clone().into());
    info.insert("data".into(), spec.data.clone().unwrap_or_default());
    info.insert(
        "namespaces".into(),
        serde_yaml::Value::Sequence(namespaces.into_iter().map(Into::into).collect()),
    );
    let mut with = filter.clone();
    if let serde_yaml::Value::Mapping(map) = &mut with.spec {
        map.insert("pipeline".into(), serde_yaml::Value::Mapping(info));
    }
    Some(with)
}

impl Pipeline {
    /// Builds every filter and resolves the flow. Nothing is live until this succeeds.
    pub fn build(spec: &PipelineSpec, kinds: &FilterKinds, ctx: &BuildContext) -> Result<Pipeline, FieldError> {
        let filter_names: Vec<&str> = spec.filters.iter().map(|f| f.name.as_str()).collect();
        let ctx = &BuildContext {
            resilience: resilience::ResiliencePolicies::build(&spec.resilience, &filter_names, kinds, ctx)?,
            ..ctx.clone()
        };
        let mut names = HashSet::new();
        let mut built = Vec::with_capacity(spec.filters.len());
        for (i, filter) in spec.filters.iter().enumerate() {
            let at = format!("filters[{i}]");
            if filter.name == END {
                return Err(FieldError::new(
                    format!("{at}.name"),
                    "END is reserved and cannot name a filter",
                ));
            }
            if !names.insert(filter.name.as_str()) {
                return Err(FieldError::new(
                    format!("{at}.name"),
                    format!("two filters are named {:?}", filter.name),
                ));
            }
            let kind = kinds.get(&filter.kind).ok_or_else(|| {
                FieldError::new(
                    format!("{at}.kind"),
                    format!(
                        "unknown filter kind {:?} (known: {})",
                        filter.kind,
                        kinds.names().join(", ")
                    ),
                )
            })?;
            let with_pipeline = pipeline_aware(filter, spec);
            let filter = with_pipeline.as_ref().unwrap_or(filter);
            let filter = kind.build(filter, ctx).map_err(|e| {
                let e = e.within(&at);
                FieldError {
                    message: format!("filter {:?}: {}", filter.name, e.message),
                    ..e
                }
            })?;
            built.push(filter);
        }
        let infos: Vec<flow::FilterInfo<'_>> = spec
            .filters
            .iter()
            .zip(&built)
            .map(|(f, b)| flow::FilterInfo {
                name: &f.name,
                results: &b.results,
                guard: b.filter.is_guard(),
            })
            .collect();
        let flow = flow::resolve(&spec.flow, &infos)?;
        Ok(Pipeline {
            name: spec.name.clone(),
            filters: built.into_iter().map(|b| b.filter).collect(),
            namespaces: flow.namespaces.clone().into(),
            flow,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Every file the pipeline's filters were built from, with the digest it had then.
    pub fn sources(&self) -> Vec<(std::path::PathBuf, [u8; 32])> {
        self.filters.iter().flat_map(|f| f.sources()).collect()
    }

    /// Runs one request through the flow and returns the response for the client: the
    /// one in namespace DEFAULT at the end, or 503 if there is none.
    pub async fn run(&self, request: Request, client_addr: SocketAddr) -> Response {
        let mut ctx = Context::new(request, client_addr, self.namespaces.clone());
        // Steps whose on_request ran and that want a response phase, in order.
        let mut ran = RanSteps::new();
        let mut index = 0;
        while let Some(step) = self.flow.steps.get(index) {
            if step.filter.is_none() {
                break;
            }
            let (outcome, last) = match self.plain_step(index) {
                // Most steps are a filter alone: run in place, not boxed.
                Some(filter) => (self.run_filter(filter, &mut ctx, index, &mut ran).await, index),
                None => self.run_step(&mut ctx, index, &mut ran).await,
            };
            if let Outcome::Respond(response) = outcome {
                ctx.set_response(self.flow.steps[last].namespace, *response);
                break;
            }
            let result = outcome.result();
            // The step that ran decides where to go; for a guarded step, the guards
            // around it are asked next, innermost first.
            let jump = (index..=last).rev().find_map(|i| self.flow.steps[i].jump_for(result));
            match jump {
                Some(Jump::To(target)) => index = target,
                Some(Jump::End) => break,
                None if result.is_empty() => index = last + 1,
                // Easegress semantics: a result nobody handles ends the pipeline.
                None => break,
            }
        }
        for &index in ran.iter().rev() {
            let step = &self.flow.steps[index];
            let filter = &self.filters[step.filter.expect("END steps never run")];
            if let Outcome::Respond(response) = filter::response_phase(filter.as_ref(), &mut ctx, step.namespace).await
            {
                ctx.set_response(step.namespace, *response);
            }
        }
        ctx.take_response(NamespaceId::DEFAULT)
            .unwrap_or_else(|| responses::empty(StatusCode::SERVICE_UNAVAILABLE))
    }

    /// Runs the filter step at `index`, and for a guard the step it guards (which may be
    /// a guard in turn). Returns the outcome and the index of the last step that took
    /// part, whose `jumpIf` applies first.
    fn run_step<'a>(
        &'a self,
        ctx: &'a mut Context,
        index: usize,
        ran: &'a mut RanSteps,
    ) -> Pin<Box<dyn Future<Output = (Outcome, usize)> + Send + 'a>> {
        Box::pin(async move {
            let step = &self.flow.steps[index];
            let filter = &self.filters[step.filter.expect("only filter steps run")];
            if !filter.is_guard() {
                return (self.run_filter(filter.as_ref(), ctx, index, ran).await, index);
            }
            let mut guarded = GuardedStep {
                pipeline: self,
                index: index + 1,
                ran,
                last: index + 1,
            };
            let end = guard::run(filter.as_ref(), ctx, step.namespace, &mut guarded).await;
            let last = if end.stopped { index } else { guarded.last };
            (end.outcome, last)
        })
    }

    /// The filter of step `index` if it is not a guard (which runs the steps after it).
    fn plain_step(&self, index: usize) -> Option<&dyn Filter> {
        let filter = self.filters[self.flow.steps[index].filter?].as_ref();
        (!filter.is_guard()).then_some(filter)
    }

    /// Runs the request phase of `filter`, step `index`, noting in `ran` that its
    /// response phase is due.
    async fn run_filter(&self, filter: &dyn Filter, ctx: &mut Context, index: usize, ran: &mut RanSteps) -> Outcome {
        let outcome = filter::request_phase(filter, ctx, self.flow.steps[index].namespace).await;
        if filter.has_response_phase() && ran.last() != Some(&index) {
            ran.push(index);
        }
        outcome
    }
}

/// The step a guard wraps, as an attempt the guard may repeat.
struct GuardedStep<'p> {
    pipeline: &'p Pipeline,
    index: usize,
    ran: &'p mut RanSteps,
    /// The last step that took part in the latest attempt.
    last: usize,
}

impl guard::Attempt for GuardedStep<'_> {
    fn run<'a>(&'a mut self, ctx: &'a mut Context) -> FilterFuture<'a> {
        Box::pin(async move {
            let (outcome, last) = self.pipeline.run_step(ctx, self.index, self.ran).await;
            self.last = last;
            outcome
        })
    }
}
