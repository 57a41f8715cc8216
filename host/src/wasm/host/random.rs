//! `weir:filter/random`.

use crate::wasm::bindings::weir::filter::random::Host;
use crate::wasm::store_state::HostState;

/// Caps one call, so a guest cannot make the host allocate without bound.
const MAX_RANDOM_BYTES: u32 = 64 * 1024;

impl Host for HostState {
    fn random_u64(&mut self) -> wasmtime::Result<u64> {
        Ok(fastrand::u64(..))
    }

    fn random_bytes(&mut self, len: u32) -> wasmtime::Result<Vec<u8>> {
        if len > MAX_RANDOM_BYTES {
            wasmtime::bail!("random-bytes asked for {len} bytes; the limit is {MAX_RANDOM_BYTES}");
        }
        let mut bytes = vec![0; len as usize];
        fastrand::fill(&mut bytes);
        Ok(bytes)
    }
}
