//! A WASM filter in a pipeline: takes an instance (from its pool, or a fresh one in
//! isolated mode), runs a phase, and turns failures into its failure policy.

use super::bindings::weir::filter::types::{Outcome as WireOutcome, Phases};
use super::epoch;
use super::host::build_response;
use super::instance::{CallError, CallMode, Instance, InstanceRecipe, Phase};
use super::instance_pool::InstancePool;
use super::spec::{FailurePolicy, Isolation, RuntimeSettings};
use crate::http::Body;
use crate::metrics::{FailureKind, FilterMeter};
use crate::pipeline::{Context, Filter, FilterFuture, NamespaceId, Outcome};
use std::borrow::Cow;
use std::time::Instant;

/// A pooled instance is retired after this many calls and a fresh one takes its place
/// (about 30 µs, once per 10,000 calls). This bounds whatever an instance accumulates
/// over its life, such as memory a guest leaks. It also once kept instances under
/// wasmtime 48's per-store limit of 100,000 component handles, which grew by one per
/// call while each call pushed a fresh `exchange`; an instance now reuses one.
const RETIRE_AFTER_CALLS: u64 = 10_000;

pub struct WasmFilter {
    recipe: InstanceRecipe,
    settings: RuntimeSettings,
    phases: Phases,
    pool: InstancePool,
    /// How calls run: as plain calls if the filter promised never to wait.
    mode: CallMode,
    meter: FilterMeter,
    /// The module file the component was read from (none for built-in kinds).
    module: Option<std::path::PathBuf>,
}

impl WasmFilter {
    /// Makes the first instance, which runs `init` and so validates the config, and
    /// keeps it for the first request.
    pub async fn build(
        recipe: InstanceRecipe,
        settings: RuntimeSettings,
        meter: FilterMeter,
        module: Option<std::path::PathBuf>,
    ) -> Result<WasmFilter, CallError> {
        // Once per filter, not per instance: isolated mode makes one per call.
        epoch::enforce_within(recipe.timeout);
        let first = Instance::create(&recipe, CallMode::MayWait).await?;
        // Whether calls may wait is fixed when an instance is made, and the filter only
        // says so in `init`: if it promised never to wait, the first instance gives way
        // to one whose calls cost less, and so does every later one.
        let mode = match first.promised_never_to_wait() {
            true => CallMode::NeverWaits,
            false => CallMode::MayWait,
        };
        let first = match mode {
            CallMode::NeverWaits => {
                let identity = &recipe.identity;
                tracing::debug!(pipeline = %identity.pipeline, filter = %identity.filter, "the filter promised never to wait; its calls run as plain calls");
                Instance::create(&recipe, mode).await?
            }
            CallMode::MayWait => first,
        };
        let phases = first.phases;
        let pool = InstancePool::new();
        if settings.isolation == Isolation::Pool {
            pool.put(Box::new(first));
        }
        meter.set_idle_instances(pool.idle());
        Ok(WasmFilter {
            recipe,
            settings,
            phases,
            pool,
            mode,
            meter,
            module,
        })
    }

    async fn instance(&self) -> Result<Box<Instance>, CallError> {
        if self.settings.isolation == Isolation::Pool {
            if let Some(instance) = self.pool.take() {
                return Ok(instance);
            }
        }
        // Boxed: making an instance is a future twice the size of a phase call's, and
        // unboxed it would set the size of every call's future, which is allocated and
        // copied per call. A pooled call rarely gets here; an isolated one spends tens of
        // microseconds instantiating, beside which one allocation does not show.
        Box::pin(Instance::create(&self.recipe, self.mode)).await.map(Box::new)
    }

    /// Runs one phase call and counts it in the filter's figures.
    async fn run(&self, ctx: &mut Context, ns: NamespaceId, phase: Phase) -> Outcome {
        let started = Instant::now();
        let outcome = self.call(ctx, ns, phase, started).await;
        self.count(&outcome, started);
        outcome
    }

