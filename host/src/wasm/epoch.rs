//! The epoch clock that enforces guest deadlines: a thread advances the engine's epoch
//! every tick while guest code may be running, and rests otherwise.
//!
//! An idle proxy should not wake a thousand times a second, so the ticker rests after a
//! short quiet spell and the next call wakes it. A busy proxy should not pay for that
//! waking on every call: a call only reads a flag unless the ticker is resting, so
//! under steady traffic the ticker just ticks. Waking it on the first call of each tick
//! (the design before) cost a futex syscall and two extra context switches per tick,
//! about 3% of the CPU of a request through four WASM filters.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::OnceLock;
use std::thread::Thread;
use std::time::Duration;
use wasmtime::Engine;

/// How often the epoch advances while guests run. A deadline is a whole number of
/// ticks, so a timeout is enforced to within about one tick.
pub const EPOCH_TICK: Duration = Duration::from_millis(1);

/// Ticks with no call started and none running before the ticker rests. Short, so that
/// a quiet proxy wakes at most this many times after its last call.
const QUIET_TICKS: u32 = 10;

/// WASM calls (instantiation and `init` included): the low half counts the calls in
/// progress on every thread, the high half counts calls started (wrapping). One atomic
/// add per call keeps both, so the ticker can tell a quiet spell from a busy one in
/// which every call happened to finish between two ticks.
static CALLS: AtomicU64 = AtomicU64::new(0);
const RUNNING_MASK: u64 = u32::MAX as u64;
const ONE_STARTED: u64 = 1 << 32;

/// Set while the ticker is parked (or about to park): the next call must wake it.
static RESTING: AtomicBool = AtomicBool::new(false);

/// The ticker thread, to wake when the first call after a rest starts.
static TICKER: OnceLock<Thread> = OnceLock::new();

/// Starts the thread that advances `engine`'s epoch. Called once, with the engine.
pub fn start_ticker(engine: Engine) {
    let thread = std::thread::Builder::new()
        .name("weir-wasm-epoch".into())
        .spawn(move || tick_while_calls_run(&engine))
        .expect("spawning the epoch thread");
    let _ = TICKER.set(thread.thread().clone());
    // A call that started before `TICKER` was set could not wake the thread.
    thread.thread().unpark();
}

fn tick_while_calls_run(engine: &Engine) -> ! {
    let mut last_started = 0;
    let mut quiet = 0;
    loop {
        std::thread::sleep(EPOCH_TICK);
        engine.increment_epoch();
        let calls = CALLS.load(SeqCst);
        let started = calls >> 32;
        if calls & RUNNING_MASK > 0 || started != last_started {
            last_started = started;
            quiet = 0;
            continue;
        }
        quiet += 1;
        if quiet < QUIET_TICKS {
            continue;
        }
        // Announce the rest before looking once more: a call that starts after this
        // store sees the flag and wakes the thread; one that started before it is seen
        // by the load below. (An unpark that lands before `park` makes `park` return
        // at once, so no wake-up is lost either way.)
        RESTING.store(true, SeqCst);
        if CALLS.load(SeqCst) >> 32 == last_started {
            std::thread::park();
        }
        RESTING.store(false, SeqCst);
        quiet = 0;
    }
}

/// Held for as long as a WASM call may run guest code, so that its deadline is
/// enforced. Dropping it (also when the call's future is dropped) ends the call's claim.
pub struct GuestRunning(());

impl GuestRunning {
    pub fn start() -> GuestRunning {
        CALLS.fetch_add(ONE_STARTED + 1, SeqCst);
        // Only a resting ticker needs waking; the swap lets one call do it.
        if RESTING.load(SeqCst) && RESTING.swap(false, SeqCst) {
            if let Some(ticker) = TICKER.get() {
                ticker.unpark();
            }
        }
        GuestRunning(())
    }
}

impl Drop for GuestRunning {
    fn drop(&mut self) {
        CALLS.fetch_sub(1, SeqCst);
    }
}

/// The number of ticks in `duration`, at least one.
pub fn ticks(duration: Duration) -> u64 {
    (duration.as_micros() / EPOCH_TICK.as_micros()).max(1) as u64
}
