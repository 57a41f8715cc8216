//! A lock-free latency histogram: log-linear buckets for percentiles (within about 3%
//! of the true value), plus the fixed buckets a Prometheus histogram exposes. Recording
//! is a handful of relaxed atomic operations; nothing is allocated or locked.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Sub-buckets per power of two. 16 bounds a bucket's width to 1/16 of its lower edge,
/// so the midpoint reported for a percentile is within ~3% of any value in it.
const SUB: u64 = 16;
const SUB_BITS: u32 = SUB.trailing_zeros();
/// Largest power of two tracked exactly: 2^40 µs is about 12.7 days. Longer values
/// land in the last bucket.
const MAX_EXP: u32 = 40;
const BUCKETS: usize = (SUB + (MAX_EXP - SUB_BITS + 1) as u64 * SUB) as usize;

/// Upper bounds of the Prometheus buckets, in seconds (the `le` labels). They span a
/// fast cache hit to a long upload; `+Inf` is implied.
pub const PROMETHEUS_BOUNDS: [f64; 16] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// The same bounds in microseconds, which is what is recorded.
const PROMETHEUS_BOUNDS_US: [u64; 16] = [
    500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000,
    10_000_000, 30_000_000, 60_000_000,
];

pub struct Histogram {
    buckets: Box<[AtomicU64]>,
    /// Non-cumulative counts per Prometheus bound, then one for `+Inf`.
    prometheus: [AtomicU64; PROMETHEUS_BOUNDS.len() + 1],
    sum_us: AtomicU64,
    min_us: AtomicU64,
    max_us: AtomicU64,
}

/// A consistent-enough copy of a histogram for reporting (each counter is read once;
/// concurrent records may make totals differ by the few requests in flight).
pub struct Snapshot {
    buckets: Vec<u64>,
    pub count: u64,
    pub sum: Duration,
    pub min: Duration,
    pub max: Duration,
    /// Cumulative counts per [`PROMETHEUS_BOUNDS`], then `+Inf`.
    pub cumulative: [u64; PROMETHEUS_BOUNDS.len() + 1],
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            prometheus: Default::default(),
            sum_us: AtomicU64::new(0),
            min_us: AtomicU64::new(u64::MAX),
            max_us: AtomicU64::new(0),
        }
    }
}

fn index(us: u64) -> usize {
    if us < SUB {
        return us as usize;
    }
    let exp = (63 - us.leading_zeros()).min(MAX_EXP);
    if exp == MAX_EXP && us >> MAX_EXP > 1 {
        return BUCKETS - 1;
    }
    let sub = (us >> (exp - SUB_BITS)) & (SUB - 1);
    (SUB + (exp - SUB_BITS) as u64 * SUB + sub) as usize
}

/// The lowest value of bucket `i` and its width, in microseconds.
fn bounds(i: usize) -> (u64, u64) {
    let i = i as u64;
    if i < SUB {
        return (i, 1);
    }
    let shift = (i - SUB) / SUB;
    let sub = (i - SUB) % SUB;
    ((SUB + sub) << shift, 1 << shift)
}

impl Histogram {
    /// Records one value. Lock-free: five relaxed atomic updates at most.
    pub fn record(&self, value: Duration) {
        let us = u64::try_from(value.as_micros()).unwrap_or(u64::MAX);
        self.buckets[index(us)].fetch_add(1, Relaxed);
        let bound = PROMETHEUS_BOUNDS_US.partition_point(|&b| b < us);
        self.prometheus[bound].fetch_add(1, Relaxed);
        self.sum_us.fetch_add(us, Relaxed);
        // Reading first skips the write (and its cache-line traffic) almost always.
        if us < self.min_us.load(Relaxed) {
            self.min_us.fetch_min(us, Relaxed);
        }
        if us > self.max_us.load(Relaxed) {
            self.max_us.fetch_max(us, Relaxed);
        }
    }

    pub fn snapshot(&self) -> Snapshot {
        let buckets: Vec<u64> = self.buckets.iter().map(|b| b.load(Relaxed)).collect();
        let count = buckets.iter().sum();
        let mut cumulative = [0; PROMETHEUS_BOUNDS.len() + 1];
        let mut running = 0;
        for (slot, counter) in cumulative.iter_mut().zip(&self.prometheus) {
            running += counter.load(Relaxed);
            *slot = running;
        }
        let min = match self.min_us.load(Relaxed) {
            u64::MAX => 0,
            us => us,
        };
        Snapshot {
            buckets,
            count,
            sum: Duration::from_micros(self.sum_us.load(Relaxed)),
            min: Duration::from_micros(min),
            max: Duration::from_micros(self.max_us.load(Relaxed)),
            cumulative,
        }
    }
}

