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

/// How often the epoch advances while guests run, at most. Each tick wakes a thread, and
/// on a busy single core each wake-up costs about 20 µs of context switches in a VM: at
/// one tick per millisecond that was 2% of the CPU. The default timeout of 100 ms needs
/// nothing finer than this.
const COARSEST_TICK: Duration = Duration::from_millis(5);

/// The finest tick, for filters with timeouts of 20 ms or less.
const FINEST_TICK: Duration = Duration::from_millis(1);

/// The tick now in use, in microseconds: the coarsest that enforces every filter's
/// timeout to within a twentieth of it (see [`enforce_within`]).
static TICK_MICROS: AtomicU64 = AtomicU64::new(COARSEST_TICK.as_micros() as u64);

/// Makes the ticker fine enough for a filter whose calls may run for `timeout`. Called
/// once per filter built; the tick never coarsens again, which errs on the side of
/// precision after a filter is removed.
pub fn enforce_within(timeout: Duration) {
    TICK_MICROS.fetch_min(tick_for(timeout).as_micros() as u64, SeqCst);
}

/// The tick that enforces `timeout` to within about a twentieth of it, kept between the
/// finest and the coarsest tick.
fn tick_for(timeout: Duration) -> Duration {
    (timeout / 20).clamp(FINEST_TICK, COARSEST_TICK)
}

fn tick() -> Duration {
    Duration::from_micros(TICK_MICROS.load(SeqCst))
}

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
        std::thread::sleep(tick());
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
    (duration.as_micros() / tick().as_micros()).max(1) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tick_is_a_twentieth_of_the_timeout_within_its_bounds() {
        assert_eq!(tick_for(Duration::from_secs(10)), COARSEST_TICK);
        assert_eq!(tick_for(Duration::from_millis(100)), Duration::from_millis(5));
        assert_eq!(tick_for(Duration::from_millis(40)), Duration::from_millis(2));
        assert_eq!(tick_for(Duration::from_millis(3)), FINEST_TICK);
    }

    #[test]
    fn the_tick_follows_the_tightest_timeout_and_never_coarsens() {
        // The tick is global, and other tests in this process may have made it finer
        // already; 3 ms asks for the finest, so the outcome does not depend on them.
        enforce_within(Duration::from_millis(3));
        assert_eq!(tick(), FINEST_TICK);
        enforce_within(Duration::from_secs(1));
        assert_eq!(tick(), FINEST_TICK, "a later, looser timeout does not coarsen it");
        assert_eq!(ticks(Duration::from_millis(100)), 100);
        assert_eq!(ticks(Duration::ZERO), 1, "a deadline is at least one tick away");
    }
}
