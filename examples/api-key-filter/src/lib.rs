//! A custom Weir filter. Requests without a known API key get 401; the others are
//! tagged with the key's owner and a request number, counted per owner in shared
//! state so the numbers hold across every instance and thread.
//!
//! Build and run: see `examples/api-key-filter/README.md`.

use serde::Deserialize;
use std::collections::BTreeMap;
use weir_sdk::{log, state, BuiltResponse, Config, Exchange, Filter, Outcome};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Settings {
    /// The header carrying the key.
    #[serde(default = "default_header")]
    header: String,
    /// Key → owner.
    keys: BTreeMap<String, String>,
}

fn default_header() -> String {
    "x-api-key".into()
}

pub struct ApiKey {
    settings: Settings,
}

impl Filter for ApiKey {
    fn new(config: Config) -> Result<Self, String> {
        let settings: Settings = config.parse()?;
        if settings.keys.is_empty() {
            return Err("`keys` must list at least one key".into());
        }
        Ok(ApiKey { settings })
    }

    fn on_request(&self, exchange: &Exchange) -> Outcome {
        let Some(request) = exchange.request() else {
            return Outcome::Continue;
        };
        let owner = request
            .header(&self.settings.header)
            .and_then(|key| self.settings.keys.get(&key).cloned());
        let Some(owner) = owner else {
            let rejected = state::add("rejected", 1, None);
            log::info(&format!("rejected a request without a valid key ({rejected} so far)"));
            return Outcome::Respond(
                BuiltResponse::new(401)
                    .header("content-type", "text/plain")
                    .header("www-authenticate", "ApiKey")
                    .body("a valid API key is required\n"),
            );
        };
        let number = state::add(&format!("accepted:{owner}"), 1, None);
        // The key itself does not travel on: the backend learns who, not the secret.
        request.remove_header(&self.settings.header);
        let _ = request.set_header("x-api-owner", &owner);
        let _ = request.set_header("x-api-request-number", &number.to_string());
        Outcome::Continue
    }
}

weir_sdk::export_filter!(ApiKey);

#[cfg(test)]
mod tests {
    use super::*;
    use weir_sdk::testing::{reset_state, Harness, TestExchange, TestRequest};

    const CONFIG: &str = r#"{"keys":{"k-alice":"alice"}}"#;

    #[test]
    fn a_known_key_is_replaced_by_its_owner_and_counted() {
        reset_state();
        let filter = Harness::<ApiKey>::new(CONFIG).unwrap();
        for expected in ["1", "2"] {
            let exchange = TestExchange::new(TestRequest::get("/").header("x-api-key", "k-alice"));
            assert_eq!(filter.on_request(&exchange), Outcome::Continue);
            let request = exchange.request();
            assert_eq!(request.header("x-api-key"), None);
            assert_eq!(request.header("x-api-owner").as_deref(), Some("alice"));
            assert_eq!(request.header("x-api-request-number").as_deref(), Some(expected));
        }
    }

    #[test]
    fn a_missing_or_unknown_key_gets_401() {
        reset_state();
        let filter = Harness::<ApiKey>::new(CONFIG).unwrap();
        for request in [TestRequest::get("/"), TestRequest::get("/").header("x-api-key", "nope")] {
            match filter.on_request(&TestExchange::new(request)) {
                Outcome::Respond(response) => assert_eq!(response.status, 401),
                other => panic!("expected a 401, got {other:?}"),
            }
        }
        assert_eq!(state::get("rejected"), Some(2));
    }

    #[test]
    fn a_config_without_keys_is_refused() {
        assert!(Harness::<ApiKey>::new(r#"{"keys":{}}"#).is_err());
        assert!(Harness::<ApiKey>::new("null").is_err());
    }
}