    /// The call of [`WasmFilter::run`] made at once, on an idle pooled instance of a
    /// filter that promised never to wait; `None` (and nothing done) otherwise. Such a
    /// call cannot pause, so a future would only add its allocation and the copying of
    /// the call's state in and out of it.
    fn run_now(&self, ctx: &mut Context, ns: NamespaceId, phase: Phase) -> Option<Outcome> {
        if self.mode != CallMode::NeverWaits || self.settings.isolation != Isolation::Pool {
            return None;
        }
        let started = Instant::now();
        let mut instance = self.pool.take()?;
        // As in `call`: the context moves into the store for the call. Nothing can
        // interrupt a call that never waits, so no guard is needed to bring it back.
        let taken = std::mem::replace(ctx, Context::stand_in(ctx.client_addr()));
        let (context, result) = instance.call_now(phase, taken, ns, started);
        *ctx = context;
        let outcome = self.settle(instance, result);
        self.count(&outcome, started);
        Some(outcome)
    }

    /// Counts a finished call in the filter's figures.
    fn count(&self, outcome: &Outcome, started: Instant) {
        self.meter.finished(outcome.result(), started.elapsed());
        self.meter.set_idle_instances(self.pool.idle());
    }

    async fn call(&self, ctx: &mut Context, ns: NamespaceId, phase: Phase, started: Instant) -> Outcome {
        let instance = match self.instance().await {
            Ok(instance) => instance,
            Err(e) => return self.failed(&e),
        };
        // Host functions reach the request through the store, so the context moves in
        // for the call; an empty stand-in holds its place meanwhile.
        let placeholder = Context::stand_in(ctx.client_addr());
        let taken = std::mem::replace(ctx, placeholder);
        let mut call = InFlight {
            ctx,
            instance: Some(instance),
        };
        let running = call.instance.as_mut().expect("set just above");
        let (context, result) = running.call(phase, taken, ns, started).await;
        *call.ctx = context;
        let instance = call.instance.take().expect("taken only here or on drop");
        self.settle(instance, result)
    }

    /// The outcome of a finished call, with the instance put back in the pool if it is
    /// healthy.
    fn settle(&self, instance: Box<Instance>, result: Result<WireOutcome, CallError>) -> Outcome {
        match result {
            Ok(outcome) => {
                // A trapped instance is dropped (by not being put back); a healthy one
                // goes back for the next request, unless it has served its share.
                if self.settings.isolation == Isolation::Pool && instance.calls() < RETIRE_AFTER_CALLS {
                    self.pool.put(instance);
                }
                self.outcome(outcome)
            }
            Err(e) => self.failed(&e),
        }
    }

    fn outcome(&self, outcome: WireOutcome) -> Outcome {
        match outcome {
            WireOutcome::Continue => Outcome::Continue,
            WireOutcome::Result(r) if r.is_empty() => Outcome::Continue,
            WireOutcome::Result(r) => Outcome::Result(Cow::Owned(r)),
            WireOutcome::Respond(built) => match build_response(built) {
                Ok(response) => Outcome::Respond(Box::new(response)),
                Err(e) => self.failed(&CallError::Trap(format!("it built a bad response: {e}"))),
            },
        }
    }

    /// Applies the failure policy to one failed call.
    fn failed(&self, error: &CallError) -> Outcome {
        self.meter.failed(match error {
            CallError::Timeout(_) => FailureKind::Timeout,
            CallError::Memory(_) => FailureKind::Memory,
            CallError::Trap(_) => FailureKind::Trap,
            CallError::Init(_) => FailureKind::Init,
        });
        let identity = &self.recipe.identity;
        tracing::warn!(
            pipeline = %identity.pipeline,
            filter = %identity.filter,
            policy = ?self.settings.failure_policy,
            "filter failed: {error}"
        );
        match self.settings.failure_policy {
            FailurePolicy::Open => Outcome::Continue,
            FailurePolicy::Closed => {
                let body = format!("filter {:?} failed\n", identity.filter);
                let mut response = http::Response::new(Body::from(body));
                *response.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
                response.headers_mut().insert(
                    http::header::CONTENT_TYPE,
                    http::HeaderValue::from_static("text/plain; charset=utf-8"),
                );
                Outcome::Respond(Box::new(response))
            }
        }
    }
}

/// A call in progress. If its future is dropped mid-call (a guard's deadline passed),
/// the request is taken back out of the instance's store, and the instance, stopped at
/// an arbitrary point, is dropped rather than pooled.
struct InFlight<'a> {
    ctx: &'a mut Context,
    instance: Option<Box<Instance>>,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Some(context) = self.instance.as_mut().and_then(|instance| instance.reclaim()) {
            *self.ctx = context;
        }
    }
}

