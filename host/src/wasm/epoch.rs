//! The epoch clock that enforces guest deadlines: a thread advances the engine's epoch
//! every tick while guest code may be running, and sleeps otherwise.
//!
//! An idle proxy should not wake a thousand times a second. The ticker parks when no
//! WASM call is in progress and each call's [`GuestRunning`] guard wakes it, so the
//! epoch only moves while a deadline could be counting.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::OnceLock;
use std::thread::Thread;
use std::time::Duration;
use wasmtime::Engine;

/// How often the epoch advances while guests run. A deadline is a whole number of
/// ticks, so a timeout is enforced to within about one tick.
pub const EPOCH_TICK: Duration = Duration::from_millis(1);

/// WASM calls (instantiation and `init` included) now in progress, on every thread.
static RUNNING: AtomicUsize = AtomicUsize::new(0);

/// The ticker thread, to wake when the first call starts.
static TICKER: OnceLock<Thread> = OnceLock::new();

/// Starts the thread that advances `engine`'s epoch. Called once, with the engine.
pub fn start_ticker(engine: Engine) {
    let thread = std::thread::Builder::new()
        .name("weir-wasm-epoch".into())
        .spawn(move || loop {
            if RUNNING.load(SeqCst) == 0 {
                // Woken by the next call; a wake-up with nothing running parks again.
                std::thread::park();
                continue;
            }
            std::thread::sleep(EPOCH_TICK);
            engine.increment_epoch();
        })
        .expect("spawning the epoch thread");
    let _ = TICKER.set(thread.thread().clone());
    // A call that started before `TICKER` was set could not wake the thread.
    thread.thread().unpark();
}

/// Held for as long as a WASM call may run guest code, so that its deadline is
/// enforced. Dropping it (also when the call's future is dropped) ends the call's claim.
pub struct GuestRunning(());

impl GuestRunning {
    pub fn start() -> GuestRunning {
        // The first call after a quiet spell wakes the ticker. A ticker about to park
        // still sees this count, or is unparked after parking: no call goes unticked.
        if RUNNING.fetch_add(1, SeqCst) == 0 {
            if let Some(ticker) = TICKER.get() {
                ticker.unpark();
            }
        }
        GuestRunning(())
    }
}

impl Drop for GuestRunning {
    fn drop(&mut self) {
        RUNNING.fetch_sub(1, SeqCst);
    }
}

/// The number of ticks in `duration`, at least one.
pub fn ticks(duration: Duration) -> u64 {
    (duration.as_micros() / EPOCH_TICK.as_micros()).max(1) as u64
}
