//! What each instance's store holds: the WASI context, the resource table, the memory
//! limit, the filter's identity and shared state, and the request being handled while a
//! phase call runs.

use super::http_policy::HttpPolicy;
use super::limits::MemoryCap;
use super::shared_state::StateScope;
use crate::pipeline::{Context, NamespaceId};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// Who a log line or an error is about.
#[derive(Debug)]
pub struct FilterIdentity {
    pub pipeline: String,
    pub filter: String,
}

/// The request being handled, moved into the store for the duration of one phase call
/// so that host functions can reach every namespace.
pub struct ActiveCall {
    pub id: u64,
    pub context: Context,
    pub namespace: NamespaceId,
}

pub struct HostState {
    pub wasi: WasiCtx,
    pub table: ResourceTable,
    pub limits: MemoryCap,
    pub identity: Arc<FilterIdentity>,
    pub state: Arc<StateScope>,
    pub http: Arc<HttpPolicy>,
    pub call: Option<ActiveCall>,
    /// Numbers calls, so a handle kept past its call is recognised.
    pub calls: u64,
    /// Time the current call spent waiting in host functions (body reads, sleeps,
    /// outbound calls). The timeout bounds the guest's own work, not these waits.
    pub waited: Duration,
    /// When the current call started, and how much guest time it may use.
    pub started: Instant,
    pub budget: Duration,
    /// Set when the guest promised (`runtime.never-waits`, ABI 1.3.0) that its calls
    /// never wait.
    pub never_waits: bool,
}

impl HostState {
    pub fn new(
        identity: Arc<FilterIdentity>,
        state: Arc<StateScope>,
        http: Arc<HttpPolicy>,
        limits: MemoryCap,
    ) -> Self {
        HostState {
            // Nothing inherited: no environment, arguments, files, stdio or sockets.
            // Only what the Rust standard library touches on its own (random seeds,
            // clocks) works.
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
            limits,
            identity,
            state,
            http,
            call: None,
            calls: 0,
            waited: Duration::ZERO,
            started: Instant::now(),
            budget: Duration::ZERO,
            never_waits: false,
        }
    }

    /// The call a handle belongs to, if that call is still running.
    pub fn active(&mut self, call: u64) -> wasmtime::Result<&mut ActiveCall> {
        match &mut self.call {
            Some(active) if active.id == call => Ok(active),
            _ => Err(wasmtime::format_err!(
                "a request, response or exchange handle was used after the call that gave it out ended"
            )),
        }
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}
