//! The extension point of the pipeline: a filter, and a kind that builds filters from
//! YAML. The native Proxy and every WASM filter implement these.

use super::context::{Context, NamespaceId};
use crate::config::{FieldError, FilterSpec};
use crate::http::Response;
use std::borrow::Cow;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

/// What a filter tells the orchestrator after it ran.
#[derive(Debug)]
pub enum Outcome {
    /// Success: go on to the next step (or to the `""` jump, if there is one).
    Continue,
    /// A named result. The orchestrator follows the step's `jumpIf` for it; a result with
    /// no jump ends the pipeline (Easegress's implicit END).
    Result(Cow<'static, str>),
    /// Answer now with this response (stored in the step's namespace); the flow ends.
    /// Boxed because it is rare: the proxy stores its response in the context and
    /// continues. Unboxed, the response's 176 bytes would be the size of every outcome,
    /// copied several times per filter call on its way up the pipeline.
    Respond(Box<Response>),
}

impl Outcome {
    /// The result string this outcome stands for; `""` is success.
    pub fn result(&self) -> &str {
        match self {
            Outcome::Result(r) => r,
            Outcome::Continue | Outcome::Respond(_) => "",
        }
    }
}

/// The future a filter phase returns. Boxed so that filters can be stored as trait
/// objects; one small allocation per call.
pub type FilterFuture<'a> = Pin<Box<dyn Future<Output = Outcome> + Send + 'a>>;

/// One configured filter of one pipeline.
///
/// Lifecycle: built once by its [`FilterKind`] when the pipeline is built (never on a
/// request's path), shared by all requests through that pipeline, and dropped when the
/// last request using that pipeline version ends.
pub trait Filter: Send + Sync {
    /// Called when the flow reaches this filter's step, once per visit. It may read and
    /// change the request and response of its namespace (and others).
    fn on_request<'a>(&'a self, ctx: &'a mut Context, ns: NamespaceId) -> FilterFuture<'a>;

    /// Called after the flow has ended, in reverse order, for every step whose
    /// `on_request` ran. Only called when [`Filter::has_response_phase`] is true, so
    /// filters without one cost nothing. A `Respond` outcome replaces the step's response;
    /// result strings are ignored (the flow is over).
    fn on_response<'a>(&'a self, _ctx: &'a mut Context, _ns: NamespaceId) -> FilterFuture<'a> {
        Box::pin(std::future::ready(Outcome::Continue))
    }

    /// The request phase run to its end here and now, for a filter whose phase can
    /// never pause: `None` when it cannot be, and [`Filter::on_request`]'s future runs
    /// instead. Callers go through [`request_phase`], which tries this first: a phase
    /// done here costs no future to allocate and poll.
    fn on_request_now(&self, _ctx: &mut Context, _ns: NamespaceId) -> Option<Outcome> {
        None
    }

    /// [`Filter::on_request_now`] for the response phase.
    fn on_response_now(&self, _ctx: &mut Context, _ns: NamespaceId) -> Option<Outcome> {
        None
    }

    /// Whether [`Filter::on_response`] does anything.
    fn has_response_phase(&self) -> bool {
        false
    }

    /// Whether this filter is a guard: it wraps the step after it, its `on_request`
    /// runs before that step and its `on_response` after each attempt at it (see
    /// [`super::guard`]). A guard has no end-of-flow response phase.
    fn is_guard(&self) -> bool {
        false
    }

    /// Files this filter was built from (a `.wasm` module, say), each with the SHA-256
    /// of the content it was built from. When a file's content differs, the pipeline is
    /// rebuilt even though its YAML did not change.
    fn sources(&self) -> Vec<(PathBuf, [u8; 32])> {
        Vec::new()
    }
}

/// Runs `filter`'s request phase: at once if it can, else through its future.
pub async fn request_phase(filter: &dyn Filter, ctx: &mut Context, ns: NamespaceId) -> Outcome {
    match filter.on_request_now(ctx, ns) {
        Some(outcome) => outcome,
        None => filter.on_request(ctx, ns).await,
    }
}

/// Runs `filter`'s response phase: at once if it can, else through its future.
pub async fn response_phase(filter: &dyn Filter, ctx: &mut Context, ns: NamespaceId) -> Outcome {
    match filter.on_response_now(ctx, ns) {
        Some(outcome) => outcome,
        None => filter.on_response(ctx, ns).await,
    }
}

/// A filter built from its spec, with the result strings it may return (what `jumpIf`
/// may name).
pub struct BuiltFilter {
    pub filter: Arc<dyn Filter>,
    pub results: Vec<String>,
}

/// What a kind may need from the surroundings when it builds a filter.
#[derive(Debug, Clone)]
pub struct BuildContext {
    pub pipeline: String,
    /// Directory of the configuration file, for paths written relative to it.
    pub config_dir: PathBuf,
    /// The pipeline's `resilience:` policies, for the Proxy's pools.
    pub resilience: super::resilience::ResiliencePolicies,
}

impl BuildContext {
    /// The context of pipeline `pipeline` from a file in `config_dir`, before its
    /// resilience policies are built.
    pub fn new(pipeline: impl Into<String>, config_dir: impl Into<PathBuf>) -> BuildContext {
        BuildContext {
            pipeline: pipeline.into(),
            config_dir: config_dir.into(),
            resilience: Default::default(),
        }
    }
}

/// A kind of filter (`kind: Proxy`, `kind: Validator`, …).
pub trait FilterKind: Send + Sync {
    /// The `kind:` value.
    fn name(&self) -> &'static str;

    /// Builds one filter from its YAML spec. Runs off the request path, when a pipeline
    /// is built. Errors name the field at fault, relative to the filter.
    fn build(&self, spec: &FilterSpec, ctx: &BuildContext) -> Result<BuiltFilter, FieldError>;
}
