//! One pool of backend servers: choosing a server, sending the request, and turning
//! what happened into a response and a result (Easegress's statuses and results).

use super::balance::Balancer;
use super::client::{UpstreamClient, UpstreamError};
use super::health::{HealthProbe, HealthState, HealthTask};
use super::matcher::RequestMatcher;
use super::results;
use super::spec::PoolSpec;
use super::upstream::{self, Server};
use crate::config::FieldError;
use crate::http::raw_headers::declared_length;
use crate::http::{hop_by_hop, responses, BodyError, Request, Response};
use crate::metrics::{Exchange, PoolStats};
use crate::pipeline::guard::{self, Attempt, GuardedAttempt};
use crate::pipeline::resilience::ResiliencePolicies;
use crate::pipeline::{Context, Filter, FilterFuture, NamespaceId, Outcome};
use http::{StatusCode, Version};
use http_body::Body as _;
use std::borrow::Cow;
use std::future::Future;
use std::net::IpAddr;
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct Pool {
    servers: Vec<Server>,
    weights: Vec<u32>,
    balancer: Balancer,
    pub matcher: Option<RequestMatcher>,
    timeout: Option<Duration>,
    /// Empty means "every 5xx".
    failure_codes: Vec<u16>,
    max_body: Option<u64>,
    set_upstream_host: bool,
    health: Arc<HealthState>,
    _health_task: Option<HealthTask>,
    stats: Arc<PoolStats>,
    policies: PoolPolicies,
}

/// The `resilience:` policies a pool names, built with the pipeline.
#[derive(Default, Clone)]
pub struct PoolPolicies {
    retry: Option<Arc<dyn Filter>>,
    circuit_breaker: Option<Arc<dyn Filter>>,
}

impl std::fmt::Debug for PoolPolicies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PoolPolicies")
            .field("retry", &self.retry.is_some())
            .field("circuit_breaker", &self.circuit_breaker.is_some())
            .finish()
    }
}

impl PoolPolicies {
    /// Looks up the policies `spec` names; `at` is the pool's field path.
    pub fn resolve(spec: &PoolSpec, policies: &ResiliencePolicies, at: &str) -> Result<PoolPolicies, FieldError> {
        let find = |name: &Option<String>, kind: &str, field: &str| {
            name.as_deref()
                .map(|name| policies.get(name, kind, &format!("{at}.{field}")))
                .transpose()
        };
        Ok(PoolPolicies {
            retry: find(&spec.retry_policy, "Retry", "retryPolicy")?,
            circuit_breaker: find(&spec.circuit_breaker_policy, "CircuitBreaker", "circuitBreakerPolicy")?,
        })
    }
}

/// One forward to a pool, as an attempt its policies may repeat.
struct Forward<'p> {
    pool: &'p Pool,
    client: &'p UpstreamClient,
    ns: NamespaceId,
}

impl Attempt for Forward<'_> {
    fn run<'a>(&'a mut self, ctx: &'a mut Context) -> FilterFuture<'a> {
        Box::pin(self.pool.forward_unmetered(self.client, ctx, self.ns))
    }
}

/// Why a request to a backend produced no response.
enum Failure {
    Timeout,
    Client,
    Server(String),
}

impl Pool {
    /// `default_max_body` is the proxy-level `serverMaxBodySize`; `label` names the pool
    /// in logs; `stats` is where its forwards are counted.
    pub fn build(
        spec: &PoolSpec,
        default_max_body: i64,
        label: &str,
        stats: Arc<PoolStats>,
    ) -> Result<Pool, FieldError> {
        if spec.servers.is_empty() {
            return Err(FieldError::new("servers", "a pool needs at least one server"));
        }
        let servers = spec
            .servers
            .iter()
            .enumerate()
            .map(|(i, s)| Server::parse(&s.url, s.keep_host).map_err(|e| e.within(&format!("servers[{i}]"))))
            .collect::<Result<Vec<_>, _>>()?;
        let weights: Vec<u32> = spec.servers.iter().map(|s| s.weight).collect();
        if let Some(i) = weights.iter().position(|&w| w > 100) {
            return Err(FieldError::new(
                format!("servers[{i}].weight"),
                "must be between 0 and 100",
            ));
        }
        let weighted = weights.iter().filter(|&&w| w > 0).count();
        if weighted != 0 && weighted != weights.len() {
            return Err(FieldError::new("servers", "give every server a weight, or none"));
        }
        let failure_codes = spec.failure_codes.clone().unwrap_or_default();
        if let Some(code) = failure_codes.iter().find(|c| !(100..=599).contains(*c)) {
            return Err(FieldError::new("failureCodes", format!("{code} is not an HTTP status")));
        }
        let max_body = match spec.server_max_body_size.unwrap_or(default_max_body) {
            -1 => None,
            0 => Some(crate::config::http_server::DEFAULT_MAX_BODY_SIZE),
            n if n > 0 => Some(n as u64),
            _ => return Err(FieldError::new("serverMaxBodySize", "must be -1, 0 or a size in bytes")),
        };
        let health = Arc::new(HealthState::all_healthy(servers.len()));
        let health_task = match &spec.health_check {
            Some(check) => {
                let bases: Vec<_> = servers.iter().map(|s| s.base.clone()).collect();
                let probe = HealthProbe::build(check, &bases).map_err(|e| e.within("healthCheck"))?;
                // Outside a runtime (offline validation) nothing is probed.
                tokio::runtime::Handle::try_current()
                    .ok()
                    .map(|_| probe.spawn(health.clone(), label.to_string()))
            }
            None => None,
        };
        Ok(Pool {
            servers,
            weights,
            balancer: Balancer::build(&spec.load_balance)?,
            matcher: spec
                .filter
                .as_ref()
                .map(RequestMatcher::build)
                .transpose()
                .map_err(|e| e.within("filter"))?,
            timeout: spec.timeout.filter(|t| !t.is_zero()),
            failure_codes,
            max_body,
            set_upstream_host: spec.set_upstream_host,
            health,
            _health_task: health_task,
            stats,
            policies: PoolPolicies::default(),
        })
    }

