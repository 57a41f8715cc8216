//! `kind: Fallback`: rewrites the response already in its namespace (typically a
//! failed backend's, reached through `jumpIf: { failureCode: fallback }`) to
//! `mockCode`, adding `mockHeaders` and replacing the body with `mockBody`. The result is
//! always `fallback`, or `responseNotFound` when there is no response to rewrite.

use serde::Deserialize;
use std::collections::BTreeMap;
use weir_sdk::{BuiltResponse, Config, Exchange, Filter, Outcome};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Spec {
    mock_code: u16,
    #[serde(default)]
    mock_headers: BTreeMap<String, String>,
    #[serde(default)]
    mock_body: String,
}

pub struct Fallback {
    spec: Spec,
}

impl Filter for Fallback {
    fn new(config: Config) -> Result<Self, String> {
        let spec: Spec = config.parse()?;
        if !(100..=599).contains(&spec.mock_code) {
            return Err(format!("mockCode: {} is not an HTTP status", spec.mock_code));
        }
        // It rewrites the response in place; nothing it does waits.
        weir_sdk::runtime::never_waits();
        Ok(Fallback { spec })
    }

    fn on_request(&self, exchange: &Exchange) -> Outcome {
        let Some(response) = exchange.response() else {
            return Outcome::Result("responseNotFound".into());
        };
        let applied = response.set_status(self.spec.mock_code).and_then(|()| {
            self.spec
                .mock_headers
                .iter()
                .try_for_each(|(name, value)| response.set_header(name, value))
        });
        if let Err(e) = applied {
            return Outcome::Respond(BuiltResponse::new(500).body(format!("Fallback: {e}\n")));
        }
        // The backend's length and encoding describe a body that is gone.
        response.remove_header("content-encoding");
        response.set_body(self.spec.mock_body.as_bytes());
        Outcome::Result("fallback".into())
    }
}

weir_sdk::export_filter!(Fallback);

#[cfg(test)]
mod tests {
    use super::*;
    use weir_sdk::testing::{Harness, TestExchange, TestRequest, TestResponse};

    #[test]
    fn the_existing_response_is_replaced() {
        let f = Harness::<Fallback>::new(r#"{"mockCode":200,"mockHeaders":{"X-Fallback":"yes"},"mockBody":"sorry"}"#)
            .unwrap();
        let exchange =
            TestExchange::new(TestRequest::get("/")).with_response(TestResponse::new(503).body("backend down"));
        assert_eq!(f.on_request(&exchange), Outcome::Result("fallback".into()));
        let response = exchange.response().unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.header("x-fallback").as_deref(), Some("yes"));
        assert_eq!(response.body().unwrap(), b"sorry");
    }

    #[test]
    fn no_response_is_reported() {
        let f = Harness::<Fallback>::new(r#"{"mockCode":200}"#).unwrap();
        let exchange = TestExchange::new(TestRequest::get("/"));
        assert_eq!(f.on_request(&exchange), Outcome::Result("responseNotFound".into()));
        assert!(Harness::<Fallback>::new("{}").is_err(), "mockCode is required");
    }
}
