//! `weir:filter/log`: guest log lines go to `tracing`, tagged with pipeline and filter.

use crate::wasm::bindings::weir::filter::log::{Host, Level};
use crate::wasm::store_state::HostState;

impl Host for HostState {
    fn log(&mut self, level: Level, message: String) -> wasmtime::Result<()> {
        let (pipeline, filter) = (&self.identity.pipeline, &self.identity.filter);
        match level {
            Level::Trace => tracing::trace!(pipeline, filter, "{message}"),
            Level::Debug => tracing::debug!(pipeline, filter, "{message}"),
            Level::Info => tracing::info!(pipeline, filter, "{message}"),
            Level::Warn => tracing::warn!(pipeline, filter, "{message}"),
            Level::Error => tracing::error!(pipeline, filter, "{message}"),
        }
        Ok(())
    }
}
