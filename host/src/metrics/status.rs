//! The status API's view of the figures, with Easegress's field names: `count`,
//! `m1`/`m5`/`m15` (requests per second), `errCount`, `m1Err`…, `m1ErrPercent`…,
//! `min`/`max`/`mean` and `p25`…`p999` in milliseconds, `reqSize`/`respSize` in bytes,
//! and `codes`.

use super::histogram::Snapshot as LatencySnapshot;
use super::{FilterStats, Metrics, PoolStats, Snapshot};
use crate::timestamp::rfc3339_millis;
use serde_json::{json, Map, Value};
use std::time::Duration;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Latency fields, added to `out`.
fn latency(out: &mut Map<String, Value>, l: &LatencySnapshot) {
    out.insert("min".into(), ms(l.min).into());
    out.insert("max".into(), ms(l.max).into());
    out.insert("mean".into(), ms(l.mean()).into());
    for (name, q) in [
        ("p25", 0.25),
        ("p50", 0.5),
        ("p75", 0.75),
        ("p95", 0.95),
        ("p98", 0.98),
        ("p99", 0.99),
        ("p999", 0.999),
    ] {
        out.insert(name.into(), ms(l.percentile(q)).into());
    }
}

/// One Easegress `httpstat` block.
pub fn stat_block(s: &Snapshot) -> Value {
    let mut out = Map::new();
    out.insert("count".into(), s.count.into());
    out.insert("errCount".into(), s.errors.into());
    for (i, window) in ["m1", "m5", "m15"].into_iter().enumerate() {
        let (rate, errors) = (s.rates[i], s.error_rates[i]);
        out.insert(window.into(), rate.into());
        out.insert(format!("{window}Err"), errors.into());
        let percent = if rate > 0.0 { errors / rate * 100.0 } else { 0.0 };
        out.insert(format!("{window}ErrPercent"), percent.into());
    }
    latency(&mut out, &s.latency);
    out.insert("reqSize".into(), s.request_bytes.into());
    out.insert("respSize".into(), s.response_bytes.into());
    let codes: Map<String, Value> = s
        .codes
        .iter()
        .map(|(code, n)| (code.to_string(), (*n).into()))
        .collect();
    out.insert("codes".into(), codes.into());
    Value::Object(out)
}

fn pool_block(pool: &PoolStats) -> Value {
    let mut block = stat_block(&pool.snapshot());
    let results: Map<String, Value> = pool
        .results()
        .into_iter()
        .map(|(result, n)| (result.to_string(), n.into()))
        .collect();
    block["results"] = results.into();
    block
}

fn filter_block(filter: &FilterStats) -> Value {
    let results: Map<String, Value> = filter
        .results()
        .into_iter()
        .map(|(result, n)| (result.to_string(), n.into()))
        .collect();
    let failures: Map<String, Value> = filter
        .failures()
        .into_iter()
        .map(|(kind, n)| (kind.name().to_string(), n.into()))
        .collect();
    let mut duration = Map::new();
    latency(&mut duration, &filter.duration());
    let modules: Vec<Value> = filter
        .modules()
        .iter()
        .map(|m| json!({ "sha256": m.sha256, "loadedAt": rfc3339_millis(m.loaded_at) }))
        .collect();
    json!({
        "kind": filter.kind(),
        "calls": filter.calls(),
        "results": results,
        "failures": failures,
        "duration": duration,
        "idleInstances": filter.idle_instances(),
        "modules": modules,
    })
}

impl Metrics {
    /// The status of one object:
    /// - `HTTPServer`: its stat block;
    /// - `Pipeline`: `{"filters": {name: …}}`, where a Proxy filter has one stat block
    ///   per pool (`mainPool`, `candidatePools[i]`, `mirrorPool`, each with `results`)
    ///   and a WASM filter has `kind`, `calls`, `results`, `failures` (`trap`,
    ///   `timeout`, `memory`, `init`), `duration`, `idleInstances` and `modules` (the
    ///   live module versions: `sha256`, `loadedAt`).
    ///
    /// `null` for another kind, or an HTTPServer that is not running.
    pub fn status(&self, object_kind: &str, object_name: &str) -> Value {
        match object_kind {
            "HTTPServer" => self
                .servers()
                .into_iter()
                .find(|(name, _)| name == object_name)
                .map_or(Value::Null, |(_, stats)| stat_block(&stats.snapshot())),
            "Pipeline" => {
                let mut filters = Map::new();
                for ((pipeline, filter, pool), stats) in self.pools() {
                    if pipeline == object_name {
                        let entry = filters.entry(filter).or_insert_with(|| json!({}));
                        entry[pool] = pool_block(&stats);
                    }
                }
                for ((pipeline, filter), stats) in self.filters() {
                    if pipeline == object_name {
                        filters.insert(filter, filter_block(&stats));
                    }
                }
                json!({ "filters": filters })
            }
            _ => Value::Null,
        }
    }

