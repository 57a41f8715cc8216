//! `kind: RequestAdaptor`: rewrites the request of its namespace: `method`, `host`,
//! `path` (the first of `replace`, `addPrefix`, `trimPrefix`, `regexpReplace` that is
//! set), `header` (`del`, then `set`, then `add`), `body`, then `compress` or
//! `decompress` (`gzip`; failures give `compressFailed` / `decompressFailed`).

use regex::Regex;
use serde::Deserialize;
use weir_builtin_common::HeaderSpec;
use weir_content_coding::{Coding, Recode};
use weir_sdk::{Config, Exchange, Filter, HeaderEdit, Outcome, Request};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Spec {
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    host: Option<String>,
    #[serde(default)]
    path: Option<PathSpec>,
    #[serde(default)]
    header: Option<HeaderSpec>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    compress: Option<Coding>,
    #[serde(default)]
    decompress: Option<Coding>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PathSpec {
    #[serde(default)]
    replace: String,
    #[serde(default)]
    add_prefix: String,
    #[serde(default)]
    trim_prefix: String,
    #[serde(default)]
    regexp_replace: Option<RegexpReplaceSpec>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RegexpReplaceSpec {
    regexp: String,
    replace: String,
}

enum PathEdit {
    Replace(String),
    AddPrefix(String),
    TrimPrefix(String),
    RegexpReplace(Regex, String),
}

impl PathEdit {
    fn apply(&self, path: &str) -> String {
        match self {
            PathEdit::Replace(p) => p.clone(),
            PathEdit::AddPrefix(prefix) => format!("{prefix}{path}"),
            PathEdit::TrimPrefix(prefix) => path.strip_prefix(prefix.as_str()).unwrap_or(path).to_string(),
            PathEdit::RegexpReplace(re, with) => re.replace_all(path, with.as_str()).into_owned(),
        }
    }
}

pub struct RequestAdaptor {
    method: Option<String>,
    host: Option<String>,
    path: Option<PathEdit>,
    /// `header`, as the edits to apply, built once.
    header_edits: Vec<HeaderEdit>,
    body: Option<String>,
    recodes: Vec<Recode>,
}

impl Filter for RequestAdaptor {
    fn new(config: Config) -> Result<Self, String> {
        let spec: Spec = config.parse()?;
        // Easegress takes the first non-empty rule, in this order.
        let path = match spec.path {
            Some(p) if !p.replace.is_empty() => Some(PathEdit::Replace(p.replace)),
            Some(p) if !p.add_prefix.is_empty() => Some(PathEdit::AddPrefix(p.add_prefix)),
            Some(p) if !p.trim_prefix.is_empty() => Some(PathEdit::TrimPrefix(p.trim_prefix)),
            Some(PathSpec {
                regexp_replace: Some(r), ..
            }) => {
                let re = Regex::new(&r.regexp).map_err(|e| format!("path.regexpReplace.regexp: {e}"))?;
                Some(PathEdit::RegexpReplace(re, r.replace))
            }
            _ => None,
        };
        let recodes = Recode::steps(spec.compress, spec.decompress);
        // Only compressing or decompressing reads the body; the rest never waits.
        if recodes.is_empty() {
            weir_sdk::runtime::never_waits();
        }
        Ok(RequestAdaptor {
            method: spec.method.filter(|m| !m.is_empty()),
            host: spec.host.filter(|h| !h.is_empty()),
            path,
            header_edits: spec.header.unwrap_or_default().edits(),
            body: spec.body,
            recodes,
        })
    }

    fn on_request(&self, exchange: &Exchange) -> Outcome {
        // Values come from the operator's YAML: one the host refuses (a bad header
        // name, say) is skipped rather than failing every request.
        if self.method.is_some() || self.host.is_some() || self.path.is_some() {
            let Some(request) = exchange.request() else {
                return Outcome::Continue;
            };
            if let Some(method) = &self.method {
                let _ = request.set_method(method);
            }
            if let Some(host) = &self.host {
                let _ = request.set_host(host);
            }
            if let Some(edit) = &self.path {
                let _ = request.set_path(&edit.apply(&request.path()));
            }
        }
        // One host call for every header edit, without fetching a request handle: a
        // header-only adaptor, the usual kind, costs one crossing per request.
        if !self.header_edits.is_empty() {
            let _refused = exchange.edit_request_headers(&self.header_edits);
        }
        if self.body.is_none() && self.recodes.is_empty() {
            return Outcome::Continue;
        }
        let Some(request) = exchange.request() else {
            return Outcome::Continue;
        };
        if let Some(body) = &self.body {
            request.set_body(body.as_bytes());
        }
        for &step in &self.recodes {
            if recode(&request, step).is_err() {
                return Outcome::Result(step.failure().into());
            }
        }
        Outcome::Continue
    }
}

fn recode(request: &Request, step: Recode) -> Result<(), String> {
    let Some(recoded) = step.apply(request.header("content-encoding").as_deref(), &request.body()?)? else {
        return Ok(());
    };
    request.set_body(&recoded.body);
    match recoded.content_encoding {
        Some(token) => request.set_header("content-encoding", token),
        None => {
            request.remove_header("content-encoding");
            Ok(())
        }
    }
}

weir_sdk::export_filter!(RequestAdaptor);

#[cfg(test)]
mod tests {
    use super::*;
    use weir_sdk::testing::{Harness, TestExchange, TestRequest};

    #[test]
    fn promises_never_to_wait_unless_it_recodes_the_body() {
        let headers = Harness::<RequestAdaptor>::new(r#"{"header":{"set":{"X-Set":"s"}},"body":"new"}"#).unwrap();
        assert!(headers.promised_never_to_wait());
        let recodes = Harness::<RequestAdaptor>::new(r#"{"compress":"gzip"}"#).unwrap();
        assert!(!recodes.promised_never_to_wait());
    }

    #[test]
    fn edits_apply_in_easegress_order() {
        let adaptor = Harness::<RequestAdaptor>::new(
            r#"{"method":"PUT","path":{"addPrefix":"/v2","trimPrefix":"/ignored"},
                "header":{"del":["X-Drop"],"set":{"X-Set":"s"},"add":{"X-Set":"a"}},"body":"new"}"#,
        )
        .unwrap();
        let exchange = TestExchange::new(TestRequest::get("/users?id=1").header("x-drop", "1"));
        assert_eq!(adaptor.on_request(&exchange), Outcome::Continue);
        let request = exchange.request();
        assert_eq!(request.method(), "PUT");
        assert_eq!(request.path(), "/v2/users");
        assert_eq!(request.query().as_deref(), Some("id=1"));
        assert_eq!(request.header("x-drop"), None);
        assert_eq!(request.header_all("x-set"), vec!["s", "a"]);
        assert_eq!(request.body().unwrap(), b"new");
    }

    #[test]
    fn regexp_replace_expands_groups() {
        let adaptor =
            Harness::<RequestAdaptor>::new(r#"{"path":{"regexpReplace":{"regexp":"^/api/(\\w+)$","replace":"/$1/v1"}}}"#)
                .unwrap();
        let exchange = TestExchange::new(TestRequest::get("/api/users"));
        adaptor.on_request(&exchange);
        assert_eq!(exchange.request().path(), "/users/v1");
    }

    #[test]
    fn decompresses_a_gzip_body_and_reports_a_broken_one() {
        let gz = weir_content_coding::compress(Coding::Gzip, None, b"{\"a\":1}").unwrap().unwrap();
        let adaptor = Harness::<RequestAdaptor>::new(r#"{"decompress":"gzip"}"#).unwrap();
        let exchange = TestExchange::new(TestRequest::post("/").header("content-encoding", "gzip").body(gz));
        assert_eq!(adaptor.on_request(&exchange), Outcome::Continue);
        assert_eq!(exchange.request().body().unwrap(), b"{\"a\":1}");
        assert_eq!(exchange.request().header("content-encoding"), None);

        let broken = TestExchange::new(TestRequest::post("/").header("content-encoding", "gzip").body("x"));
        assert_eq!(adaptor.on_request(&broken), Outcome::Result("decompressFailed".into()));
    }
}
