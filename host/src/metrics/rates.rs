//! Exponentially weighted moving rates over 1, 5 and 15 minutes (the Unix load-average
//! scheme Easegress's `m1`/`m5`/`m15` use): events are counted as they happen and
//! folded into the rates every 5 s tick. There is no timer task: whoever marks or reads
//! after a tick boundary folds the elapsed ticks in, and a compare-and-swap on the tick
//! time makes exactly one of them do it.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::OnceLock;
use std::time::Instant;

/// The fold interval.
pub const TICK_NANOS: u64 = 5_000_000_000;
const TICK_SECS: f64 = 5.0;
/// The averaging windows, in minutes.
const WINDOWS: [f64; 3] = [1.0, 5.0, 15.0];
/// No tick has folded anything in yet: the first fold sets the rates outright instead
/// of averaging them up from zero.
const UNSET: u64 = u64::MAX;

/// Nanoseconds since the first call in this process: a monotonic clock that fits an
/// atomic.
pub fn now_nanos() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    u64::try_from(EPOCH.get_or_init(Instant::now).elapsed().as_nanos()).unwrap_or(u64::MAX)
}

fn alpha(minutes: f64) -> f64 {
    1.0 - (-TICK_SECS / 60.0 / minutes).exp()
}

pub struct Rates {
    uncounted: AtomicU64,
    /// When the last folded tick ended (on the [`now_nanos`] clock).
    last_tick: AtomicU64,
    /// Events per second, as `f64` bits; [`UNSET`] before the first fold.
    rates: [AtomicU64; 3],
}

impl Rates {
    pub fn new(now: u64) -> Rates {
        Rates {
            uncounted: AtomicU64::new(0),
            last_tick: AtomicU64::new(now),
            rates: [UNSET, UNSET, UNSET].map(AtomicU64::new),
        }
    }

    /// Counts `n` events at time `now`.
    pub fn mark(&self, n: u64, now: u64) {
        // Fold first, so that these events count in the tick they happened in.
        self.tick(now);
        self.uncounted.fetch_add(n, Relaxed);
    }

    /// The 1, 5 and 15 minute rates, in events per second, as of `now`.
    pub fn per_second(&self, now: u64) -> [f64; 3] {
        self.tick(now);
        self.rates.each_ref().map(|r| match r.load(Relaxed) {
            UNSET => 0.0,
            bits => f64::from_bits(bits),
        })
    }

    /// Folds every whole tick that ended by `now`. One load when none has.
    fn tick(&self, now: u64) {
        let last = self.last_tick.load(Relaxed);
        if now.saturating_sub(last) < TICK_NANOS {
            return;
        }
        let ticks = (now - last) / TICK_NANOS;
        if self
            .last_tick
            .compare_exchange(last, last + ticks * TICK_NANOS, Relaxed, Relaxed)
            .is_err()
        {
            return; // another thread is folding these ticks
        }
        // Events are credited to the first elapsed tick; the rest were idle.
        let instant = self.uncounted.swap(0, Relaxed) as f64 / TICK_SECS;
        let idle = i32::try_from(ticks - 1).unwrap_or(i32::MAX);
        for (rate, minutes) in self.rates.iter().zip(WINDOWS) {
            let a = alpha(minutes);
            let folded = match rate.load(Relaxed) {
                UNSET => instant,
                bits => {
                    let r = f64::from_bits(bits);
                    r + a * (instant - r)
                }
            };
            rate.store((folded * (1.0 - a).powi(idle)).to_bits(), Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: u64 = 1_000_000_000;

    fn near(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9 * b.abs().max(1.0)
    }

    #[test]
    fn nothing_is_folded_before_the_first_tick() {
        let r = Rates::new(0);
        r.mark(100, SECOND);
        assert_eq!(r.per_second(4 * SECOND), [0.0; 3]);
    }

    #[test]
    fn the_first_tick_sets_every_rate_and_a_steady_load_keeps_it() {
        let r = Rates::new(0);
        for tick in 1..=60 {
            r.mark(50, tick * TICK_NANOS - SECOND);
        }
        // 50 events per 5 s tick is 10 per second in every window.
        for rate in r.per_second(60 * TICK_NANOS) {
            assert!(near(rate, 10.0), "{rate}");
        }
    }

    #[test]
    fn idle_time_decays_each_window_at_its_own_pace() {
        let r = Rates::new(0);
        r.mark(300, SECOND);
        let start = r.per_second(TICK_NANOS);
        assert!(start.iter().all(|&rate| near(rate, 60.0)), "{start:?}");
        // One minute idle: twelve ticks of nothing.
        let [m1, m5, m15] = r.per_second(13 * TICK_NANOS);
        assert!(near(m1, 60.0 * (1.0 - alpha(1.0)).powi(12)), "{m1}");
        assert!(
            near(m1, 60.0 * (-1.0f64).exp()),
            "one minute of idle divides m1 by e: {m1}"
        );
        assert!(near(m5, 60.0 * (-0.2f64).exp()), "{m5}");
        assert!(near(m15, 60.0 * (-1.0f64 / 15.0).exp()), "{m15}");
    }

    #[test]
    fn a_burst_moves_the_short_window_most() {
        let r = Rates::new(0);
        r.mark(5, SECOND);
        r.per_second(TICK_NANOS); // 1/s everywhere
        r.mark(500, TICK_NANOS + SECOND);
        let [m1, m5, m15] = r.per_second(2 * TICK_NANOS);
        assert!(m1 > m5 && m5 > m15 && m15 > 1.0, "{m1} {m5} {m15}");
        assert!(near(m1, 1.0 + alpha(1.0) * 99.0));
    }

    #[test]
    fn late_folds_do_not_double_count() {
        let r = Rates::new(0);
        r.mark(50, SECOND);
        let first = r.per_second(TICK_NANOS + 1);
        let again = r.per_second(TICK_NANOS + 2);
        assert_eq!(first, again);
    }
}
