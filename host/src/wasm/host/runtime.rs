//! `weir:filter/runtime` (1.3.0): what an instance tells the host about how to run it.

use crate::wasm::bindings::weir::filter::runtime::Host;
use crate::wasm::store_state::HostState;

impl Host for HostState {
    /// Only noted here: the filter reads it once its first instance has run `init`, and
    /// makes every later instance one whose calls cannot wait (`never_waits.rs`).
    fn never_waits(&mut self) -> wasmtime::Result<()> {
        self.never_waits = true;
        Ok(())
    }
}
