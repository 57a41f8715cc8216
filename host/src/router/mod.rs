//! Ordered routing, first full match wins, with the statuses Easegress gives when
//! nothing matches: 403 (IP refused) > 400 (headers/query) > 405 (method) > 404.

mod host;
pub mod ip_filter;
mod path;

pub use ip_filter::IpFilter;
pub use path::PathRoute;

use crate::config::{FieldError, HttpServerSpec};
use crate::registry::PipelineRegistry;
use host::HostMatcher;
use http::{Method, StatusCode};
use std::net::IpAddr;

#[derive(Debug)]
struct Rule {
    /// Empty matches every host.
    hosts: Vec<HostMatcher>,
    ip_filter: Option<IpFilter>,
    paths: Vec<PathRoute>,
}

/// The compiled `ipFilter` and `rules` of one HTTPServer.
#[derive(Debug)]
pub struct Router {
    ip_filter: Option<IpFilter>,
    rules: Vec<Rule>,
}

/// What to do with the parts of a request the router looks at.
pub struct RouteRequest<'a> {
    pub method: &'a Method,
    /// Lower-case, without port.
    pub host: &'a str,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub headers: &'a http::HeaderMap,
    pub client_ip: IpAddr,
}

impl Router {
    pub fn build(spec: &HttpServerSpec, pipelines: &PipelineRegistry) -> Result<Router, FieldError> {
        let ip_filter = spec
            .ip_filter
            .as_ref()
            .map(IpFilter::build)
            .transpose()
            .map_err(|e| e.within("ipFilter"))?;
        let mut rules = Vec::with_capacity(spec.rules.len());
        for (r, rule) in spec.rules.iter().enumerate() {
            let at = format!("rules[{r}]");
            let hosts = HostMatcher::for_rule(rule).map_err(|e| e.within(&at))?;
            let ip_filter = rule
                .ip_filter
                .as_ref()
                .map(IpFilter::build)
                .transpose()
                .map_err(|e| e.within(&format!("{at}.ipFilter")))?;
            let paths = rule
                .paths
                .iter()
                .enumerate()
                .map(|(p, path)| {
                    PathRoute::build(path, pipelines.slot(&path.backend))
                        .map_err(|e| e.within(&format!("{at}.paths[{p}]")))
                })
                .collect::<Result<_, _>>()?;
            rules.push(Rule {
                hosts,
                ip_filter,
                paths,
            });
        }
        Ok(Router { ip_filter, rules })
    }

    /// Finds the path entry for a request, or the status to refuse it with.
    pub fn route(&self, req: &RouteRequest<'_>) -> Result<&PathRoute, StatusCode> {
        if let Some(filter) = &self.ip_filter {
            if !filter.allows(req.client_ip) {
                return Err(StatusCode::FORBIDDEN);
            }
        }
        let (mut ip_refused, mut header_mismatch, mut method_mismatch) = (false, false, false);
        for rule in &self.rules {
            if !rule.hosts.is_empty() && !rule.hosts.iter().any(|h| h.matches(req.host)) {
                continue;
            }
            if rule.ip_filter.as_ref().is_some_and(|f| !f.allows(req.client_ip)) {
                ip_refused = true;
                continue;
            }
            for path in &rule.paths {
                if !path.matches_path(req.path) {
                    continue;
                }
                if !path.matches_method(req.method) {
                    method_mismatch = true;
                    continue;
                }
                if !path.matches_headers(req.headers) || !path.matches_query(req.query) {
                    header_mismatch = true;
                    continue;
                }
                if path.ip_filter.as_ref().is_some_and(|f| !f.allows(req.client_ip)) {
                    ip_refused = true;
                    continue;
                }
                return Ok(path);
            }
        }
        Err(if ip_refused {
            StatusCode::FORBIDDEN
        } else if header_mismatch {
            StatusCode::BAD_REQUEST
        } else if method_mismatch {
            StatusCode::METHOD_NOT_ALLOWED
        } else {
            StatusCode::NOT_FOUND
        })
    }
}
