//! The native Proxy filter: forwards a namespace's request to a pool of backends with
//! load balancing, health checks, pooled upstream connections, candidate pools chosen
//! by request matchers, and an optional fire-and-forget mirror pool.

mod balance;
mod client;
pub(crate) mod h1;
mod health;
mod http1_pool;
mod matcher;
mod pool;
pub mod spec;
mod upstream;

use crate::config::{FieldError, FilterSpec};
use crate::pipeline::{BuildContext, BuiltFilter, Context, Filter, FilterFuture, FilterKind, NamespaceId};
use client::UpstreamClient;
use pool::{Pool, PoolPolicies};
use spec::ProxySpec;
use std::sync::Arc;

/// The result strings a Proxy returns (Easegress's, from its code).
pub mod results {
    pub const INTERNAL_ERROR: &str = "internalError";
    pub const CLIENT_ERROR: &str = "clientError";
    pub const SERVER_ERROR: &str = "serverError";
    pub const FAILURE_CODE: &str = "failureCode";
    pub const TIMEOUT: &str = "timeout";
    pub const SHORT_CIRCUITED: &str = "shortCircuited";
    pub const ALL: [&str; 6] = [
        INTERNAL_ERROR,
        CLIENT_ERROR,
        SERVER_ERROR,
        FAILURE_CODE,
        TIMEOUT,
        SHORT_CIRCUITED,
    ];
}

/// `kind: Proxy`.
pub struct ProxyKind;

impl FilterKind for ProxyKind {
    fn name(&self) -> &'static str {
        "Proxy"
    }

    fn build(&self, spec: &FilterSpec, ctx: &BuildContext) -> Result<BuiltFilter, FieldError> {
        let spec: ProxySpec = serde_path_to_error::deserialize(spec.spec.clone()).map_err(|e| {
            let path = e.path().to_string();
            let message = e.into_inner().to_string();
            if path == "." {
                FieldError::whole(message)
            } else {
                FieldError::new(path, message)
            }
        })?;
        Ok(BuiltFilter {
            filter: Arc::new(ProxyFilter::build(&spec, ctx)?),
            results: results::ALL.map(String::from).to_vec(),
        })
    }
}

pub struct ProxyFilter {
    main: Pool,
    candidates: Vec<Pool>,
    mirror: Option<Pool>,
    client: UpstreamClient,
}

impl ProxyFilter {
    /// Builds the Proxy of `pipeline`. Its pools' figures are named as in Easegress's
    /// status: `mainPool`, `candidatePools[i]` (in order among the candidates) and
    /// `mirrorPool`.
    pub fn build(spec: &ProxySpec, ctx: &BuildContext) -> Result<ProxyFilter, FieldError> {
        let pipeline = ctx.pipeline.as_str();
        let metrics = crate::metrics::global();
        let mut main = None;
        let mut candidates = Vec::new();
        for (i, pool) in spec.pools.iter().enumerate() {
            let at = format!("pools[{i}]");
            let role = match pool.filter {
                None => "mainPool".to_string(),
                Some(_) => format!("candidatePools[{}]", candidates.len()),
            };
            let stats = metrics.pool(pipeline, &spec.name, &role);
            let policies = PoolPolicies::resolve(pool, &ctx.resilience, &at)?;
            let built = Pool::build(pool, spec.server_max_body_size, &format!("{}/{at}", spec.name), stats)
                .map_err(|e| e.within(&at))?
                .guarded_by(policies);
            if built.matcher.is_some() {
                candidates.push(built);
            } else if main.replace(built).is_some() {
                return Err(FieldError::new(
                    at,
                    "only one pool may have no `filter` (the main pool)",
                ));
            }
        }
        let main = main.ok_or_else(|| FieldError::new("pools", "one pool must have no `filter`: the main pool"))?;
        let mirror = match &spec.mirror_pool {
            Some(pool) if pool.filter.is_none() => {
                return Err(FieldError::new("mirrorPool.filter", "a mirror pool needs a filter"))
            }
            Some(pool) => Some(
                Pool::build(
                    pool,
                    spec.server_max_body_size,
                    &format!("{}/mirrorPool", spec.name),
                    metrics.pool(pipeline, &spec.name, "mirrorPool"),
                )
                .map_err(|e| e.within("mirrorPool"))?,
            ),
            None => None,
        };
        let client = client::build(spec.mtls.as_ref(), spec.max_idle_conns_per_host)?;
        Ok(ProxyFilter {
            main,
            candidates,
            mirror,
            client,
        })
    }
}

impl Filter for ProxyFilter {
    fn on_request<'a>(&'a self, ctx: &'a mut Context, ns: NamespaceId) -> FilterFuture<'a> {
        Box::pin(async move {
            let client_ip = ctx.client_addr().ip();
            let pool = match ctx.request(ns) {
                Some(request) => {
                    if let Some(mirror) = &self.mirror {
                        if mirror.matches(request, client_ip) {
                            mirror.mirror(&self.client, request, client_ip);
                        }
                    }
                    self.candidates
                        .iter()
                        .find(|p| p.matches(request, client_ip))
                        .unwrap_or(&self.main)
                }
                None => &self.main,
            };
            pool.forward(&self.client, ctx, ns).await
        })
    }
}
