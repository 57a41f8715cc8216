//! The built-in filters, which are components embedded in the binary, end to end:
//! Validator with jumpIf to END and to a custom failure response, RequestAdaptor,
//! ResponseAdaptor and Mock.

use reqwest::StatusCode;
use std::time::{Duration, Instant};
use weir_tests::net::{client, free_port};
use weir_tests::{Backend, Weir};

fn server(port: u16) -> String {
    format!(
        r#"
kind: HTTPServer
name: front
port: {port}
address: 127.0.0.1
rules:
  - paths:
      - backend: pipeline
"#
    )
}

fn proxy_to(backend: &Backend) -> String {
    format!(
        r#"
  - name: proxy
    kind: Proxy
    pools:
      - servers:
          - url: {}
"#,
        backend.url()
    )
}

/// Easegress's validator example: a request whose header fails the rule gets the
/// Validator's empty 400 (jumpIf invalid → END); a valid one reaches the backend.
#[tokio::test]
async fn validator_rejects_with_400_and_jumps_to_end() {
    let backend = Backend::start("b").await;
    let port = free_port();
    let config = format!(
        r#"{}
---
kind: Pipeline
name: pipeline
flow:
  - filter: validator
    jumpIf: {{ invalid: END }}
  - filter: proxy
filters:
  - name: validator
    kind: Validator
    headers:
      Content-Type:
        values: [application/json]
      X-Tenant:
        regexp: "^t-[0-9]+$"
{}"#,
        server(port),
        proxy_to(&backend)
    );
    let _weir = Weir::start(&config, &[port]);
    let url = format!("http://127.0.0.1:{port}/orders");
    let client = client();

    let bad = client.get(&url).header("x-tenant", "t-1").send().await.unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert_eq!(bad.text().await.unwrap(), "");
    let bad_regexp = client
        .get(&url)
        .header("content-type", "application/json")
        .header("x-tenant", "nobody")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_regexp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(backend.hits(), 0, "rejected requests never reach the backend");

    let good = client
        .get(&url)
        .header("content-type", "application/json")
        .header("x-tenant", "t-42")
        .send()
        .await
        .unwrap();
    assert_eq!(good.status(), StatusCode::OK);
    assert_eq!(backend.hits(), 1);
}

