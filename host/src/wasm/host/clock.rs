//! `weir:filter/clock`.

use crate::wasm::bindings::weir::filter::clock::Host;
use crate::wasm::store_state::HostState;
use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

impl Host for HostState {
    fn now_millis(&mut self) -> wasmtime::Result<u64> {
        Ok(SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64))
    }

    fn monotonic_nanos(&mut self) -> wasmtime::Result<u64> {
        // One origin for the whole process, so values compare across instances.
        static ORIGIN: OnceLock<Instant> = OnceLock::new();
        Ok(ORIGIN.get_or_init(Instant::now).elapsed().as_nanos() as u64)
    }

    async fn sleep(&mut self, millis: u32) -> wasmtime::Result<()> {
        self.clock_sleep(millis).await
    }
}

/// The longest one `sleep` may wait.
const MAX_SLEEP_MILLIS: u32 = 5 * 60 * 1000;

impl HostState {
    pub(crate) async fn clock_sleep(&mut self, millis: u32) -> wasmtime::Result<()> {
        if millis > MAX_SLEEP_MILLIS {
            wasmtime::bail!("sleep of {millis}ms asked for; the limit is {MAX_SLEEP_MILLIS}ms");
        }
        let started = Instant::now();
        tokio::time::sleep(std::time::Duration::from_millis(millis.into())).await;
        self.waited += started.elapsed();
        Ok(())
    }
}
