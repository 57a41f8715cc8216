//! One initialised instance of a filter component, and how one phase call runs on it:
//! the request moves into the store, the guest runs under its deadline, the request
//! moves back.

use super::bindings::weir::filter::types::{Outcome as WireOutcome, Phases};
use super::bindings::Filter as FilterBindings;
use super::compiled::Compiled;
use super::engine::engine;
use super::epoch::{ticks, GuestRunning};
use super::handles::ExchangeHandle;
use super::http_policy::HttpPolicy;
use super::limits::{DeadlineExceeded, MemoryCap, MemoryCapExceeded};
use super::never_waits::NeverWaitsBindings;
use super::shared_state::StateScope;
use super::store_state::{ActiveCall, FilterIdentity, HostState};
use crate::pipeline::{Context, NamespaceId};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime::component::Resource;
use wasmtime::{Store, UpdateDeadline};

/// Which export a call runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Request,
    Response,
}

/// What makes an instance for a filter: the compiled component and the filter's
/// settings.
pub struct InstanceRecipe {
    pub compiled: Arc<Compiled>,
    pub identity: Arc<FilterIdentity>,
    pub state: Arc<StateScope>,
    pub http: Arc<HttpPolicy>,
    pub config_json: String,
    pub max_memory: usize,
    pub timeout: Duration,
}

/// Why a call (or making an instance) failed, in words for the log.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("{0}")]
    Timeout(DeadlineExceeded),
    #[error("{0}")]
    Memory(MemoryCapExceeded),
    #[error("trapped: {0}")]
    Trap(String),
    #[error("init failed: {0}")]
    Init(String),
}

impl From<wasmtime::Error> for CallError {
    fn from(error: wasmtime::Error) -> Self {
        if let Some(e) = error.downcast_ref::<DeadlineExceeded>() {
            return CallError::Timeout(DeadlineExceeded { timeout: e.timeout });
        }
        if let Some(e) = error.downcast_ref::<MemoryCapExceeded>() {
            return CallError::Memory(MemoryCapExceeded {
                cap: e.cap,
                wanted: e.wanted,
            });
        }
        CallError::Trap(format!("{error:#}"))
    }
}

/// `init` gets more time than a request: it may compile regular expressions or parse
/// a large config, and it runs off the request path.
fn init_budget(timeout: Duration) -> Duration {
    (timeout * 10).max(Duration::from_secs(2))
}

/// How an instance's calls run: on a stack of their own that can be set aside while
/// the host waits, or, for a filter that promised never to wait, as plain calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallMode {
    MayWait,
    NeverWaits,
}

/// The component's exports, as each mode calls them.
enum Bindings {
    MayWait(FilterBindings),
    NeverWaits(NeverWaitsBindings),
}

pub struct Instance {
    store: Store<HostState>,
    bindings: Bindings,
    /// The table entry behind the `exchange` every phase call borrows.
    exchange: u32,
    pub phases: Phases,
    /// The guest time a phase call may use before it is cut.
    timeout: Duration,
}

impl Instance {
    /// Instantiates the component for calls of `mode` and runs `init` with the filter's
    /// config.
    pub async fn create(recipe: &InstanceRecipe, mode: CallMode) -> Result<Instance, CallError> {
        // Instantiation runs the component's start code and `init` runs guest code:
        // both under a deadline, so the epoch must move.
        let _running = GuestRunning::start();
        let state = HostState::new(
            recipe.identity.clone(),
            recipe.state.clone(),
            recipe.http.clone(),
            MemoryCap {
                max_bytes: recipe.max_memory,
            },
        );
        let mut store = Store::new(engine(), state);
        store.limiter(|state| &mut state.limits);
        store.epoch_deadline_callback(deadline_check);
        arm(&mut store, init_budget(recipe.timeout), Instant::now());
        let bindings = match mode {
            CallMode::MayWait => Bindings::MayWait(recipe.compiled.pre.instantiate_async(&mut store).await?),
            CallMode::NeverWaits => Bindings::NeverWaits(recipe.compiled.never_waits_pre.instantiate(&mut store)?),
        };
        let exchange = store
            .data_mut()
            .table
            .push(ExchangeHandle)
            .map_err(|e| CallError::Trap(e.to_string()))?
            .rep();
        let mut instance = Instance {
            bindings,
            exchange,
            store,
            phases: Phases::empty(),
            timeout: recipe.timeout,
        };
        let init = match &instance.bindings {
            Bindings::MayWait(exports) => {
                let handler = exports.weir_filter_handler();
                handler.call_init(&mut instance.store, &recipe.config_json).await?
            }
            Bindings::NeverWaits(exports) => {
                let handler = exports.weir_filter_handler();
                handler.call_init(&mut instance.store, &recipe.config_json)?
            }
        };
        instance.phases = init.map_err(CallError::Init)?;
        Ok(instance)
    }

