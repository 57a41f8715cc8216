//! Outcomes of configuration reloads: how many succeeded and failed, and the last one.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::SystemTime;

/// How one reload (a file change, an API mutation) ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReloadOutcome {
    /// The change is live.
    Succeeded,
    /// Nothing changed; the error says why (file, object, field).
    Failed(String),
}

/// The last reload, as the status API shows it.
#[derive(Debug, Clone)]
pub struct LastReload {
    pub outcome: ReloadOutcome,
    pub at: SystemTime,
}

#[derive(Default)]
pub struct ReloadStats {
    succeeded: AtomicU64,
    failed: AtomicU64,
    last: Mutex<Option<LastReload>>,
}

impl ReloadStats {
    pub fn record(&self, outcome: ReloadOutcome) {
        match outcome {
            ReloadOutcome::Succeeded => &self.succeeded,
            ReloadOutcome::Failed(_) => &self.failed,
        }
        .fetch_add(1, Relaxed);
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(LastReload {
            outcome,
            at: SystemTime::now(),
        });
    }

    pub fn succeeded(&self) -> u64 {
        self.succeeded.load(Relaxed)
    }

    pub fn failed(&self) -> u64 {
        self.failed.load(Relaxed)
    }

    pub fn last(&self) -> Option<LastReload> {
        self.last.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_both_outcomes_and_keeps_the_last() {
        let stats = ReloadStats::default();
        assert!(stats.last().is_none());
        stats.record(ReloadOutcome::Succeeded);
        stats.record(ReloadOutcome::Failed("weir.yaml: Pipeline \"p\": bad".into()));
        assert_eq!((stats.succeeded(), stats.failed()), (1, 1));
        let last = stats.last().unwrap();
        assert_eq!(
            last.outcome,
            ReloadOutcome::Failed("weir.yaml: Pipeline \"p\": bad".into())
        );
        stats.record(ReloadOutcome::Succeeded);
        assert_eq!(stats.last().unwrap().outcome, ReloadOutcome::Succeeded);
    }
}
