//! `kind: ResponseBuilder`: puts a new response in its step's namespace, either a copy of
//! another namespace's response (`sourceNamespace`) or built from a `template` whose
//! output is YAML with `statusCode` (200), `headers` ({name: [values]}) and `body`. The
//! flow goes on. A template that fails gives the result `buildErr`.

use serde::Deserialize;
use std::collections::BTreeMap;
use weir_sdk::{log, BuiltResponse, Config, Exchange, Filter, Outcome};
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
    #[serde(default)]
    pipeline: PipelineInfo,
}

/// What the template renders.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Built {
    #[serde(default)]
    status_code: Option<u16>,
    #[serde(default)]
    headers: BTreeMap<String, HeaderValues>,
    #[serde(default)]
    body: Option<String>,
}

enum Source {
    Namespace(String),
    Template(BuilderTemplate),
}

pub struct ResponseBuilder {
    source: Source,
}

impl Filter for ResponseBuilder {
    fn new(config: Config) -> Result<Self, String> {
        let spec: Spec = config.parse()?;
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
        Ok(ResponseBuilder { source })
    }

    fn on_request(&self, exchange: &Exchange) -> Outcome {
        let built = match &self.source {
            Source::Namespace(ns) => copy(exchange, ns),
            Source::Template(template) => template.build::<Built>(exchange).map(|built| {
                let mut response = BuiltResponse::new(built.status_code.unwrap_or(200));
                for (name, values) in built.headers {
                    for value in values.values() {
                        response.headers.push((name.clone(), value));
                    }
                }
                response.body = built.body.unwrap_or_default().into_bytes();
                response
            }),
        };
        match built.and_then(|response| exchange.set_response(response)) {
            Ok(()) => Outcome::Continue,
            Err(e) => {
                log::warn(&format!("ResponseBuilder: {e}"));
                Outcome::result("buildErr")
            }
        }
    }
}

fn copy(exchange: &Exchange, ns: &str) -> Result<BuiltResponse, String> {
    let source = exchange
        .response_of(ns)
        .ok_or_else(|| format!("namespace {ns:?} has no response"))?;
    Ok(BuiltResponse {
        status: source.status(),
        headers: source.headers(),
        body: source.body()?,
    })
}

weir_sdk::export_filter!(ResponseBuilder);

#[cfg(test)]
mod tests {
    use super::*;
    use weir_sdk::testing::{Harness, TestExchange, TestRequest, TestResponse};

    #[test]
    fn a_template_builds_status_headers_and_body() {
        let builder = Harness::<ResponseBuilder>::new(
            r#"{"template":"statusCode: 201\nheaders:\n  X-Built: [a, b]\nbody: {{.requests.DEFAULT.Method}} {{.responses.DEFAULT.JSONBody.n}}"}"#,
        )
        .unwrap();
        let exchange =
            TestExchange::new(TestRequest::post("/")).with_response(TestResponse::new(200).body(r#"{"n": 3}"#));
        assert_eq!(builder.on_request(&exchange), Outcome::Continue);
        let response = exchange.response().unwrap();
        assert_eq!(response.status(), 201);
        assert_eq!(response.header_all("x-built"), vec!["a", "b"]);
        assert_eq!(response.body().unwrap(), b"POST 3");
    }

    #[test]
    fn the_template_sees_its_steps_namespace() {
        let builder = Harness::<ResponseBuilder>::new(
            r#"{"template":"body: built in {{.namespace}}","pipeline":{"namespaces":["DEFAULT","ns1"]}}"#,
        )
        .unwrap();
        let exchange = TestExchange::new(TestRequest::get("/")).in_namespace("ns1");
        assert_eq!(builder.on_request(&exchange), Outcome::Continue);
        assert_eq!(exchange.response().unwrap().body().unwrap(), b"built in ns1");
        let exchange = TestExchange::new(TestRequest::get("/"));
        assert_eq!(builder.on_request(&exchange), Outcome::Continue);
        assert_eq!(exchange.response().unwrap().body().unwrap(), b"built in DEFAULT");
    }

    #[test]
    fn defaults_and_build_errors() {
        let builder = Harness::<ResponseBuilder>::new(r#"{"template":"body: ok"}"#).unwrap();
        let exchange = TestExchange::new(TestRequest::get("/"));
        assert_eq!(builder.on_request(&exchange), Outcome::Continue);
        assert_eq!(exchange.response().unwrap().status(), 200);
        let missing = Harness::<ResponseBuilder>::new(r#"{"sourceNamespace":"nowhere"}"#).unwrap();
        assert_eq!(missing.on_request(&exchange), Outcome::result("buildErr"));
        let bad = Harness::<ResponseBuilder>::new(r#"{"template":"statusCode: x"}"#).unwrap();
        assert_eq!(bad.on_request(&exchange), Outcome::result("buildErr"));
    }
}
