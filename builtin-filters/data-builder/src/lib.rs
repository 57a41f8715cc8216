//! `kind: DataBuilder`: renders a `template` whose output is YAML (JSON is YAML too),
//! and keeps the value for the rest of the request under `dataKey`, where the templates
//! of later builders read it as `.data.<dataKey>`. A template that fails, or output
//! that is not YAML, is the result `buildErr`.
//!
//! The value is kept by the host with the request (ABI 1.1.0 `set-data`), as JSON text,
//! so it costs nothing after the request ends and no other request sees it.

use serde::Deserialize;
use weir_sdk::{log, Config, Exchange, Filter, Outcome};
use weir_template_data::{BuilderTemplate, PipelineInfo};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Spec {
    template: String,
    data_key: String,
    #[serde(default)]
    left_delim: Option<String>,
    #[serde(default)]
    right_delim: Option<String>,
    #[serde(default)]
    pipeline: PipelineInfo,
}

pub struct DataBuilder {
    template: BuilderTemplate,
    key: String,
}

/// The reserved key of the pipeline's own `data:`.
const PIPELINE_KEY: &str = "PIPELINE";

impl Filter for DataBuilder {
    fn new(config: Config) -> Result<Self, String> {
        let spec: Spec = config.parse()?;
        let key = spec.data_key.trim().to_string();
        if key.is_empty() {
            return Err("dataKey: must not be empty".into());
        }
        if key == PIPELINE_KEY {
            return Err("dataKey: PIPELINE is the pipeline's own data; choose another key".into());
        }
        let template = BuilderTemplate::new(
            &spec.template,
            spec.left_delim.as_deref(),
            spec.right_delim.as_deref(),
            spec.pipeline,
        )?;
        Ok(DataBuilder { template, key })
    }

    fn on_request(&self, exchange: &Exchange) -> Outcome {
        let built: Result<serde_json::Value, String> = self.template.build(exchange);
        let json = built.and_then(|value| serde_json::to_string(&value).map_err(|e| e.to_string()));
        match json {
            Ok(json) => {
                exchange.set_data(&self.key, &json);
                Outcome::Continue
            }
            Err(e) => {
                log::warn(&format!("DataBuilder {:?}: {e}", self.key));
                Outcome::result("buildErr")
            }
        }
    }
}

weir_sdk::export_filter!(DataBuilder);

#[cfg(test)]
mod tests {
    use super::*;
    use weir_sdk::testing::{Harness, TestExchange, TestRequest};

    #[test]
    fn the_rendered_yaml_is_kept_as_json_under_the_key() {
        let builder = Harness::<DataBuilder>::new(
            r#"{"dataKey":"order","template":"id: {{index .req.Header \"X-Order\" 0}}\nitems: [{{.data.PIPELINE.sku}}]\nns: {{.namespace}}","pipeline":{"data":{"sku":"A-1"}}}"#,
        )
        .unwrap();
        let exchange = TestExchange::new(TestRequest::get("/").header("x-order", "42"));
        assert_eq!(builder.on_request(&exchange), Outcome::Continue);
        let stored: serde_json::Value = serde_json::from_str(&exchange.data("order").unwrap()).unwrap();
        assert_eq!(stored, serde_json::json!({"id": 42, "items": ["A-1"], "ns": "DEFAULT"}));
    }

    #[test]
    fn later_templates_read_earlier_values() {
        let exchange = TestExchange::new(TestRequest::get("/")).with_data("user", r#"{"name":"ada"}"#);
        let builder =
            Harness::<DataBuilder>::new(r#"{"dataKey":"greeting","template":"hello {{.data.user.name}}"}"#).unwrap();
        assert_eq!(builder.on_request(&exchange), Outcome::Continue);
        assert_eq!(exchange.data("greeting").as_deref(), Some(r#""hello ada""#));
    }

    #[test]
    fn bad_output_is_build_err_and_bad_keys_are_refused() {
        let builder = Harness::<DataBuilder>::new(r#"{"dataKey":"k","template":"a: [unclosed"}"#).unwrap();
        let exchange = TestExchange::new(TestRequest::get("/"));
        assert_eq!(builder.on_request(&exchange), Outcome::result("buildErr"));
        assert_eq!(exchange.data("k"), None);
        for key in ["", "PIPELINE"] {
            let config = format!(r#"{{"dataKey":"{key}","template":"x"}}"#);
            assert!(Harness::<DataBuilder>::new(&config).err().unwrap().contains("dataKey"));
        }
    }
}