    /// Whether the guest promised, in `init`, that its calls never wait.
    pub fn promised_never_to_wait(&self) -> bool {
        self.store.data().never_waits
    }

    /// Runs one phase against the request in `context`. The context is moved into the
    /// store for the call and always handed back, whatever happened. The deadline counts
    /// from `started`, which the caller read already for its own figures: one clock
    /// read less per call.
    pub async fn call(
        &mut self,
        phase: Phase,
        context: Context,
        namespace: NamespaceId,
        started: Instant,
    ) -> (Context, Result<WireOutcome, CallError>) {
        let _running = GuestRunning::start();
        self.begin(context, namespace, started);
        let result = self.run(phase).await;
        (self.end(), result)
    }

    /// [`Instance::call`] for an instance whose calls never wait ([`CallMode::NeverWaits`]),
    /// run to its end without a future: nothing of the call is kept across an `await`,
    /// which spares each call the copying in and out of a future's state.
    pub fn call_now(
        &mut self,
        phase: Phase,
        context: Context,
        namespace: NamespaceId,
        started: Instant,
    ) -> (Context, Result<WireOutcome, CallError>) {
        let _running = GuestRunning::start();
        self.begin(context, namespace, started);
        let result = self.run_now(phase);
        (self.end(), result)
    }

    /// Arms the deadline and moves the request into the store.
    fn begin(&mut self, context: Context, namespace: NamespaceId, started: Instant) {
        arm(&mut self.store, self.timeout, started);
        let data = self.store.data_mut();
        data.calls += 1;
        let id = data.calls;
        data.call = Some(ActiveCall { id, context, namespace });
    }

    /// Takes the request back out of the store.
    fn end(&mut self) -> Context {
        self.store
            .data_mut()
            .call
            .take()
            .expect("the call's context stays in the store until taken back here")
            .context
    }

    /// How many phase calls this instance has run.
    pub fn calls(&self) -> u64 {
        self.store.data().calls
    }

    /// The request of a call that never finished (its future was dropped), if it is
    /// still in the store.
    pub fn reclaim(&mut self) -> Option<Context> {
        self.store.data_mut().call.take().map(|call| call.context)
    }

    async fn run(&mut self, phase: Phase) -> Result<WireOutcome, CallError> {
        let Bindings::MayWait(exports) = &self.bindings else {
            return self.run_now(phase);
        };
        let exchange = Resource::<ExchangeHandle>::new_borrow(self.exchange);
        let handler = exports.weir_filter_handler();
        let outcome = match phase {
            Phase::Request => handler.call_on_request(&mut self.store, exchange).await,
            Phase::Response => handler.call_on_response(&mut self.store, exchange).await,
        };
        Ok(outcome?)
    }

    fn run_now(&mut self, phase: Phase) -> Result<WireOutcome, CallError> {
        let Bindings::NeverWaits(exports) = &self.bindings else {
            // A wiring mistake, not the guest's: reported as a failed call rather
            // than a panic on the request's thread.
            return Err(CallError::Trap(
                "a call that may wait was run as one that never waits".into(),
            ));
        };
        let exchange = Resource::<ExchangeHandle>::new_borrow(self.exchange);
        let handler = exports.weir_filter_handler();
        let outcome = match phase {
            Phase::Request => handler.call_on_request(&mut self.store, exchange),
            Phase::Response => handler.call_on_response(&mut self.store, exchange),
        };
        Ok(outcome?)
    }
}

/// Starts the deadline for a call, begun at `started`, of at most `budget` of guest time.
fn arm(store: &mut Store<HostState>, budget: Duration, started: Instant) {
    let data = store.data_mut();
    data.waited = Duration::ZERO;
    data.budget = budget;
    data.started = started;
    store.set_epoch_deadline(ticks(budget));
}

/// Called when a store's epoch deadline passes. Host waits (body reads, sleeps,
/// outbound calls) do not count: the budget bounds the guest's own work, so the
/// deadline is pushed back by what was waited.
fn deadline_check(store: wasmtime::StoreContextMut<'_, HostState>) -> wasmtime::Result<UpdateDeadline> {
    let data = store.data();
    let used = data.started.elapsed().saturating_sub(data.waited);
    if used >= data.budget {
        return Err(wasmtime::Error::new(DeadlineExceeded { timeout: data.budget }));
    }
    Ok(UpdateDeadline::Continue(ticks(data.budget - used)))
}
