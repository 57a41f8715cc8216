//! Figures for one WASM filter (by pipeline and filter name, so they survive reloads):
//! calls by result, failures by cause, call duration, idle instances, and which module
//! versions are live.

use super::histogram::{Histogram, Snapshot as LatencySnapshot};
use super::results::ResultCounts;
use std::fmt::Write as _;
use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime};

/// Why a call produced no outcome of its own (the failure policy then decided).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The guest trapped, or returned something unusable.
    Trap,
    /// The guest used up its time budget.
    Timeout,
    /// The guest wanted more memory than its cap.
    Memory,
    /// A fresh instance's `init` failed.
    Init,
}

impl FailureKind {
    pub const ALL: [FailureKind; 4] = [
        FailureKind::Trap,
        FailureKind::Timeout,
        FailureKind::Memory,
        FailureKind::Init,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FailureKind::Trap => "trap",
            FailureKind::Timeout => "timeout",
            FailureKind::Memory => "memory",
            FailureKind::Init => "init",
        }
    }
}

/// One module version in use by a built filter.
#[derive(Debug)]
pub struct ModuleInfo {
    /// SHA-256 of the component bytes, in hex.
    pub sha256: String,
    /// When the filter using it was built.
    pub loaded_at: SystemTime,
}

pub struct FilterStats {
    kind: String,
    results: ResultCounts,
    failures: [AtomicU64; FailureKind::ALL.len()],
    duration: Histogram,
    idle_instances: AtomicU64,
    /// Weak so that a version disappears when the last filter built from it is dropped:
    /// after a reload, once the requests on the old pipeline are done; after a failed
    /// build, at once.
    modules: Mutex<Vec<Weak<ModuleInfo>>>,
}

/// What a built filter holds: its figures, and its module's registration, which lasts
/// exactly as long as the filter.
pub struct FilterMeter {
    stats: Arc<FilterStats>,
    _module: Arc<ModuleInfo>,
}

impl Deref for FilterMeter {
    type Target = FilterStats;

    fn deref(&self) -> &FilterStats {
        &self.stats
    }
}

impl FilterStats {
    pub(super) fn new(kind: &str) -> FilterStats {
        FilterStats {
            kind: kind.to_string(),
            results: ResultCounts::default(),
            failures: Default::default(),
            duration: Histogram::default(),
            idle_instances: AtomicU64::new(0),
            modules: Mutex::new(Vec::new()),
        }
    }

    /// The filter kind (`Wasm`, `Validator`, …).
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// Registers a filter built from the component with this SHA-256. Call when the
    /// filter is built; keep the meter in the filter.
    pub fn module_loaded(self: &Arc<Self>, sha256: &[u8]) -> FilterMeter {
        let mut hex = String::with_capacity(sha256.len() * 2);
        for byte in sha256 {
            let _ = write!(hex, "{byte:02x}");
        }
        let module = Arc::new(ModuleInfo {
            sha256: hex,
            loaded_at: SystemTime::now(),
        });
        let mut modules = self.modules.lock().unwrap_or_else(|e| e.into_inner());
        modules.retain(|m| m.strong_count() > 0);
        modules.push(Arc::downgrade(&module));
        FilterMeter {
            stats: self.clone(),
            _module: module,
        }
    }

    /// Records one finished phase call: the result the pipeline saw (`""` for success,
    /// also when the failure policy let a failed call continue) and how long it took.
    pub fn finished(&self, result: &str, duration: Duration) {
        self.results.add(result);
        self.duration.record(duration);
    }

    /// Counts one failed call (in addition to its [`FilterStats::finished`]).
    pub fn failed(&self, kind: FailureKind) {
        self.failures[kind as usize].fetch_add(1, Relaxed);
    }

    /// Idle initialised instances kept for reuse, as of the last change.
    pub fn set_idle_instances(&self, idle: usize) {
        self.idle_instances.store(idle as u64, Relaxed);
    }

    pub fn idle_instances(&self) -> u64 {
        self.idle_instances.load(Relaxed)
    }

    pub fn results(&self) -> Vec<(&str, u64)> {
        self.results.counts()
    }

    pub fn calls(&self) -> u64 {
        self.results.total()
    }

    pub fn failures(&self) -> [(FailureKind, u64); FailureKind::ALL.len()] {
        FailureKind::ALL.map(|kind| (kind, self.failures[kind as usize].load(Relaxed)))
    }

    pub fn duration(&self) -> LatencySnapshot {
        self.duration.snapshot()
    }

    /// Module versions in use, oldest first.
    pub fn modules(&self) -> Vec<Arc<ModuleInfo>> {
        self.modules
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter_map(Weak::upgrade)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_module_is_listed_while_a_filter_holds_it() {
        let stats = Arc::new(FilterStats::new("Wasm"));
        let old = stats.module_loaded(&[0xab, 0x01]);
        let new = stats.module_loaded(&[0xcd, 0x02]);
        let hashes = |s: &FilterStats| s.modules().iter().map(|m| m.sha256.clone()).collect::<Vec<_>>();
        assert_eq!(hashes(&stats), ["ab01", "cd02"]);
        drop(old);
        assert_eq!(hashes(&stats), ["cd02"]);
        new.finished("", Duration::from_micros(40));
        assert_eq!(stats.calls(), 1);
    }

    #[test]
    fn failures_are_counted_by_cause_beside_the_results() {
        let stats = FilterStats::new("Wasm");
        stats.finished("", Duration::from_micros(10));
        stats.failed(FailureKind::Timeout);
        stats.finished("", Duration::from_millis(5));
        stats.failed(FailureKind::Trap);
        stats.finished("invalid", Duration::from_micros(10));
        assert_eq!(stats.calls(), 3);
        assert_eq!(stats.results(), vec![("", 2), ("invalid", 1)]);
        let failures = stats.failures();
        assert_eq!(failures[0], (FailureKind::Trap, 1));
        assert_eq!(failures[1], (FailureKind::Timeout, 1));
        assert_eq!(failures[2].1 + failures[3].1, 0);
        assert_eq!(stats.duration().count, 3);
    }
}