impl Filter for WasmFilter {
    fn on_request<'a>(&'a self, ctx: &'a mut Context, ns: NamespaceId) -> FilterFuture<'a> {
        if !self.phases.contains(Phases::REQUEST) {
            return Box::pin(std::future::ready(Outcome::Continue));
        }
        Box::pin(self.run(ctx, ns, Phase::Request))
    }

    fn on_response<'a>(&'a self, ctx: &'a mut Context, ns: NamespaceId) -> FilterFuture<'a> {
        Box::pin(self.run(ctx, ns, Phase::Response))
    }

    fn on_request_now(&self, ctx: &mut Context, ns: NamespaceId) -> Option<Outcome> {
        if !self.phases.contains(Phases::REQUEST) {
            return Some(Outcome::Continue);
        }
        self.run_now(ctx, ns, Phase::Request)
    }

    fn on_response_now(&self, ctx: &mut Context, ns: NamespaceId) -> Option<Outcome> {
        self.run_now(ctx, ns, Phase::Response)
    }

    fn has_response_phase(&self) -> bool {
        self.phases.contains(Phases::RESPONSE)
    }

    fn is_guard(&self) -> bool {
        self.settings.guard
    }

    /// The module file with the digest of the bytes compiled, so that writing a new
    /// build over it swaps the filter.
    fn sources(&self) -> Vec<(std::path::PathBuf, [u8; 32])> {
        self.module
            .iter()
            .map(|path| (path.clone(), self.recipe.compiled.sha256))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::{CallMode, Instance, InstanceRecipe, Phase, WasmFilter};
    use crate::config::FilterSpec;
    use crate::http::{Body, Request};
    use crate::pipeline::{BuildContext, Context, FilterKinds, NamespaceId, Outcome};
    use std::sync::Arc;

    /// One pooled instance serving far more calls than wasmtime's per-store handle
    /// limit (100,000) must keep serving. When each call pushed a fresh `exchange`,
    /// call 100,001 trapped unless the instance was retired first.
    #[tokio::test]
    async fn a_pooled_filter_serves_past_the_store_handle_limit() {
        let spec: FilterSpec =
            serde_yaml::from_str("{name: check, kind: Validator, headers: {X-Key: {values: [ok]}}}").unwrap();
        let kinds = FilterKinds::builtin();
        let built = kinds
            .get("Validator")
            .unwrap()
            .build(&spec, &BuildContext::new("handles", "."))
            .unwrap();
        let client = ([127, 0, 0, 1], 4000).into();
        for call in 0..120_000 {
            let mut request = Request::new(Body::Empty);
            request.headers_mut().insert("x-key", "ok".parse().unwrap());
            let mut ctx = Context::new(request, client, Arc::from([]));
            let outcome = built.filter.on_request(&mut ctx, NamespaceId::DEFAULT).await;
            assert!(matches!(outcome, Outcome::Continue), "call {call}: {outcome:?}");
        }
    }

    /// The size of the future an expression of type `fn(A…) -> F` returns, without
    /// calling it.
    fn future_size<A, F>(_: impl FnOnce(A) -> F) -> usize {
        std::mem::size_of::<F>()
    }

    /// Every filter call allocates its future and copies it in, so the future of a
    /// pooled call should be about the phase call's own, not grown by the rarely taken
    /// path that makes a new instance.
    #[test]
    fn a_calls_future_is_not_sized_by_making_an_instance() {
        let make = future_size(|recipe: &InstanceRecipe| Instance::create(recipe, CallMode::MayWait));
        let phase = future_size(|(instance, ctx): (&mut Instance, Context)| {
            instance.call(Phase::Request, ctx, NamespaceId::DEFAULT, std::time::Instant::now())
        });
        let call = future_size(|(filter, ctx): (&WasmFilter, &mut Context)| {
            filter.run(ctx, NamespaceId::DEFAULT, Phase::Request)
        });
        assert!(
            make > phase,
            "making an instance ({make} bytes) is the larger future, or this test is moot"
        );
        assert!(
            call < phase + 512,
            "a filter call's future is {call} bytes against the phase call's {phase}"
        );
    }
}
