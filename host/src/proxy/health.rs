//! Active health checks. Every server starts healthy; a background task probes each one
//! every `interval`. After `fails` failures in a row a server leaves the rotation, after
//! `passes` successes in a row it comes back. The task ends when its pool is dropped.

use super::client::{self, UpstreamClient};
use super::spec::HealthCheckSpec;
use crate::config::FieldError;
use crate::http::Body;
use arc_swap::ArcSwap;
use http::{HeaderName, HeaderValue, Method, Uri};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// Which servers of a pool may take traffic.
#[derive(Debug)]
pub struct HealthState {
    servers: Vec<ServerHealth>,
    /// Indexes of healthy servers; what the balancer chooses from.
    healthy: ArcSwap<Vec<usize>>,
}

#[derive(Debug)]
struct ServerHealth {
    healthy: AtomicBool,
    failures: AtomicU32,
    successes: AtomicU32,
}

impl HealthState {
    pub fn all_healthy(count: usize) -> HealthState {
        HealthState {
            servers: (0..count)
                .map(|_| ServerHealth {
                    healthy: AtomicBool::new(true),
                    failures: AtomicU32::new(0),
                    successes: AtomicU32::new(0),
                })
                .collect(),
            healthy: ArcSwap::from_pointee((0..count).collect()),
        }
    }

    pub fn healthy(&self) -> arc_swap::Guard<Arc<Vec<usize>>> {
        self.healthy.load()
    }

    /// Counts one probe result; returns true when the server changed state.
    fn record(&self, server: usize, ok: bool, fails: u32, passes: u32) -> bool {
        let s = &self.servers[server];
        let was_healthy = s.healthy.load(Ordering::Relaxed);
        let flip = if ok {
            s.failures.store(0, Ordering::Relaxed);
            let successes = s.successes.fetch_add(1, Ordering::Relaxed) + 1;
            !was_healthy && successes >= passes
        } else {
            s.successes.store(0, Ordering::Relaxed);
            let failures = s.failures.fetch_add(1, Ordering::Relaxed) + 1;
            was_healthy && failures >= fails
        };
        if flip {
            s.healthy.store(!was_healthy, Ordering::Relaxed);
            let list = (0..self.servers.len())
                .filter(|&i| self.servers[i].healthy.load(Ordering::Relaxed))
                .collect();
            self.healthy.store(Arc::new(list));
        }
        flip
    }
}

/// How one pool is probed.
#[derive(Debug)]
pub struct HealthProbe {
    targets: Vec<Uri>,
    method: Method,
    headers: Vec<(HeaderName, HeaderValue)>,
    interval: Duration,
    timeout: Duration,
    fails: u32,
    passes: u32,
    status_ranges: Vec<[u16; 2]>,
    client: UpstreamClient,
}

impl HealthProbe {
    /// `servers` are the pool's server base URIs.
    pub fn build(spec: &HealthCheckSpec, servers: &[Uri]) -> Result<HealthProbe, FieldError> {
        if spec.interval.is_zero() {
            return Err(FieldError::new("interval", "must be more than 0"));
        }
        if spec.fails == 0 || spec.passes == 0 {
            return Err(FieldError::new("fails", "fails and passes must be at least 1"));
        }
        let uri = spec.uri.as_deref().unwrap_or("/");
        if !uri.starts_with('/') {
            return Err(FieldError::new("uri", "must start with /"));
        }
        let targets = servers
            .iter()
            .map(|server| {
                let authority = server.authority().expect("server URLs are absolute");
                let host_port = match spec.port {
                    Some(port) => format!("{}:{port}", authority.host()),
                    None => authority.to_string(),
                };
                format!("{}://{host_port}{uri}", server.scheme_str().unwrap_or("http"))
                    .parse::<Uri>()
                    .map_err(|e| FieldError::new("uri", format!("does not make a valid URL: {e}")))
            })
            .collect::<Result<_, _>>()?;
        let method = Method::from_bytes(spec.method.as_deref().unwrap_or("GET").to_ascii_uppercase().as_bytes())
            .map_err(|_| FieldError::new("method", "not an HTTP method"))?;
        let headers = spec
            .headers
            .iter()
            .map(|(k, v)| {
                let name = HeaderName::from_bytes(k.as_bytes())
                    .map_err(|_| FieldError::new(format!("headers.{k}"), "not a header name"))?;
                let value = HeaderValue::from_str(v)
                    .map_err(|_| FieldError::new(format!("headers.{k}"), "not a header value"))?;
                Ok((name, value))
            })
            .collect::<Result<_, FieldError>>()?;
        let status_ranges = spec
            .matches
            .as_ref()
            .map(|m| m.status_codes.clone())
            .unwrap_or_default();
        if let Some(bad) = status_ranges.iter().position(|[lo, hi]| lo > hi) {
            return Err(FieldError::new(
                format!("match.statusCodes[{bad}]"),
                "range must be [low, high]",
            ));
        }
        Ok(HealthProbe {
            targets,
            method,
            headers,
            interval: spec.interval,
            timeout: spec.timeout,
            fails: spec.fails,
            passes: spec.passes,
            status_ranges: if status_ranges.is_empty() {
                vec![[200, 399]]
            } else {
                status_ranges
            },
            // A fresh connection per probe, so a probe sees what a new connection would.
            client: client::build(None, 0)?,
        })
    }

    /// Starts probing in the background. The returned guard stops it when dropped.
    pub fn spawn(self, state: Arc<HealthState>, pool: String) -> HealthTask {
        let probe = Arc::new(self);
        let task = tokio::spawn(async move {
            let mut ticks = tokio::time::interval(probe.interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let mut checks = tokio::task::JoinSet::new();
                for (i, _) in probe.targets.iter().enumerate() {
                    let probe = probe.clone();
                    checks.spawn(async move { (i, probe.check(i).await) });
                }
                while let Some(Ok((i, outcome))) = checks.join_next().await {
                    if state.record(i, outcome.is_ok(), probe.fails, probe.passes) {
                        let target = &probe.targets[i];
                        match outcome {
                            Ok(()) => tracing::info!(%pool, %target, "server is healthy again"),
                            Err(reason) => {
                                tracing::warn!(%pool, %target, %reason, "server is unhealthy; removed from rotation")
                            }
                        }
                    }
                }
            }
        });
        HealthTask(task)
    }

    async fn check(&self, server: usize) -> Result<(), String> {
        let mut request = http::Request::builder()
            .method(self.method.clone())
            .uri(self.targets[server].clone());
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        let request = request.body(Body::Empty).map_err(|e| e.to_string())?;
        let response = tokio::time::timeout(self.timeout, self.client.request(request, None))
            .await
            .map_err(|_| format!("no answer within {:?}", self.timeout))?
            .map_err(|e| format!("request failed: {e}"))?;
        let status = response.status().as_u16();
        if self.status_ranges.iter().any(|[lo, hi]| (*lo..=*hi).contains(&status)) {
            Ok(())
        } else {
            Err(format!("status {status}"))
        }
    }
}

/// Stops the health-check task when the pool that owns it goes away.
#[derive(Debug)]
pub struct HealthTask(JoinHandle<()>);

impl Drop for HealthTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fails_and_passes_thresholds() {
        let state = HealthState::all_healthy(2);
        assert!(!state.record(1, false, 2, 2));
        assert!(state.record(1, false, 2, 2));
        assert_eq!(**state.healthy(), vec![0]);
        assert!(!state.record(1, true, 2, 2));
        assert!(state.record(1, true, 2, 2));
        assert_eq!(**state.healthy(), vec![0, 1]);
    }
}
