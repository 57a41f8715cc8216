//! `kind: ResponseAdaptor`: rewrites the response of its namespace (as a Proxy or a
//! builder left it): `header` (`del`, then `set`, then `add`), `body`, then `compress` or
//! `decompress` (`gzip`; failures give `compressFailed` / `decompressFailed`). Without a
//! response the result is `responseNotFound`.

use serde::Deserialize;
use std::collections::BTreeMap;
use weir_content_coding::{Coding, Recode};
use weir_sdk::{Config, Exchange, Filter, Outcome, Response};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Spec {
    #[serde(default)]
    header: HeaderSpec,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    compress: Option<Coding>,
    #[serde(default)]
    decompress: Option<Coding>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct HeaderSpec {
    #[serde(default)]
    del: Vec<String>,
    #[serde(default)]
    set: BTreeMap<String, String>,
    #[serde(default)]
    add: BTreeMap<String, String>,
}

pub struct ResponseAdaptor {
    spec: Spec,
}

impl Filter for ResponseAdaptor {
    fn new(config: Config) -> Result<Self, String> {
        Ok(ResponseAdaptor { spec: config.parse()? })
    }

    fn on_request(&self, exchange: &Exchange) -> Outcome {
        let Some(response) = exchange.response() else {
            return Outcome::Result("responseNotFound".into());
        };
        for name in &self.spec.header.del {
            response.remove_header(name);
        }
        // A value the host refuses comes from the YAML; skip it rather than fail
        // every response.
        for (name, value) in &self.spec.header.set {
            let _ = response.set_header(name, value);
        }
        for (name, value) in &self.spec.header.add {
            let _ = response.add_header(name, value);
        }
        if let Some(body) = &self.spec.body {
            response.set_body(body.as_bytes());
        }
        for step in Recode::steps(self.spec.compress, self.spec.decompress) {
            if recode(&response, step).is_err() {
                return Outcome::Result(step.failure().into());
            }
        }
        Outcome::Continue
    }
}

fn recode(response: &Response, step: Recode) -> Result<(), String> {
    let Some(recoded) = step.apply(response.header("content-encoding").as_deref(), &response.body()?)? else {
        return Ok(());
    };
    response.set_body(&recoded.body);
    match recoded.content_encoding {
        Some(token) => response.set_header("content-encoding", token),
        None => {
            response.remove_header("content-encoding");
            Ok(())
        }
    }
}

weir_sdk::export_filter!(ResponseAdaptor);

#[cfg(test)]
mod tests {
    use super::*;
    use weir_sdk::testing::{Harness, TestExchange, TestRequest, TestResponse};

    #[test]
    fn edits_the_response_or_reports_none() {
        let adaptor =
            Harness::<ResponseAdaptor>::new(r#"{"header":{"del":["Server"],"set":{"X-Adapted":"yes"}},"body":"changed"}"#)
                .unwrap();
        let exchange = TestExchange::new(TestRequest::get("/"))
            .with_response(TestResponse::new(200).header("server", "backend").body("original"));
        assert_eq!(adaptor.on_request(&exchange), Outcome::Continue);
        let response = exchange.response().unwrap();
        assert_eq!(response.header("server"), None);
        assert_eq!(response.header("x-adapted").as_deref(), Some("yes"));
        assert_eq!(response.body().unwrap(), b"changed");

        let bare = TestExchange::new(TestRequest::get("/"));
        assert_eq!(adaptor.on_request(&bare), Outcome::Result("responseNotFound".into()));
    }

    #[test]
    fn compresses_and_decompresses_gzip() {
        let gzip = Harness::<ResponseAdaptor>::new(r#"{"compress":"gzip"}"#).unwrap();
        let exchange = TestExchange::new(TestRequest::get("/")).with_response(TestResponse::new(200).body("plain"));
        assert_eq!(gzip.on_request(&exchange), Outcome::Continue);
        let response = exchange.response().unwrap();
        assert_eq!(response.header("content-encoding").as_deref(), Some("gzip"));
        let compressed = response.body().unwrap();
        assert_ne!(compressed, b"plain");

        let gunzip = Harness::<ResponseAdaptor>::new(r#"{"decompress":"gzip"}"#).unwrap();
        assert_eq!(gunzip.on_request(&exchange), Outcome::Continue);
        assert_eq!(response.body().unwrap(), b"plain");
        assert_eq!(response.header("content-encoding"), None);

        let broken = TestExchange::new(TestRequest::get("/"))
            .with_response(TestResponse::new(200).header("content-encoding", "gzip").body("not gzip"));
        assert_eq!(gunzip.on_request(&broken), Outcome::Result("decompressFailed".into()));
    }
}