impl Snapshot {
    /// The value below which a fraction `q` (0..=1) of the records fall: the midpoint
    /// of the bucket holding that rank, kept within the observed min and max.
    pub fn percentile(&self, q: f64) -> Duration {
        if self.count == 0 {
            return Duration::ZERO;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, &n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= rank {
                let (low, width) = bounds(i);
                let mid = Duration::from_micros(low) + Duration::from_micros(width) / 2;
                return mid.clamp(self.min, self.max.max(self.min));
            }
        }
        self.max
    }

    pub fn mean(&self) -> Duration {
        if self.count == 0 {
            Duration::ZERO
        } else {
            self.sum / u32::try_from(self.count).unwrap_or(u32::MAX)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us(n: u64) -> Duration {
        Duration::from_micros(n)
    }

    fn assert_near(actual: Duration, expected: Duration, tolerance: f64) {
        let (a, e) = (actual.as_secs_f64(), expected.as_secs_f64());
        assert!(
            (a - e).abs() <= e * tolerance,
            "{actual:?} is not within {:.0}% of {expected:?}",
            tolerance * 100.0
        );
    }

    #[test]
    fn buckets_cover_every_value_in_order() {
        let mut previous = 0;
        for value in (0..100_000).chain([1 << 39, (1 << 40) - 1, 1 << 40, u64::MAX]) {
            let i = index(value);
            assert!(i < BUCKETS);
            assert!(i >= previous, "bucket order broke at {value}");
            previous = i;
            let (low, width) = bounds(i);
            if value < 1 << 41 {
                assert!(
                    value >= low && value < low + width,
                    "{value} is outside bucket {i} ({low}+{width})"
                );
            }
        }
    }

    #[test]
    fn percentiles_of_a_uniform_spread_are_within_a_few_percent() {
        let h = Histogram::default();
        for n in 1..=100_000 {
            h.record(us(n));
        }
        let s = h.snapshot();
        assert_eq!(s.count, 100_000);
        for (q, expected) in [
            (0.25, 25_000),
            (0.5, 50_000),
            (0.75, 75_000),
            (0.95, 95_000),
            (0.99, 99_000),
        ] {
            assert_near(s.percentile(q), us(expected), 0.035);
        }
        assert_near(s.percentile(0.999), us(99_900), 0.035);
        assert_eq!(s.min, us(1));
        assert_eq!(s.max, us(100_000));
        assert_near(s.mean(), us(50_000), 0.001);
    }

    #[test]
    fn small_values_are_exact_and_a_single_value_is_every_percentile() {
        let h = Histogram::default();
        for _ in 0..10 {
            h.record(us(7));
        }
        let s = h.snapshot();
        for q in [0.0, 0.5, 0.999, 1.0] {
            assert_eq!(s.percentile(q), us(7));
        }
    }

    #[test]
    fn a_tail_shows_in_the_high_percentiles_only() {
        let h = Histogram::default();
        for _ in 0..990 {
            h.record(Duration::from_millis(2));
        }
        for _ in 0..10 {
            h.record(Duration::from_secs(1));
        }
        let s = h.snapshot();
        assert_near(s.percentile(0.5), Duration::from_millis(2), 0.035);
        assert_near(s.percentile(0.99), Duration::from_millis(2), 0.035);
        assert_near(s.percentile(0.999), Duration::from_secs(1), 0.035);
    }

    #[test]
    fn empty_histogram_reports_zeros() {
        let s = Histogram::default().snapshot();
        assert_eq!(s.count, 0);
        assert_eq!(s.percentile(0.99), Duration::ZERO);
        assert_eq!(s.min, Duration::ZERO);
        assert_eq!(s.mean(), Duration::ZERO);
    }

    #[test]
    fn prometheus_buckets_are_cumulative_and_bounds_inclusive() {
        let h = Histogram::default();
        h.record(us(500)); // exactly on the first bound: counted in it (`le` is ≤)
        h.record(us(501));
        h.record(Duration::from_secs(120)); // beyond the last bound: only in +Inf
        let s = h.snapshot();
        assert_eq!(s.cumulative[0], 1);
        assert_eq!(s.cumulative[1], 2);
        assert_eq!(s.cumulative[PROMETHEUS_BOUNDS.len() - 1], 2);
        assert_eq!(s.cumulative[PROMETHEUS_BOUNDS.len()], 3);
        assert_eq!(s.sum, us(500 + 501 + 120_000_000));
    }

    #[test]
    fn bounds_in_seconds_and_microseconds_agree() {
        for (s, us) in PROMETHEUS_BOUNDS.iter().zip(PROMETHEUS_BOUNDS_US) {
            assert_eq!((s * 1e6).round() as u64, us);
        }
    }
}
