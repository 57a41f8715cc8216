//! What the builder filters' templates see: `.requests.<ns>`, `.responses.<ns>`, `.req`,
//! `.resp`, `.namespace`, `.data.PIPELINE` and the per-request `.data.<key>`, gathered
//! from the exchange with the field names of Go's `http.Request` / `http.Response` that
//! Easegress templates use.

use serde::Deserialize;
use serde_json::{json, Map, Value};
use weir_sdk::{Exchange, Request, Response};
use weir_template::Template;

/// What the host adds to a builder's spec (`pipeline:`): the pipeline's name, its
/// `data`, and the namespaces its flow uses, `DEFAULT` first.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineInfo {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub data: Value,
    #[serde(default)]
    pub namespaces: Vec<String>,
}

/// A template with what rendering it needs to read: bodies are read, and parsed as
/// JSON or YAML, only for templates that mention them, so a template that looks at
/// one header never buffers a body.
pub struct BuilderTemplate {
    template: Template,
    pipeline: PipelineInfo,
    body: bool,
    json_body: bool,
    yaml_body: bool,
}

impl BuilderTemplate {
    /// Parses `source` with the spec's delimiters (default `{{` `}}`).
    pub fn new(
        source: &str,
        left: Option<&str>,
        right: Option<&str>,
        pipeline: PipelineInfo,
    ) -> Result<BuilderTemplate, String> {
        let template = Template::parse_with(source, left.unwrap_or("{{"), right.unwrap_or("}}"))
            .map_err(|e| format!("template: {e}"))?;
        Ok(BuilderTemplate {
            template,
            pipeline,
            body: source.contains("Body"),
            json_body: source.contains("JSONBody"),
            yaml_body: source.contains("YAMLBody"),
        })
    }

    /// Renders the template and parses its output as YAML into `T`.
    pub fn build<T: serde::de::DeserializeOwned>(&self, exchange: &Exchange) -> Result<T, String> {
        let text = self.render(exchange)?;
        serde_yaml::from_str(&text).map_err(|e| format!("the template's output is not valid YAML: {e}\n{text}"))
    }

    /// Renders the template over the exchange.
    pub fn render(&self, exchange: &Exchange) -> Result<String, String> {
        self.template
            .render(&self.data(exchange))
            .map_err(|e| format!("template: {e}"))
    }

    fn data(&self, exchange: &Exchange) -> Value {
        let mut requests = Map::new();
        let mut responses = Map::new();
        let default = ["DEFAULT".to_string()];
        let namespaces = if self.pipeline.namespaces.is_empty() {
            &default[..]
        } else {
            &self.pipeline.namespaces[..]
        };
        for ns in namespaces {
            if let Some(request) = exchange.request_of(ns) {
                requests.insert(ns.clone(), self.request(&request));
            }
            if let Some(response) = exchange.response_of(ns) {
                responses.insert(ns.clone(), self.response(&response));
            }
        }
        if let Some(req) = requests.get_mut("DEFAULT") {
            req["RemoteAddr"] = Value::String(exchange.client_addr());
        }
        let req = requests.get("DEFAULT").cloned().unwrap_or(Value::Null);
        let resp = responses.get("DEFAULT").cloned().unwrap_or(Value::Null);
        // What DataBuilders stored for this request (JSON text by convention; a value
        // that is not JSON is kept as a string). `PIPELINE` is the pipeline's own.
        let mut data: Map<String, Value> = exchange
            .all_data()
            .into_iter()
            .map(|(key, text)| {
                let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
                (key, value)
            })
            .collect();
        data.insert(
            "PIPELINE".to_string(),
            if self.pipeline.data.is_null() {
                Value::Object(Map::new())
            } else {
                self.pipeline.data.clone()
            },
        );
        json!({
            "requests": requests,
            "responses": responses,
            "req": req,
            "resp": resp,
            "data": data,
            // Per step, not per filter: one builder may run in several namespaces.
            "namespace": exchange.namespace(),
        })
    }

    fn bodies(&self, body: Result<Vec<u8>, String>, into: &mut Map<String, Value>) {
        if !self.body {
            return;
        }
        let body = body.unwrap_or_default();
        let text = String::from_utf8_lossy(&body).into_owned();
        if self.json_body {
            into.insert("JSONBody".into(), serde_json::from_slice(&body).unwrap_or(Value::Null));
        }
        if self.yaml_body {
            into.insert("YAMLBody".into(), serde_yaml::from_str(&text).unwrap_or(Value::Null));
        }
        into.insert("RawBody".into(), Value::String(text.clone()));
        into.insert("Body".into(), Value::String(text));
    }

    fn request(&self, request: &Request) -> Value {
        let path = request.path();
        let query = request.query().unwrap_or_default();
        let host = request.host().unwrap_or_default();
        let uri = if query.is_empty() {
            path.clone()
        } else {
            format!("{path}?{query}")
        };
        let mut map = Map::new();
        map.insert("Method".into(), request.method().into());
        map.insert(
            "URL".into(),
            json!({"Path": path, "RawQuery": query, "Host": host, "Scheme": "http"}),
        );
        map.insert("RequestURI".into(), uri.into());
        map.insert("Host".into(), host.into());
        map.insert("Proto".into(), "HTTP/1.1".into());
        map.insert("Header".into(), header_map(request.headers()));
        self.bodies(request.body(), &mut map);
        Value::Object(map)
    }

    fn response(&self, response: &Response) -> Value {
        let status = response.status();
        let mut map = Map::new();
        map.insert("StatusCode".into(), status.into());
        map.insert("Status".into(), status.to_string().into());
        map.insert("Header".into(), header_map(response.headers()));
        self.bodies(response.body(), &mut map);
        Value::Object(map)
    }
}

/// Headers as Go's `http.Header`: canonical names (`X-Request-Id`) to lists of values.
fn header_map(headers: Vec<(String, String)>) -> Value {
    let mut map: Map<String, Value> = Map::new();
    for (name, value) in headers {
        let entry = map.entry(canonical(&name)).or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(values) = entry {
            values.push(Value::String(value));
        }
    }
    Value::Object(map)
}

/// Go's canonical header key: upper case after each `-` and at the start.
fn canonical(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = true;
    for c in name.chars() {
        out.push(if upper {
            c.to_ascii_uppercase()
        } else {
            c.to_ascii_lowercase()
        });
        upper = c == '-';
    }
    out
}

/// `headers:` in a built request or response: `{name: [values]}`, or one value.
#[derive(Debug, Default, Deserialize)]
#[serde(untagged)]
pub enum HeaderValues {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl HeaderValues {
    pub fn values(self) -> Vec<String> {
        match self {
            HeaderValues::None => Vec::new(),
            HeaderValues::One(v) => vec![v],
            HeaderValues::Many(v) => v,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_are_canonical_and_grouped() {
        let map = header_map(vec![
            ("x-request-id".into(), "1".into()),
            ("accept".into(), "a".into()),
            ("accept".into(), "b".into()),
        ]);
        assert_eq!(map, json!({"X-Request-Id": ["1"], "Accept": ["a", "b"]}));
    }
}
