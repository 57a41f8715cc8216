//! `kind: ResultBuilder`: renders a `template` to a string that becomes the step's
//! result, for `jumpIf`: empty is success, `result0`..`result9` are returned as they
//! are, anything else is `unknown`; a template that fails is `buildErr`.

use serde::Deserialize;
use weir_sdk::{log, Config, Exchange, Filter, Outcome};
use weir_template_data::{BuilderTemplate, PipelineInfo};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Spec {
    template: String,
    #[serde(default)]
    left_delim: Option<String>,
    #[serde(default)]
    right_delim: Option<String>,
    #[serde(default)]
    pipeline: PipelineInfo,
}

pub struct ResultBuilder {
    template: BuilderTemplate,
}

impl Filter for ResultBuilder {
    fn new(config: Config) -> Result<Self, String> {
        let spec: Spec = config.parse()?;
        let template = BuilderTemplate::new(
            &spec.template,
            spec.left_delim.as_deref(),
            spec.right_delim.as_deref(),
            spec.pipeline,
        )?;
        Ok(ResultBuilder { template })
    }

    fn on_request(&self, exchange: &Exchange) -> Outcome {
        match self.template.render(exchange) {
            Ok(text) => match text.trim() {
                "" => Outcome::Continue,
                r if r.len() == 7 && r.starts_with("result") && r.as_bytes()[6].is_ascii_digit() => Outcome::result(r),
                _ => Outcome::result("unknown"),
            },
            Err(e) => {
                log::warn(&format!("ResultBuilder: {e}"));
                Outcome::result("buildErr")
            }
        }
    }
}

weir_sdk::export_filter!(ResultBuilder);

#[cfg(test)]
mod tests {
    use super::*;
    use weir_sdk::testing::{Harness, TestExchange, TestRequest};

    #[test]
    fn results_from_the_template() {
        let builder = Harness::<ResultBuilder>::new(
            r#"{"template":"{{if eq .req.Method \"DELETE\"}}result3{{else if eq .req.Method \"PUT\"}}other{{end}}"}"#,
        )
        .unwrap();
        let run = |method: &str| builder.on_request(&TestExchange::new(TestRequest::new(method, "/")));
        assert_eq!(run("DELETE"), Outcome::result("result3"));
        assert_eq!(run("PUT"), Outcome::result("unknown"));
        assert_eq!(run("GET"), Outcome::Continue);
        let failing = Harness::<ResultBuilder>::new(r#"{"template":"{{panic \"no\"}}"}"#).unwrap();
        assert_eq!(
            failing.on_request(&TestExchange::new(TestRequest::get("/"))),
            Outcome::result("buildErr")
        );
    }
}
