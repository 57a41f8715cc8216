//! The Prometheus text exposition (format 0.0.4; serve it as
//! `text/plain; version=0.0.4`). Rendered by hand from the same figures as the status
//! API: the figures are plain atomics that a client library would only copy again.

use super::histogram::{Snapshot as LatencySnapshot, PROMETHEUS_BOUNDS};
use super::Metrics;
use std::fmt::{Display, Write as _};
use std::time::{SystemTime, UNIX_EPOCH};

struct Exposition {
    out: String,
}

impl Exposition {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl Display) {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (label, value)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                self.out.push_str(label);
                self.out.push_str("=\"");
                for c in value.chars() {
                    match c {
                        '\\' => self.out.push_str("\\\\"),
                        '"' => self.out.push_str("\\\""),
                        '\n' => self.out.push_str("\\n"),
                        c => self.out.push(c),
                    }
                }
                self.out.push('"');
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {value}");
    }

    /// The `_bucket`, `_sum` and `_count` series of one histogram.
    fn histogram(&mut self, name: &str, labels: &[(&str, &str)], h: &LatencySnapshot) {
        let bucket = format!("{name}_bucket");
        let bounds: Vec<String> = PROMETHEUS_BOUNDS.iter().map(f64::to_string).collect();
        let mut with_le = labels.to_vec();
        with_le.push(("le", ""));
        let le = with_le.len() - 1;
        for (bound, count) in bounds.iter().zip(h.cumulative) {
            with_le[le].1 = bound;
            self.sample(&bucket, &with_le, count);
        }
        // `_count` is the +Inf bucket, so the two always agree.
        let count = h.cumulative[PROMETHEUS_BOUNDS.len()];
        with_le[le].1 = "+Inf";
        self.sample(&bucket, &with_le, count);
        self.sample(&format!("{name}_sum"), labels, h.sum.as_secs_f64());
        self.sample(&format!("{name}_count"), labels, count);
    }
}

fn unix_seconds(time: SystemTime) -> f64 {
    time.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs_f64()
}

impl Metrics {
    /// Every figure in the Prometheus text format.
    pub fn prometheus_text(&self) -> String {
        let mut e = Exposition { out: String::new() };
        self.render_servers(&mut e);
        self.render_pools(&mut e);
        self.render_filters(&mut e);
        self.render_reloads(&mut e);
        e.out
    }

    fn render_servers(&self, e: &mut Exposition) {
        let servers: Vec<_> = self
            .servers()
            .into_iter()
            .map(|(name, stats)| (name, stats.snapshot()))
            .collect();
        e.family(
            "weir_http_requests_total",
            "counter",
            "Requests answered by each HTTPServer, by response status.",
        );
        for (server, s) in &servers {
            for (code, n) in &s.codes {
                e.sample(
                    "weir_http_requests_total",
                    &[("server", server), ("status", &code.to_string())],
                    n,
                );
            }
        }
        e.family(
            "weir_http_request_duration_seconds",
            "histogram",
            "Time from a request's arrival until its response body was sent, per HTTPServer.",
        );
        for (server, s) in &servers {
            e.histogram("weir_http_request_duration_seconds", &[("server", server)], &s.latency);
        }
        e.family(
            "weir_http_request_body_bytes_total",
            "counter",
            "Request body bytes received by each HTTPServer.",
        );
        for (server, s) in &servers {
            e.sample(
                "weir_http_request_body_bytes_total",
                &[("server", server)],
                s.request_bytes,
            );
        }
        e.family(
            "weir_http_response_body_bytes_total",
            "counter",
            "Response body bytes sent by each HTTPServer.",
        );
        for (server, s) in &servers {
            e.sample(
                "weir_http_response_body_bytes_total",
                &[("server", server)],
                s.response_bytes,
            );
        }
    }