    /// Reload counts and the last reload: `{"succeeded", "failed", "last": {"outcome":
    /// "succeeded"|"failed", "error", "at"}}`; `last` is `null` before the first.
    pub fn reload_status(&self) -> Value {
        let last = self.last_reload().map(|last| {
            let (outcome, error) = match &last.outcome {
                super::ReloadOutcome::Succeeded => ("succeeded", None),
                super::ReloadOutcome::Failed(error) => ("failed", Some(error.clone())),
            };
            json!({ "outcome": outcome, "error": error, "at": rfc3339_millis(last.at) })
        });
        json!({
            "succeeded": self.reloads.succeeded(),
            "failed": self.reloads.failed(),
            "last": last,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Exchange, ReloadOutcome};
    use super::*;

    fn exchange(status: u16, ms: u64) -> Exchange {
        Exchange {
            status,
            duration: Duration::from_millis(ms),
            request_bytes: 5,
            response_bytes: 50,
        }
    }

    #[test]
    fn server_status_has_easegress_fields() {
        let metrics = Metrics::default();
        let server = metrics.server("web");
        for _ in 0..99 {
            server.record(&exchange(200, 10));
        }
        server.record(&exchange(502, 100));
        let status = metrics.status("HTTPServer", "web");
        assert_eq!(status["count"], 100);
        assert_eq!(status["errCount"], 1);
        assert_eq!(status["codes"]["200"], 99);
        assert_eq!(status["codes"]["502"], 1);
        assert_eq!(status["reqSize"], 500);
        assert_eq!(status["respSize"], 5000);
        let p50 = status["p50"].as_f64().unwrap();
        assert!((p50 - 10.0).abs() < 0.35, "{p50}");
        assert_eq!(status["max"], 100.0);
        for field in ["m1", "m5", "m15", "m1Err", "m15ErrPercent", "p999", "mean", "min"] {
            assert!(status[field].is_number(), "{field} missing in {status}");
        }
        assert_eq!(metrics.status("HTTPServer", "other"), Value::Null);
        assert_eq!(metrics.status("Nonsense", "web"), Value::Null);
    }

    #[test]
    fn pipeline_status_lists_pools_and_wasm_filters() {
        let metrics = Metrics::default();
        let main = metrics.pool("p", "proxy", "mainPool");
        let candidate = metrics.pool("p", "proxy", "candidatePools[0]");
        let elsewhere = metrics.pool("q", "proxy", "mainPool");
        main.record(&exchange(200, 1), "", false);
        candidate.record(&exchange(503, 1), "serverError", true);
        elsewhere.record(&exchange(200, 1), "", false);
        let filter = metrics.filter("p", "check", "Validator");
        let _meter = filter.module_loaded(&[0xff; 32]);
        filter.finished("invalid", Duration::from_micros(30));
        filter.set_idle_instances(3);

        let status = metrics.status("Pipeline", "p");
        let filters = &status["filters"];
        assert_eq!(filters.as_object().unwrap().len(), 2);
        assert_eq!(filters["proxy"]["mainPool"]["count"], 1);
        assert_eq!(filters["proxy"]["candidatePools[0]"]["errCount"], 1);
        assert_eq!(filters["proxy"]["candidatePools[0]"]["results"]["serverError"], 1);
        let check = &filters["check"];
        assert_eq!(check["kind"], "Validator");
        assert_eq!(check["calls"], 1);
        assert_eq!(check["results"]["invalid"], 1);
        assert_eq!(check["failures"]["trap"], 0);
        assert_eq!(check["idleInstances"], 3);
        assert_eq!(check["modules"][0]["sha256"], "ff".repeat(32));
        assert!(check["duration"]["p99"].is_number());
        assert_eq!(metrics.status("Pipeline", "none"), json!({ "filters": {} }));
    }

    #[test]
    fn reload_status_shows_the_last_error() {
        let metrics = Metrics::default();
        assert_eq!(metrics.reload_status()["last"], Value::Null);
        metrics.reload(ReloadOutcome::Failed("bad module".into()));
        let status = metrics.reload_status();
        assert_eq!(status["failed"], 1);
        assert_eq!(status["succeeded"], 0);
        assert_eq!(status["last"]["outcome"], "failed");
        assert_eq!(status["last"]["error"], "bad module");
        assert!(status["last"]["at"].as_str().unwrap().ends_with('Z'));
    }
}
