//! `kind: RequestBuilder`: creates the request of its step's namespace, either as a copy
//! of another namespace's request (`sourceNamespace`) or from a `template` whose output
//! is YAML with `method` (GET), `url` (/), `headers` ({name: [values]}) and `body`.
//! A template that fails to render or yields bad YAML gives the result `buildErr`.

use serde::Deserialize;
use std::collections::BTreeMap;
use weir_sdk::{log, Config, Exchange, Filter, Outcome, Request};
use weir_template_data::{BuilderTemplate, HeaderValues, PipelineInfo};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Spec {
    #[serde(default)]
    source_namespace: Option<String>,
    #[serde(default)]
    template: Option<String>,
    #[serde(default)]
    left_delim: Option<String>,
    #[serde(default)]
    right_delim: Option<String>,
    /// Only `http` exists; accepted so Easegress specs load.
    #[serde(default)]
    protocol: Option<String>,
    #[serde(default)]
    pipeline: PipelineInfo,
}

/// What the template renders.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Built {
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, HeaderValues>,
    #[serde(default)]
    body: Option<String>,
}

enum Source {
    Namespace(String),
    Template(BuilderTemplate),
}

pub struct RequestBuilder {
    source: Source,
}

impl Filter for RequestBuilder {
    fn new(config: Config) -> Result<Self, String> {
        let spec: Spec = config.parse()?;
        if let Some(p) = spec.protocol.as_deref().filter(|p| *p != "http") {
            return Err(format!("protocol {p:?} is not supported (only http)"));
        }
        let source = match (spec.source_namespace, spec.template) {
            (Some(ns), None) => Source::Namespace(ns),
            (None, Some(t)) => Source::Template(BuilderTemplate::new(
                &t,
                spec.left_delim.as_deref(),
                spec.right_delim.as_deref(),
                spec.pipeline,
            )?),
            _ => return Err("exactly one of sourceNamespace and template is required".into()),
        };
        Ok(RequestBuilder { source })
    }

    fn on_request(&self, exchange: &Exchange) -> Outcome {
        // The host gives a step in a namespace without a request an empty one to fill.
        let Some(target) = exchange.request() else {
            log::error("RequestBuilder has no request to build in this namespace");
            return Outcome::result("buildErr");
        };
        let built = match &self.source {
            Source::Namespace(ns) => copy(exchange, ns, &target),
            Source::Template(template) => template.build(exchange).and_then(|b| apply(b, &target)),
        };
        match built {
            Ok(()) => Outcome::Continue,
            Err(e) => {
                log::warn(&format!("RequestBuilder: {e}"));
                Outcome::result("buildErr")
            }
        }
    }
}

/// Empties a request that may hold an earlier build.
fn clear(target: &Request) {
    for (name, _) in target.headers() {
        target.remove_header(&name);
    }
}

fn copy(exchange: &Exchange, ns: &str, target: &Request) -> Result<(), String> {
    let source = exchange
        .request_of(ns)
        .ok_or_else(|| format!("namespace {ns:?} has no request"))?;
    clear(target);
    target.set_method(&source.method())?;
    target.set_path(&source.path())?;
    target.set_query(source.query().as_deref())?;
    for (name, value) in source.headers() {
        target.add_header(&name, &value)?;
    }
    if let Some(host) = source.host() {
        target.set_host(&host)?;
    }
    target.set_body(&source.body()?);
    Ok(())
}

fn apply(built: Built, target: &Request) -> Result<(), String> {
    clear(target);
    target.set_method(built.method.as_deref().filter(|m| !m.is_empty()).unwrap_or("GET"))?;
    let url = built.url.filter(|u| !u.is_empty()).unwrap_or_else(|| "/".into());
    // An absolute URL also names the host; a path alone keeps the request's.
    let path_and_query = match url.split_once("://") {
        Some((_, rest)) => {
            let (host, path) = rest.find('/').map_or((rest, "/"), |i| (&rest[..i], &rest[i..]));
            target.set_host(host)?;
            path.to_string()
        }
        None => url,
    };
    let (path, query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path_and_query.as_str(), None),
    };
    target.set_path(if path.is_empty() { "/" } else { path })?;
    target.set_query(query)?;
    for (name, values) in built.headers {
        for value in values.values() {
            target.add_header(&name, &value)?;
        }
    }
    target.set_body(built.body.unwrap_or_default().as_bytes());
    Ok(())
}

weir_sdk::export_filter!(RequestBuilder);

#[cfg(test)]
mod tests {
    use super::*;
    use weir_sdk::testing::{Harness, TestExchange, TestRequest};

    #[test]
    fn a_spec_needs_exactly_one_source() {
        assert!(Harness::<RequestBuilder>::new(r#"{}"#).is_err());
        assert!(Harness::<RequestBuilder>::new(r#"{"sourceNamespace":"DEFAULT","template":"x"}"#).is_err());
        assert!(Harness::<RequestBuilder>::new(r#"{"template":"{{if"}"#).is_err());
    }

    #[test]
    fn a_template_builds_method_url_headers_and_body() {
        let builder = Harness::<RequestBuilder>::new(
            r#"{"template":"method: POST\nurl: /users/{{header .requests.DEFAULT.Header \"X-Id\"}}?full=1\nheaders:\n  X-From: [weir]\nbody: '{{.requests.DEFAULT.Body}}'"}"#,
        )
        .unwrap();
        let exchange = TestExchange::new(TestRequest::get("/in").header("x-id", "7").body("hello"));
        assert_eq!(builder.on_request(&exchange), Outcome::Continue);
        let built = exchange.request();
        assert_eq!(built.method(), "POST");
        assert_eq!(built.path(), "/users/7");
        assert_eq!(built.query().as_deref(), Some("full=1"));
        assert_eq!(built.header("x-from").as_deref(), Some("weir"));
        assert_eq!(built.body().unwrap(), b"hello");
    }

    #[test]
    fn bad_yaml_is_a_build_error() {
        let builder = Harness::<RequestBuilder>::new(r#"{"template":"method: [unclosed"}"#).unwrap();
        let exchange = TestExchange::new(TestRequest::get("/"));
        assert_eq!(builder.on_request(&exchange), Outcome::result("buildErr"));
    }
}