    fn render_pools(&self, e: &mut Exposition) {
        let pools: Vec<_> = self
            .pools()
            .into_iter()
            .map(|(key, stats)| {
                let snapshot = stats.snapshot();
                let results: Vec<(String, u64)> =
                    stats.results().into_iter().map(|(r, n)| (r.to_string(), n)).collect();
                (key, snapshot, results)
            })
            .collect();
        let labels = |(pipeline, filter, pool): &(String, String, String)| -> Vec<(&'static str, String)> {
            vec![
                ("pipeline", pipeline.clone()),
                ("filter", filter.clone()),
                ("pool", pool.clone()),
            ]
        };
        e.family(
            "weir_proxy_requests_total",
            "counter",
            "Requests a Proxy pool forwarded, by the status given to the pipeline.",
        );
        for (key, s, _) in &pools {
            for (code, n) in &s.codes {
                let mut l = labels(key);
                l.push(("status", code.to_string()));
                e.sample("weir_proxy_requests_total", &as_refs(&l), n);
            }
        }
        e.family(
            "weir_proxy_errors_total",
            "counter",
            "Forwards of a Proxy pool that failed on the backend side (failure code, timeout, server or internal error).",
        );
        for (key, s, _) in &pools {
            e.sample("weir_proxy_errors_total", &as_refs(&labels(key)), s.errors);
        }
        e.family(
            "weir_proxy_results_total",
            "counter",
            "Forwards of a Proxy pool by the result returned to the pipeline (empty for success).",
        );
        for (key, _, results) in &pools {
            for (result, n) in results {
                let mut l = labels(key);
                l.push(("result", result.clone()));
                e.sample("weir_proxy_results_total", &as_refs(&l), n);
            }
        }
        e.family(
            "weir_proxy_request_duration_seconds",
            "histogram",
            "Time from forwarding a request until the backend's response head arrived, per Proxy pool.",
        );
        for (key, s, _) in &pools {
            e.histogram(
                "weir_proxy_request_duration_seconds",
                &as_refs(&labels(key)),
                &s.latency,
            );
        }
        e.family(
            "weir_proxy_request_body_bytes_total",
            "counter",
            "Request body bytes a Proxy pool forwarded, where known before sending.",
        );
        for (key, s, _) in &pools {
            e.sample(
                "weir_proxy_request_body_bytes_total",
                &as_refs(&labels(key)),
                s.request_bytes,
            );
        }
        e.family(
            "weir_proxy_response_body_bytes_total",
            "counter",
            "Response body bytes a Proxy pool received, where declared by the backend.",
        );
        for (key, s, _) in &pools {
            e.sample(
                "weir_proxy_response_body_bytes_total",
                &as_refs(&labels(key)),
                s.response_bytes,
            );
        }
    }

    fn render_filters(&self, e: &mut Exposition) {
        let filters = self.filters();
        let labels = |(pipeline, filter): &(String, String), kind: &str| -> Vec<(&'static str, String)> {
            vec![
                ("pipeline", pipeline.clone()),
                ("filter", filter.clone()),
                ("kind", kind.to_string()),
            ]
        };
        e.family(
            "weir_filter_calls_total",
            "counter",
            "Phase calls of a WASM filter by the result the pipeline saw (empty for success).",
        );
        for (key, f) in &filters {
            for (result, n) in f.results() {
                let mut l = labels(key, f.kind());
                l.push(("result", result.to_string()));
                e.sample("weir_filter_calls_total", &as_refs(&l), n);
            }
        }
        e.family(
            "weir_filter_failures_total",
            "counter",
            "Phase calls of a WASM filter that failed, by cause (trap, timeout, memory, init).",
        );
        for (key, f) in &filters {
            for (kind, n) in f.failures() {
                let mut l = labels(key, f.kind());
                l.push(("reason", kind.name().to_string()));
                e.sample("weir_filter_failures_total", &as_refs(&l), n);
            }
        }
        e.family(
            "weir_filter_call_duration_seconds",
            "histogram",
            "Duration of the phase calls of a WASM filter, instance checkout included.",
        );
        for (key, f) in &filters {
            e.histogram(
                "weir_filter_call_duration_seconds",
                &as_refs(&labels(key, f.kind())),
                &f.duration(),
            );
        }
        e.family(
            "weir_filter_idle_instances",
            "gauge",
            "Initialised instances of a WASM filter waiting for a request.",
        );
        for (key, f) in &filters {
            e.sample(
                "weir_filter_idle_instances",
                &as_refs(&labels(key, f.kind())),
                f.idle_instances(),
            );
        }
        e.family(
            "weir_filter_module_loaded_timestamp_seconds",
            "gauge",
            "When each live module version of a WASM filter was loaded, by its SHA-256.",
        );
        for (key, f) in &filters {
            for module in f.modules() {
                let mut l = labels(key, f.kind());
                l.push(("sha256", module.sha256.clone()));
                e.sample(
                    "weir_filter_module_loaded_timestamp_seconds",
                    &as_refs(&l),
                    unix_seconds(module.loaded_at),
                );
            }
        }
    }

