//! `kind: ResponseAdaptor`: rewrites the response of its namespace (as a Proxy or a
//! builder left it): `header` (`del`, then `set`, then `add`), `body`, then `compress` or
//! `decompress` (`gzip`; failures give `compressFailed` / `decompressFailed`). Without a
//! response the result is `responseNotFound`.

use serde::Deserialize;
use weir_builtin_common::HeaderSpec;
use weir_content_coding::{Coding, Recode};
use weir_sdk::{Config, Exchange, Filter, HeaderEdit, Outcome, Response};

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

pub struct ResponseAdaptor {
    /// `header`, as the edits to apply, built once.
    header_edits: Vec<HeaderEdit>,
    body: Option<String>,
    recodes: Vec<Recode>,
}

impl Filter for ResponseAdaptor {
    fn new(config: Config) -> Result<Self, String> {
        let spec: Spec = config.parse()?;
        let recodes = Recode::steps(spec.compress, spec.decompress);
        // Only compressing or decompressing reads the body; the rest never waits.
        if recodes.is_empty() {
            weir_sdk::runtime::never_waits();
        }
        Ok(ResponseAdaptor {
            header_edits: spec.header.edits(),
            body: spec.body,
            recodes,
        })
    }

    fn on_request(&self, exchange: &Exchange) -> Outcome {
        let not_found = || Outcome::Result("responseNotFound".into());
        // One host call for every header edit, without fetching a response handle. A
        // value the host refuses comes from the YAML; it is skipped rather than failing
        // every response.
        if !self.header_edits.is_empty() && exchange.edit_response_headers(&self.header_edits).is_none() {
            return not_found();
        }
        if self.body.is_none() && self.recodes.is_empty() {
            // With nothing else to do, the edits above already told whether there is a
            // response; an adaptor with no edits at all still has to ask.
            if self.header_edits.is_empty() && exchange.response().is_none() {
                return not_found();
            }
            return Outcome::Continue;
        }
        let Some(response) = exchange.response() else {
            return not_found();
        };
        if let Some(body) = &self.body {
            response.set_body(body.as_bytes());
        }
        for &step in &self.recodes {
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
