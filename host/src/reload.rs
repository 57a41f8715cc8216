//! The record of how configuration changes went, shown by the admin API and counted in
//! metrics.

use crate::app::Changes;
use crate::config::ConfigError;
use std::sync::Mutex;
use std::time::SystemTime;

/// The outcome of the last configuration change, and counts of all of them.
#[derive(Debug, Default)]
pub struct ReloadLog {
    inner: Mutex<ReloadLogInner>,
}

#[derive(Debug, Default, Clone, serde::Serialize)]
struct ReloadLogInner {
    successes: u64,
    failures: u64,
    last: Option<ReloadRecord>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ReloadRecord {
    /// Seconds since the Unix epoch.
    pub at: u64,
    /// `file`, `api`, …
    pub source: String,
    pub ok: bool,
    pub error: Option<String>,
    pub changed: Vec<String>,
}

impl ReloadLog {
    /// Records a change. A reload that changed nothing (the file was saved unchanged, or
    /// re-read after the admin API wrote it) is not counted.
    pub fn record(&self, source: &str, outcome: &Result<Changes, ConfigError>) {
        if outcome.as_ref().is_ok_and(Changes::is_empty) {
            tracing::debug!(source, "configuration unchanged");
            return;
        }
        let at = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let mut inner = self.inner.lock().expect("reload log lock");
        let record = match outcome {
            Ok(changes) => {
                inner.successes += 1;
                crate::metrics::global().reload(crate::metrics::ReloadOutcome::Succeeded);
                tracing::info!(source, ?changes, "configuration applied");
                ReloadRecord {
                    at,
                    source: source.into(),
                    ok: true,
                    error: None,
                    changed: describe(changes),
                }
            }
            Err(e) => {
                inner.failures += 1;
                crate::metrics::global().reload(crate::metrics::ReloadOutcome::Failed(e.to_string()));
                tracing::error!(source, error = %e, "configuration refused; the previous one keeps serving");
                ReloadRecord {
                    at,
                    source: source.into(),
                    ok: false,
                    error: Some(e.to_string()),
                    changed: Vec::new(),
                }
            }
        };
        inner.last = Some(record);
    }

    /// `{successes, failures, last: {at, source, ok, error, changed}}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(&*self.inner.lock().expect("reload log lock")).unwrap_or_default()
    }
}

fn describe(changes: &Changes) -> Vec<String> {
    let mut out = Vec::new();
    let mut add = |what: &str, names: &[String]| out.extend(names.iter().map(|n| format!("{what} {n}")));
    add("built pipeline", &changes.pipelines_built);
    add("removed pipeline", &changes.pipelines_removed);
    add("started server", &changes.servers_started);
    add("updated server", &changes.servers_updated);
    add("stopped server", &changes.servers_stopped);
    out
}
