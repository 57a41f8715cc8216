//! `weir:filter/state`: the filter's shared counters.

use crate::wasm::bindings::weir::filter::state::Host;
use crate::wasm::store_state::HostState;

impl Host for HostState {
    fn add(&mut self, key: String, delta: i64, ttl_millis: Option<u64>) -> wasmtime::Result<i64> {
        Ok(self.state.add(&key, delta, ttl_millis))
    }

    fn get(&mut self, key: String) -> wasmtime::Result<Option<i64>> {
        Ok(self.state.get(&key))
    }

    fn compare_and_swap(
        &mut self,
        key: String,
        expected: Option<i64>,
        new: i64,
        ttl_millis: Option<u64>,
    ) -> wasmtime::Result<bool> {
        Ok(self.state.compare_and_swap(&key, expected, new, ttl_millis))
    }

    fn remove(&mut self, key: String) -> wasmtime::Result<()> {
        self.state.remove(&key);
        Ok(())
    }
}