    /// The pool with its `retryPolicy` and `circuitBreakerPolicy`.
    pub fn guarded_by(self, policies: PoolPolicies) -> Pool {
        Pool { policies, ..self }
    }

    pub fn matches(&self, request: &Request, client: IpAddr) -> bool {
        self.matcher.as_ref().is_some_and(|m| m.matches(request, client))
    }

    fn is_failure(&self, status: StatusCode) -> bool {
        if self.failure_codes.is_empty() {
            status.is_server_error()
        } else {
            self.failure_codes.contains(&status.as_u16())
        }
    }

    /// Chooses a server for `request`.
    fn choose(&self, request: &Request, client: IpAddr) -> Result<&Server, (StatusCode, &'static str)> {
        let healthy = self.health.healthy();
        match self.balancer.choose(&healthy, &self.weights, request, client) {
            Some(server) => Ok(&self.servers[server]),
            None => {
                tracing::debug!("no healthy server in the pool");
                Err((StatusCode::SERVICE_UNAVAILABLE, results::INTERNAL_ERROR))
            }
        }
    }

    /// Chooses a server and builds the request for it.
    fn prepare(&self, request: &mut Request, client: IpAddr) -> Result<Request, (StatusCode, &'static str)> {
        self.choose(request, client)?
            .upstream_request(request, self.set_upstream_host)
            .map_err(|_| (StatusCode::INTERNAL_SERVER_ERROR, results::INTERNAL_ERROR))
    }

    /// Sends the request of namespace `ns` to one of this pool's servers and stores the
    /// response there. Counted in the pool's figures: the status stored, the time until
    /// the response head arrived, and body sizes where known without reading them.
    pub async fn forward(&self, client: &UpstreamClient, ctx: &mut Context, ns: NamespaceId) -> Outcome {
        let started = Instant::now();
        let request_bytes = ctx.request(ns).and_then(|r| r.body().size_hint().exact());
        let outcome = self.forward_guarded(client, ctx, ns).await;
        let response = ctx.response(ns);
        let result = outcome.result();
        let exchange = Exchange {
            status: response.map_or(0, |r| r.status().as_u16()),
            duration: started.elapsed(),
            request_bytes: request_bytes.unwrap_or(0),
            response_bytes: response.and_then(|r| r.body().size_hint().exact()).unwrap_or(0),
        };
        // A client that broke off mid-body is not the backend's failure.
        let failed = !result.is_empty() && result != results::CLIENT_ERROR;
        self.stats.record(&exchange, result, failed);
        outcome
    }

    /// A forward under the pool's policies: the circuit breaker outermost, so that a
    /// client request with all its retries is one call to it (as in Easegress).
    async fn forward_guarded(&self, client: &UpstreamClient, ctx: &mut Context, ns: NamespaceId) -> Outcome {
        let (breaker, retry) = (self.policies.circuit_breaker.as_deref(), self.policies.retry.as_deref());
        let mut forward = Forward { pool: self, client, ns };
        match (breaker, retry) {
            // Run in place: as an `Attempt` the forward is boxed, an allocation and a
            // copy of the whole exchange's state per request.
            (None, None) => self.forward_unmetered(client, ctx, ns).await,
            // The guards' own state is boxed too, so that it does not swell the future
            // of every forward, policies or not.
            (Some(only), None) | (None, Some(only)) => Box::pin(guard::run(only, ctx, ns, &mut forward)).await.outcome,
            (Some(breaker), Some(retry)) => {
                let mut retried = GuardedAttempt {
                    guard: retry,
                    ns,
                    inner: &mut forward,
                };
                Box::pin(guard::run(breaker, ctx, ns, &mut retried)).await.outcome
            }
        }
    }