/// Easegress's custom failure response: `invalid` jumps to an alias further on whose
/// filter builds the answer; success skips it by jumping to END after the proxy.
#[tokio::test]
async fn validator_failure_jumps_to_a_custom_response_by_alias() {
    let backend = Backend::start("b").await;
    let port = free_port();
    let config = format!(
        r#"{}
---
kind: Pipeline
name: pipeline
flow:
  - filter: validator
    jumpIf: {{ invalid: customFailure }}
  - filter: proxy
    jumpIf: {{ "": END }}
  - filter: failure
    alias: customFailure
filters:
  - name: validator
    kind: Validator
    headers:
      X-Api-Version:
        values: ["2"]
  - name: failure
    kind: Mock
    rules:
      - code: 422
        headers:
          Content-Type: application/json
        body: '{{"error":"unsupported API version"}}'
{}"#,
        server(port),
        proxy_to(&backend)
    );
    let _weir = Weir::start(&config, &[port]);
    let url = format!("http://127.0.0.1:{port}/");
    let client = client();

    let rejected = client.get(&url).header("x-api-version", "1").send().await.unwrap();
    assert_eq!(rejected.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(rejected.headers()["content-type"], "application/json");
    assert_eq!(rejected.text().await.unwrap(), r#"{"error":"unsupported API version"}"#);

    let accepted = client.get(&url).header("x-api-version", "2").send().await.unwrap();
    assert_eq!(accepted.status(), StatusCode::OK);
    assert_eq!(accepted.headers()["x-backend"], "b");
    assert_eq!(backend.hits(), 1);
}

#[tokio::test]
async fn request_adaptor_changes_reach_the_backend() {
    let backend = Backend::start("b").await;
    let port = free_port();
    let config = format!(
        r#"{}
---
kind: Pipeline
name: pipeline
flow:
  - filter: adaptor
  - filter: proxy
filters:
  - name: adaptor
    kind: RequestAdaptor
    method: POST
    host: rewritten.example
    path:
      regexpReplace:
        regexp: "^/v1/(.*)$"
        replace: "/api/v2/$1"
    header:
      del: [X-Secret]
      set:
        X-Adapted: "yes"
      add:
        X-Trace: second
    body: '{{"adapted":true}}'
{}"#,
        server(port),
        proxy_to(&backend)
    );
    let _weir = Weir::start(&config, &[port]);
    let response = client()
        .get(format!("http://127.0.0.1:{port}/v1/users?page=2"))
        .header("x-secret", "hunter2")
        .header("x-trace", "first")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    let seen = backend.requests().pop().expect("the backend got the request");
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.uri, "/api/v2/users?page=2");
    assert_eq!(seen.header("host"), Some("rewritten.example"));
    assert_eq!(seen.header("x-secret"), None);
    assert_eq!(seen.header("x-adapted"), Some("yes"));
    let traces: Vec<_> = seen
        .headers
        .iter()
        .filter(|(k, _)| k == "x-trace")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(traces, ["first", "second"]);
    assert_eq!(seen.body, r#"{"adapted":true}"#);
}

#[tokio::test]
async fn response_adaptor_rewrites_the_backend_response() {
    let backend = Backend::start("b").await;
    let port = free_port();
    let config = format!(
        r#"{}
---
kind: Pipeline
name: pipeline
flow:
  - filter: proxy
  - filter: adaptor
filters:
  - name: adaptor
    kind: ResponseAdaptor
    header:
      del: [X-Backend]
      set:
        X-Served-By: weir
    body: replaced body
{}"#,
        server(port),
        proxy_to(&backend)
    );
    let _weir = Weir::start(&config, &[port]);
    let response = client().get(format!("http://127.0.0.1:{port}/")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().get("x-backend").is_none());
    assert_eq!(response.headers()["x-served-by"], "weir");
    assert_eq!(response.text().await.unwrap(), "replaced body");
    assert_eq!(backend.hits(), 1);
}

#[tokio::test]
async fn mock_answers_matching_requests_after_its_delay_and_lets_others_through() {
    let backend = Backend::start("b").await;
    let port = free_port();
    let config = format!(
        r#"{}
---
kind: Pipeline
name: pipeline
flow:
  - filter: mock
  - filter: proxy
filters:
  - name: mock
    kind: Mock
    rules:
      - match:
          pathPrefix: /mocked/
          headers:
            X-Mock:
              exact: "yes"
        code: 203
        headers:
          X-Mocked: "true"
        body: from the mock
        delay: 300ms
      - match:
          path: /health
        code: 200
        body: ok
{}"#,
        server(port),
        proxy_to(&backend)
    );
    let _weir = Weir::start(&config, &[port]);
    let client = client();

    let started = Instant::now();
    let mocked = client
        .get(format!("http://127.0.0.1:{port}/mocked/thing"))
        .header("x-mock", "yes")
        .send()
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300), "the delay was applied");
    assert_eq!(mocked.status(), StatusCode::NON_AUTHORITATIVE_INFORMATION);
    assert_eq!(mocked.headers()["x-mocked"], "true");
    assert_eq!(mocked.text().await.unwrap(), "from the mock");

    let health = client
        .get(format!("http://127.0.0.1:{port}/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.text().await.unwrap(), "ok");
    assert_eq!(backend.hits(), 0);

    let passed = client
        .get(format!("http://127.0.0.1:{port}/mocked/thing"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        passed.headers()["x-backend"],
        "b",
        "no rule matched, so the flow went on"
    );
    assert_eq!(backend.hits(), 1);
}

#[tokio::test]
async fn a_bad_builtin_spec_is_rejected_naming_the_filter() {
    let (status, stderr) = weir_tests::weir::run_expecting_failure(
        r#"
kind: Pipeline
name: pipeline
filters:
  - name: strict
    kind: Validator
    headers:
      X-Id:
        regexp: "(unclosed"
"#,
    );
    assert!(!status.success());
    assert!(stderr.contains("strict"), "{stderr}");
    assert!(stderr.contains("regexp"), "{stderr}");
}
