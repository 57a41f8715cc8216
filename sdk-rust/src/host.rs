//! Services the host provides: logging, time, randomness, shared state, outbound HTTP,
//! and how the host runs the filter. Natively (in unit tests) they run against the in-memory host of [`crate::testing`].

#[cfg(target_arch = "wasm32")]
use crate::bindings::weir::filter as imp;
#[cfg(not(target_arch = "wasm32"))]
use crate::native as imp;

/// Logging to the host's log, tagged with the pipeline and the filter.
pub mod log {
    use super::imp::log::{log, Level};

    pub fn trace(message: &str) {
        log(Level::Trace, message)
    }
    pub fn debug(message: &str) {
        log(Level::Debug, message)
    }
    pub fn info(message: &str) {
        log(Level::Info, message)
    }
    pub fn warn(message: &str) {
        log(Level::Warn, message)
    }
    pub fn error(message: &str) {
        log(Level::Error, message)
    }
}

/// The host's clocks.
pub mod clock {
    /// Milliseconds since the Unix epoch.
    pub fn now_millis() -> u64 {
        super::imp::clock::now_millis()
    }
    /// A monotonic clock in nanoseconds, for measuring intervals.
    pub fn monotonic_nanos() -> u64 {
        super::imp::clock::monotonic_nanos()
    }
    /// Waits without holding a host thread (at most 5 minutes). Waiting does not count
    /// against the filter's `timeout`.
    pub fn sleep(millis: u32) {
        super::imp::clock::sleep(millis)
    }
}

/// Randomness from the host.
pub mod random {
    pub fn u64() -> u64 {
        super::imp::random::random_u64()
    }
    pub fn bytes(len: u32) -> Vec<u8> {
        super::imp::random::random_bytes(len)
    }
}

/// Atomic counters shared by every instance of this filter in this pipeline, on every
/// thread. `ttl_millis` makes a key disappear that long after its last write.
pub mod state {
    /// Adds `delta` to a counter (created at 0) and returns the new value.
    pub fn add(key: &str, delta: i64, ttl_millis: Option<u64>) -> i64 {
        super::imp::state::add(key, delta, ttl_millis)
    }
    pub fn get(key: &str) -> Option<i64> {
        super::imp::state::get(key)
    }
    /// Sets `key` to `new` if it holds `expected` (`None`: if it does not exist).
    pub fn compare_and_swap(key: &str, expected: Option<i64>, new: i64, ttl_millis: Option<u64>) -> bool {
        super::imp::state::compare_and_swap(key, expected, new, ttl_millis)
    }
    pub fn remove(key: &str) {
        super::imp::state::remove(key)
    }
}

/// Outbound HTTP, limited to the URL prefixes in the filter's `allowedUrls`.
pub mod http {
    pub use super::imp::http_client::{IncomingResponse, OutgoingRequest};

    pub fn call(request: &OutgoingRequest) -> Result<IncomingResponse, String> {
        super::imp::http_client::call(request)
    }
}

/// How the host runs this filter's calls (ABI 1.3.0).
pub mod runtime {
    /// Promises, from [`Filter::new`](crate::Filter::new), that neither `new` nor any
    /// phase of this filter waits: none reads a body, sleeps or makes an outbound call.
    /// The host then runs each call as a plain function call, which costs less than a
    /// call that could wait (about 640 fewer instructions each on the benchmark chain).
    /// A call that would wait after all traps and fails by the filter's failure policy;
    /// a body already in memory can still be read. Call it only for the configs that
    /// cannot wait, e.g. not when a body rule or an outbound check is configured.
    pub fn never_waits() {
        super::imp::runtime::never_waits()
    }
}
