//! The sliding windows, kept in the host's shared state so that every instance counts
//! into one window.

use weir_sdk::state;

/// Window and generation keys expire this long after their last write, so the
/// counters of past generations do not pile up.
pub const KEY_TTL_MILLIS: u64 = 24 * 3600 * 1000;

/// A TIME_BASED window is kept in at most this many buckets: evaluating it reads
/// every bucket, so a 100-second window slides in 5-second steps rather than reading
/// 100 buckets per call.
const MAX_BUCKETS: u32 = 20;

/// Calls counted in a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tally {
    pub calls: i64,
    pub failures: i64,
    pub slow: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// The last `size` calls.
    Count { size: u32 },
    /// The calls of the last `buckets × bucket_seconds` seconds.
    Time { bucket_seconds: u32, buckets: u32 },
}

/// A call's outcome as one number: bit 0 failed, bit 1 slow.
fn code(failed: bool, slow: bool) -> i64 {
    i64::from(failed) | (i64::from(slow) << 1)
}

impl Window {
    pub fn count_based(size: u32) -> Window {
        Window::Count { size }
    }

    pub fn time_based(seconds: u32) -> Window {
        let bucket_seconds = seconds.div_ceil(MAX_BUCKETS).max(1);
        Window::Time {
            bucket_seconds,
            buckets: seconds.div_ceil(bucket_seconds),
        }
    }

    /// A short name of the window's shape. It is part of the window's keys, so that a
    /// breaker whose window changes in a pipeline update starts an empty window instead
    /// of reading counts kept in another shape.
    pub fn tag(&self) -> String {
        match *self {
            Window::Count { size } => format!("c{size}"),
            Window::Time {
                bucket_seconds,
                buckets,
            } => format!("t{bucket_seconds}x{buckets}"),
        }
    }

    /// Counts one call under the keys starting with `prefix`, and returns the window's
    /// tally with it.
    pub fn record(&self, prefix: &str, failed: bool, slow: bool, now_millis: u64) -> Tally {
        match *self {
            Window::Count { size } => record_in_ring(prefix, size, code(failed, slow)),
            Window::Time {
                bucket_seconds,
                buckets,
            } => record_in_buckets(prefix, bucket_seconds, buckets, failed, slow, now_millis),
        }
    }
}

/// COUNT_BASED: a ring of `size` slots, each holding the outcome code of one call, and
/// running totals adjusted by the difference between the old and new code of a slot.
fn record_in_ring(prefix: &str, size: u32, new: i64) -> Tally {
    let ttl = Some(KEY_TTL_MILLIS);
    let sequence = state::add(&format!("{prefix}/seq"), 1, ttl);
    let slot = format!("{prefix}/slot/{}", (sequence - 1).rem_euclid(i64::from(size)));
    let old = loop {
        let old = state::get(&slot);
        if state::compare_and_swap(&slot, old, new, ttl) {
            break old;
        }
    };
    let old_code = old.unwrap_or(0);
    Tally {
        calls: state::add(&format!("{prefix}/calls"), i64::from(old.is_none()), ttl),
        failures: state::add(&format!("{prefix}/failures"), (new & 1) - (old_code & 1), ttl),
        slow: state::add(&format!("{prefix}/slow"), (new >> 1) - (old_code >> 1), ttl),
    }
}

/// TIME_BASED: one set of counters per bucket of time, expiring once the window has
/// slid past it; the tally sums the buckets still in the window.
fn record_in_buckets(prefix: &str, bucket_seconds: u32, buckets: u32, failed: bool, slow: bool, now: u64) -> Tally {
    let width = u64::from(bucket_seconds) * 1000;
    let current = now / width;
    let ttl = Some(width * (u64::from(buckets) + 1));
    let key = |bucket: u64, what: &str| format!("{prefix}/t/{bucket}/{what}");
    state::add(&key(current, "calls"), 1, ttl);
    state::add(&key(current, "failures"), i64::from(failed), ttl);
    state::add(&key(current, "slow"), i64::from(slow), ttl);
    let mut tally = Tally::default();
    for bucket in current.saturating_sub(u64::from(buckets) - 1)..=current {
        tally.calls += state::get(&key(bucket, "calls")).unwrap_or(0);
        tally.failures += state::get(&key(bucket, "failures")).unwrap_or(0);
        tally.slow += state::get(&key(bucket, "slow")).unwrap_or(0);
    }
    tally
}

/// Half-open: every trial call counts, until the permitted number is reached.
pub fn record_trial(prefix: &str, failed: bool, slow: bool) -> Tally {
    let ttl = Some(KEY_TTL_MILLIS);
    Tally {
        failures: state::add(&format!("{prefix}/failures"), i64::from(failed), ttl),
        slow: state::add(&format!("{prefix}/slow"), i64::from(slow), ttl),
        // Counted last, so that the call that completes the trials sees every other
        // trial's failure and slowness already added.
        calls: state::add(&format!("{prefix}/calls"), 1, ttl),
    }
}
