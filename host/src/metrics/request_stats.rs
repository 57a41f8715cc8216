//! Figures for a stream of HTTP exchanges, kept per HTTPServer and per Proxy pool:
//! counts, errors, rates, latency, status codes and bytes (Easegress's `httpstat`).
//! Recording is lock-free and allocation-free.

use super::histogram::{Histogram, Snapshot as LatencySnapshot};
use super::rates::{now_nanos, Rates};
use super::results::ResultCounts;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// One finished exchange, as seen by whoever records it.
#[derive(Debug, Clone, Copy)]
pub struct Exchange {
    pub status: u16,
    pub duration: Duration,
    /// Request body bytes.
    pub request_bytes: u64,
    /// Response body bytes.
    pub response_bytes: u64,
}

/// Status codes are 100..=999 (the `http` crate refuses others).
const FIRST_CODE: u16 = 100;
const CODES: usize = 900;

pub struct RequestStats {
    count: AtomicU64,
    errors: AtomicU64,
    rates: Rates,
    error_rates: Rates,
    latency: Histogram,
    codes: Box<[AtomicU64]>,
    request_bytes: AtomicU64,
    response_bytes: AtomicU64,
}

/// A copy of the figures at one moment, for the status API and Prometheus.
pub struct Snapshot {
    pub count: u64,
    pub errors: u64,
    /// Requests per second over 1, 5 and 15 minutes.
    pub rates: [f64; 3],
    pub error_rates: [f64; 3],
    pub latency: LatencySnapshot,
    /// Non-zero status counts, by ascending code.
    pub codes: Vec<(u16, u64)>,
    pub request_bytes: u64,
    pub response_bytes: u64,
}

impl Default for RequestStats {
    fn default() -> Self {
        let now = now_nanos();
        RequestStats {
            count: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            rates: Rates::new(now),
            error_rates: Rates::new(now),
            latency: Histogram::default(),
            codes: (0..CODES).map(|_| AtomicU64::new(0)).collect(),
            request_bytes: AtomicU64::new(0),
            response_bytes: AtomicU64::new(0),
        }
    }
}

impl RequestStats {
    fn record(&self, exchange: &Exchange, error: bool) {
        let now = now_nanos();
        self.count.fetch_add(1, Relaxed);
        self.rates.mark(1, now);
        if error {
            self.errors.fetch_add(1, Relaxed);
            self.error_rates.mark(1, now);
        }
        self.latency.record(exchange.duration);
        let code = usize::from(exchange.status.saturating_sub(FIRST_CODE)).min(CODES - 1);
        self.codes[code].fetch_add(1, Relaxed);
        self.request_bytes.fetch_add(exchange.request_bytes, Relaxed);
        self.response_bytes.fetch_add(exchange.response_bytes, Relaxed);
    }

    pub fn snapshot(&self) -> Snapshot {
        let now = now_nanos();
        Snapshot {
            count: self.count.load(Relaxed),
            errors: self.errors.load(Relaxed),
            rates: self.rates.per_second(now),
            error_rates: self.error_rates.per_second(now),
            latency: self.latency.snapshot(),
            codes: self
                .codes
                .iter()
                .enumerate()
                .filter_map(|(i, n)| match n.load(Relaxed) {
                    0 => None,
                    n => Some((FIRST_CODE + i as u16, n)),
                })
                .collect(),
            request_bytes: self.request_bytes.load(Relaxed),
            response_bytes: self.response_bytes.load(Relaxed),
        }
    }
}

/// The figures of one HTTPServer, across every request it answered (refusals by the
/// router included). An error is a response with status 500 or above: a 4xx is the
/// client's mistake (a scanner's 404s must not look like an outage). Easegress counts
/// 4xx as errors too; the status codes are all there to compute that if wanted.
#[derive(Default)]
pub struct ServerStats {
    pub(super) stats: RequestStats,
}

impl ServerStats {
    /// Records one request; called once the response body has been sent (or dropped).
    pub fn record(&self, exchange: &Exchange) {
        self.stats.record(exchange, exchange.status >= 500);
    }

    pub fn snapshot(&self) -> Snapshot {
        self.stats.snapshot()
    }
}

/// The figures of one Proxy pool. An error is a forward that failed because of the
/// backend side (the caller decides; for the Proxy: a failure code, timeout, server or
/// internal error, but not a client that broke off), whatever status it produced.
#[derive(Default)]
pub struct PoolStats {
    pub(super) stats: RequestStats,
    pub(super) results: ResultCounts,
}

impl PoolStats {
    /// Records one forward: its exchange, the result it returned (`""` for success),
    /// and whether it counts as an error.
    pub fn record(&self, exchange: &Exchange, result: &str, failed: bool) {
        self.stats.record(exchange, failed);
        self.results.add(result);
    }

    pub fn snapshot(&self) -> Snapshot {
        self.stats.snapshot()
    }

    pub fn results(&self) -> Vec<(&str, u64)> {
        self.results.counts()
    }
}

// Short: the figures themselves are for the status API.
impl std::fmt::Debug for ServerStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerStats")
            .field("count", &self.stats.count.load(Relaxed))
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for PoolStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PoolStats")
            .field("count", &self.stats.count.load(Relaxed))
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(status: u16, ms: u64) -> Exchange {
        Exchange {
            status,
            duration: Duration::from_millis(ms),
            request_bytes: 10,
            response_bytes: 100,
        }
    }

    #[test]
    fn server_errors_are_5xx_only() {
        let s = ServerStats::default();
        for status in [200, 204, 404, 499, 500, 503, 200] {
            s.record(&exchange(status, 3));
        }
        let snap = s.snapshot();
        assert_eq!(snap.count, 7);
        assert_eq!(snap.errors, 2);
        assert_eq!(
            snap.codes,
            vec![(200, 2), (204, 1), (404, 1), (499, 1), (500, 1), (503, 1)]
        );
        assert_eq!(snap.request_bytes, 70);
        assert_eq!(snap.response_bytes, 700);
        assert_eq!(snap.latency.count, 7);
    }

    #[test]
    fn pool_errors_follow_the_caller_and_results_are_counted() {
        let p = PoolStats::default();
        p.record(&exchange(200, 1), "", false);
        p.record(&exchange(408, 1), "timeout", true);
        p.record(&exchange(499, 1), "clientError", false);
        let snap = p.snapshot();
        assert_eq!((snap.count, snap.errors), (3, 1));
        assert_eq!(p.results(), vec![("", 1), ("timeout", 1), ("clientError", 1)]);
    }

    #[test]
    fn unusual_codes_are_kept() {
        let s = ServerStats::default();
        s.record(&exchange(999, 1));
        s.record(&exchange(100, 1));
        assert_eq!(s.snapshot().codes, vec![(100, 1), (999, 1)]);
    }
}
