//! Process-wide metrics: figures per HTTPServer, per Proxy pool and per WASM filter,
//! and reload outcomes, shown as status JSON and as Prometheus text.
//!
//! Objects ask for their figures when they are built and keep the `Arc`. Figures are
//! keyed by name, so a rebuilt object (a reload) gets the same ones and its counters go
//! on. The registry holds them weakly: when the last object using them is dropped (the
//! object was deleted, or a failed build is thrown away) they leave the status and the
//! Prometheus output by themselves, with nothing to forget by hand.

mod filter_stats;
mod histogram;
mod prometheus;
mod rates;
mod reload;
mod request_stats;
mod results;
mod status;

#[cfg(test)]
mod exposition_check;
#[cfg(test)]
mod recorded_by_filters;

pub use filter_stats::{FailureKind, FilterMeter, FilterStats, ModuleInfo};
pub use reload::{LastReload, ReloadOutcome};
pub use request_stats::{Exchange, PoolStats, ServerStats, Snapshot};

use reload::ReloadStats;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};

/// The registry every object of this process records into.
pub fn global() -> &'static Metrics {
    static GLOBAL: OnceLock<Metrics> = OnceLock::new();
    GLOBAL.get_or_init(Metrics::default)
}

/// A registry. Use [`global`]; separate ones exist for tests.
#[derive(Default)]
pub struct Metrics {
    servers: Mutex<BTreeMap<String, Weak<ServerStats>>>,
    /// By pipeline, filter, pool.
    pools: Mutex<BTreeMap<(String, String, String), Weak<PoolStats>>>,
    /// By pipeline, filter.
    filters: Mutex<BTreeMap<(String, String), Weak<FilterStats>>>,
    reloads: ReloadStats,
}

/// The live figures for `key`, or new ones made by `make` (also when the live ones do
/// not `fit`, say because a filter changed kind). Only called when objects are built.
fn obtain<K: Ord, T>(
    map: &Mutex<BTreeMap<K, Weak<T>>>,
    key: K,
    fits: impl Fn(&T) -> bool,
    make: impl FnOnce() -> T,
) -> Arc<T> {
    let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(live) = map.get(&key).and_then(Weak::upgrade) {
        if fits(&live) {
            return live;
        }
    }
    map.retain(|_, stats| stats.strong_count() > 0);
    let made = Arc::new(make());
    map.insert(key, Arc::downgrade(&made));
    made
}

/// Every live entry, in key order.
fn live<K: Ord + Clone, T>(map: &Mutex<BTreeMap<K, Weak<T>>>) -> Vec<(K, Arc<T>)> {
    map.lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .filter_map(|(key, stats)| Some((key.clone(), stats.upgrade()?)))
        .collect()
}

impl Metrics {
    /// The figures of the HTTPServer `name`. Look them up once, when the server is
    /// built, and record through the `Arc`.
    pub fn server(&self, name: &str) -> Arc<ServerStats> {
        obtain(&self.servers, name.to_string(), |_| true, ServerStats::default)
    }

    /// The figures of one Proxy pool: `pool` is `mainPool`, `candidatePools[i]` or
    /// `mirrorPool`, as in Easegress's status.
    pub fn pool(&self, pipeline: &str, filter: &str, pool: &str) -> Arc<PoolStats> {
        let key = (pipeline.to_string(), filter.to_string(), pool.to_string());
        obtain(&self.pools, key, |_| true, PoolStats::default)
    }

    /// The figures of one WASM filter of `kind` (`Wasm` or a built-in kind).
    pub fn filter(&self, pipeline: &str, filter: &str, kind: &str) -> Arc<FilterStats> {
        let key = (pipeline.to_string(), filter.to_string());
        obtain(&self.filters, key, |s| s.kind() == kind, || FilterStats::new(kind))
    }

    /// Records how a reload ended.
    pub fn reload(&self, outcome: ReloadOutcome) {
        self.reloads.record(outcome);
    }

    /// The last reload, if there was one.
    pub fn last_reload(&self) -> Option<LastReload> {
        self.reloads.last()
    }

    fn servers(&self) -> Vec<(String, Arc<ServerStats>)> {
        live(&self.servers)
    }

    fn pools(&self) -> Vec<((String, String, String), Arc<PoolStats>)> {
        live(&self.pools)
    }

    fn filters(&self) -> Vec<((String, String), Arc<FilterStats>)> {
        live(&self.filters)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_survive_a_rebuild_and_leave_with_the_last_user() {
        let metrics = Metrics::default();
        let old = metrics.server("web");
        let new = metrics.server("web");
        assert!(Arc::ptr_eq(&old, &new), "a rebuilt server keeps its figures");
        assert_eq!(metrics.servers().len(), 1);
        drop((old, new));
        assert!(metrics.servers().is_empty(), "a deleted server leaves the registry");
        let pool = metrics.pool("p", "proxy", "mainPool");
        assert!(Arc::ptr_eq(&pool, &metrics.pool("p", "proxy", "mainPool")));
        assert!(!Arc::ptr_eq(&pool, &metrics.pool("p", "proxy", "mirrorPool")));
    }

    #[test]
    fn a_filter_that_changes_kind_starts_afresh() {
        let metrics = Metrics::default();
        let wasm = metrics.filter("p", "check", "Wasm");
        assert!(Arc::ptr_eq(&wasm, &metrics.filter("p", "check", "Wasm")));
        let validator = metrics.filter("p", "check", "Validator");
        assert!(!Arc::ptr_eq(&wasm, &validator));
        assert_eq!(validator.kind(), "Validator");
        assert_eq!(metrics.filters().len(), 1);
    }
}
