//! `kind: HeaderToJSON`: for each `headerMap` entry whose header the request carries,
//! sets the field `json` of the JSON request body to the header's value (a string). An
//! empty body becomes an object; a body that is a JSON array gets the fields in each of
//! its objects, as Easegress does. A body that is not JSON (or not objects) is left
//! alone and the result is `jsonEncodeDecodeErr`; an unreadable body gives `bodyReadErr`.

use serde::Deserialize;
use serde_json::{Map, Value};
use weir_sdk::{Config, Exchange, Filter, Outcome};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Spec {
    header_map: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Entry {
    header: String,
    json: String,
}

pub struct HeaderToJson {
    entries: Vec<Entry>,
}

/// Sets `fields` in `value`, which must be an object or an array of objects.
fn merge(value: &mut Value, fields: &Map<String, Value>) -> bool {
    match value {
        Value::Object(object) => {
            object.extend(fields.clone());
            true
        }
        Value::Array(items) => items.iter_mut().all(|item| merge(item, fields)),
        _ => false,
    }
}

impl Filter for HeaderToJson {
    fn new(config: Config) -> Result<Self, String> {
        let spec: Spec = config.parse()?;
        if spec.header_map.is_empty() {
            return Err("headerMap: at least one entry is needed".into());
        }
        Ok(HeaderToJson {
            entries: spec.header_map,
        })
    }

    fn on_request(&self, exchange: &Exchange) -> Outcome {
        let Some(request) = exchange.request() else {
            return Outcome::Continue;
        };
        let fields: Map<String, Value> = self
            .entries
            .iter()
            .filter_map(|e| request.header(&e.header).map(|v| (e.json.clone(), Value::String(v))))
            .collect();
        if fields.is_empty() {
            return Outcome::Continue;
        }
        let Ok(body) = request.body() else {
            return Outcome::Result("bodyReadErr".into());
        };
        let mut value = if body.iter().all(u8::is_ascii_whitespace) {
            Value::Object(Map::new())
        } else {
            match serde_json::from_slice(&body) {
                Ok(value) => value,
                Err(_) => return Outcome::Result("jsonEncodeDecodeErr".into()),
            }
        };
        if !merge(&mut value, &fields) {
            return Outcome::Result("jsonEncodeDecodeErr".into());
        }
        match serde_json::to_vec(&value) {
            Ok(json) => {
                request.set_body(&json);
                Outcome::Continue
            }
            Err(_) => Outcome::Result("jsonEncodeDecodeErr".into()),
        }
    }
}

weir_sdk::export_filter!(HeaderToJson);

#[cfg(test)]
mod tests {
    use super::*;
    use weir_sdk::testing::{Harness, TestExchange, TestRequest};

    const CONFIG: &str = r#"{"headerMap":[{"header":"X-User","json":"user"},{"header":"X-Absent","json":"gone"}]}"#;

    fn body_after(request: TestRequest) -> (Outcome, Value) {
        let f = Harness::<HeaderToJson>::new(CONFIG).unwrap();
        let exchange = TestExchange::new(request);
        let outcome = f.on_request(&exchange);
        let body = exchange.request().body().unwrap();
        (outcome, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    #[test]
    fn headers_become_fields_of_objects() {
        let (outcome, body) = body_after(TestRequest::post("/").header("x-user", "ann").body(r#"{"a":1}"#));
        assert_eq!(outcome, Outcome::Continue);
        assert_eq!(body, serde_json::json!({"a": 1, "user": "ann"}));
        let (_, empty) = body_after(TestRequest::post("/").header("x-user", "ann"));
        assert_eq!(empty, serde_json::json!({"user": "ann"}));
        let (_, array) = body_after(TestRequest::post("/").header("x-user", "ann").body(r#"[{},{"b":2}]"#));
        assert_eq!(array, serde_json::json!([{"user": "ann"}, {"b": 2, "user": "ann"}]));
    }

    #[test]
    fn a_body_that_is_not_json_objects_is_reported() {
        let (outcome, _) = body_after(TestRequest::post("/").header("x-user", "ann").body("plain"));
        assert_eq!(outcome, Outcome::Result("jsonEncodeDecodeErr".into()));
        let (outcome, _) = body_after(TestRequest::post("/").header("x-user", "ann").body("[1]"));
        assert_eq!(outcome, Outcome::Result("jsonEncodeDecodeErr".into()));
        let (outcome, body) = body_after(TestRequest::post("/").body("plain"));
        assert_eq!(
            (outcome, body),
            (Outcome::Continue, Value::Null),
            "no header, no change"
        );
    }
}