    fn render_reloads(&self, e: &mut Exposition) {
        e.family(
            "weir_reloads_total",
            "counter",
            "Configuration reloads, by outcome; a failed one changed nothing.",
        );
        e.sample(
            "weir_reloads_total",
            &[("outcome", "success")],
            self.reloads.succeeded(),
        );
        e.sample("weir_reloads_total", &[("outcome", "failure")], self.reloads.failed());
        if let Some(last) = self.last_reload() {
            e.family(
                "weir_last_reload_timestamp_seconds",
                "gauge",
                "When the last configuration reload ended.",
            );
            e.sample("weir_last_reload_timestamp_seconds", &[], unix_seconds(last.at));
            e.family(
                "weir_last_reload_success",
                "gauge",
                "1 if the last configuration reload succeeded, 0 if it failed.",
            );
            let ok = u8::from(last.outcome == super::ReloadOutcome::Succeeded);
            e.sample("weir_last_reload_success", &[], ok);
        }
    }
}

fn as_refs<'a>(labels: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    labels.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[cfg(test)]
mod tests {
    use super::super::exposition_check::check;
    use super::super::{Exchange, FailureKind, ReloadOutcome};
    use super::*;
    use std::time::Duration;

    fn exchange(status: u16, ms: u64) -> Exchange {
        Exchange {
            status,
            duration: Duration::from_millis(ms),
            request_bytes: 3,
            response_bytes: 30,
        }
    }

    #[test]
    fn an_empty_registry_is_valid_text() {
        let text = Metrics::default().prometheus_text();
        check(&text).unwrap();
        assert!(text.contains("weir_reloads_total{outcome=\"success\"} 0\n"));
    }

    #[test]
    fn every_figure_renders_as_valid_text() {
        let metrics = Metrics::default();
        let server = metrics.server("web \"main\"\\ \n");
        server.record(&exchange(200, 3));
        server.record(&exchange(200, 700));
        server.record(&exchange(503, 40_000));
        let pool = metrics.pool("p", "proxy", "candidatePools[0]");
        pool.record(&exchange(200, 2), "", false);
        pool.record(&exchange(408, 2), "timeout", true);
        let filter = metrics.filter("p", "check", "Wasm");
        let _meter = filter.module_loaded(&[1; 32]);
        filter.finished("", Duration::from_micros(80));
        filter.failed(FailureKind::Trap);
        filter.finished("", Duration::from_micros(80));
        filter.set_idle_instances(2);
        metrics.reload(ReloadOutcome::Succeeded);
        metrics.reload(ReloadOutcome::Failed("nope".into()));

        let text = metrics.prometheus_text();
        check(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let server_label = r#"server="web \"main\"\\ \n""#;
        for expected in [
            format!("weir_http_requests_total{{{server_label},status=\"200\"}} 2\n"),
            format!("weir_http_requests_total{{{server_label},status=\"503\"}} 1\n"),
            format!("weir_http_request_duration_seconds_bucket{{{server_label},le=\"0.005\"}} 1\n"),
            format!("weir_http_request_duration_seconds_bucket{{{server_label},le=\"1\"}} 2\n"),
            format!("weir_http_request_duration_seconds_bucket{{{server_label},le=\"+Inf\"}} 3\n"),
            format!("weir_http_request_duration_seconds_count{{{server_label}}} 3\n"),
            format!("weir_http_response_body_bytes_total{{{server_label}}} 90\n"),
            "weir_proxy_requests_total{pipeline=\"p\",filter=\"proxy\",pool=\"candidatePools[0]\",status=\"408\"} 1\n"
                .into(),
            "weir_proxy_errors_total{pipeline=\"p\",filter=\"proxy\",pool=\"candidatePools[0]\"} 1\n".into(),
            "weir_proxy_results_total{pipeline=\"p\",filter=\"proxy\",pool=\"candidatePools[0]\",result=\"timeout\"} 1\n"
                .into(),
            "weir_filter_calls_total{pipeline=\"p\",filter=\"check\",kind=\"Wasm\",result=\"\"} 2\n".into(),
            "weir_filter_failures_total{pipeline=\"p\",filter=\"check\",kind=\"Wasm\",reason=\"trap\"} 1\n".into(),
            "weir_filter_idle_instances{pipeline=\"p\",filter=\"check\",kind=\"Wasm\"} 2\n".into(),
            "weir_reloads_total{outcome=\"failure\"} 1\n".into(),
            "weir_last_reload_success 0\n".into(),
        ] {
            assert!(text.contains(&expected), "missing {expected:?} in\n{text}");
        }
        assert!(text.contains(&format!("sha256=\"{}\"", "01".repeat(32))));
    }
}