    async fn forward_unmetered(&self, client: &UpstreamClient, ctx: &mut Context, ns: NamespaceId) -> Outcome {
        let client_ip = ctx.client_addr().ip();
        let Some(request) = ctx.request_mut(ns) else {
            tracing::warn!(
                namespace = ns.0,
                "Proxy has no request in its namespace; build one first"
            );
            return fail(ctx, ns, StatusCode::INTERNAL_SERVER_ERROR, results::INTERNAL_ERROR);
        };
        let server = match self.choose(request, client_ip) {
            Ok(server) => server,
            Err((status, result)) => return fail(ctx, ns, status, result),
        };
        let sent = if server.is_plain_http() {
            // Written out straight from the client's request, which stays as it is for
            // the filters after this one.
            let body = upstream::body_to_send(request);
            let head = server.upstream_head(request, self.set_upstream_host);
            let sending = pin!(client.send_plain(&head, body, self.max_body));
            // Awaited in a statement of its own: the pinned future borrows `head`, so
            // it must end before `head` does, at the end of this block.
            let sent = self.finish(sending).await;
            sent
        } else {
            match server.upstream_request(request, self.set_upstream_host) {
                Ok(upstream) => self.finish(pin!(client.request(upstream, self.max_body))).await,
                Err(_) => return fail(ctx, ns, StatusCode::INTERNAL_SERVER_ERROR, results::INTERNAL_ERROR),
            }
        };
        match sent {
            Ok(response) => {
                if let Some(limit) = self.max_body {
                    let declared = declared_length(response.headers(), response.extensions());
                    if declared.is_some_and(|len| len > limit) {
                        return fail(ctx, ns, StatusCode::INTERNAL_SERVER_ERROR, results::INTERNAL_ERROR);
                    }
                }
                let failed = self.is_failure(response.status());
                ctx.set_response(ns, response);
                if failed {
                    Outcome::Result(Cow::Borrowed(results::FAILURE_CODE))
                } else {
                    Outcome::Continue
                }
            }
            Err(Failure::Timeout) => fail(ctx, ns, StatusCode::REQUEST_TIMEOUT, results::TIMEOUT),
            Err(Failure::Client) => fail(
                ctx,
                ns,
                StatusCode::from_u16(499).expect("499 is valid"),
                results::CLIENT_ERROR,
            ),
            Err(Failure::Server(reason)) => {
                tracing::debug!(%reason, "backend request failed");
                fail(ctx, ns, StatusCode::SERVICE_UNAVAILABLE, results::SERVER_ERROR)
            }
        }
    }

    /// Waits for the response of a request `sent`, within the pool's timeout.
    /// `sent` comes pinned where it was made: the upstream exchange's future is near 2 KB,
    /// and passing it by value copied it into this future and again into the timeout's.
    async fn finish(
        &self,
        sent: Pin<&mut impl Future<Output = Result<Response, UpstreamError>>>,
    ) -> Result<Response, Failure> {
        let result = match self.timeout {
            Some(limit) => tokio::time::timeout(limit, sent).await.map_err(|_| Failure::Timeout)?,
            None => sent.await,
        };
        let response = result.map_err(|e| {
            if caused_by_client_body(&e) {
                Failure::Client
            } else {
                Failure::Server(e.to_string())
            }
        })?;
        let (mut parts, body) = response.into_parts();
        hop_by_hop::strip(&mut parts.headers);
        parts.version = Version::HTTP_11;
        Ok(Response::from_parts(parts, body))
    }

    /// Sends a copy of `request` to this (mirror) pool and forgets about it.
    pub fn mirror(&self, client: &UpstreamClient, request: &Request, client_ip: IpAddr) {
        let Some(body) = request.body().try_clone() else {
            tracing::debug!("streaming body; not mirrored");
            return;
        };
        let mut copy = Request::new(body);
        *copy.method_mut() = request.method().clone();
        *copy.uri_mut() = request.uri().clone();
        *copy.headers_mut() = request.headers().clone();
        let Ok(upstream) = self.prepare(&mut copy, client_ip) else {
            return;
        };
        let client = client.clone();
        let stats = self.stats.clone();
        let request_bytes = upstream.body().size_hint().exact().unwrap_or(0);
        let started = Instant::now();
        tokio::spawn(async move {
            let (status, response_bytes, result) = match client.request(upstream, None).await {
                Ok(response) => (response.status().as_u16(), response.body().size_hint().exact(), ""),
                Err(e) => {
                    tracing::debug!(error = %e, "mirror request failed");
                    (StatusCode::SERVICE_UNAVAILABLE.as_u16(), None, results::SERVER_ERROR)
                }
            };
            let exchange = Exchange {
                status,
                duration: started.elapsed(),
                request_bytes,
                response_bytes: response_bytes.unwrap_or(0),
            };
            stats.record(&exchange, result, !result.is_empty());
        });
    }
}

/// Easegress's failure contract: the status goes into the namespace's response and the
/// result string is returned, so `jumpIf` can route around the failure.
fn fail(ctx: &mut Context, ns: NamespaceId, status: StatusCode, result: &'static str) -> Outcome {
    ctx.set_response(ns, responses::empty(status));
    Outcome::Result(Cow::Borrowed(result))
}

fn caused_by_client_body(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(e);
    while let Some(err) = source {
        if err.is::<BodyError>() {
            return true;
        }
        source = err.source();
    }
    false
}
