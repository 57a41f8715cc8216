//! RequestBuilder, ResponseBuilder and ResultBuilder end to end: a request built from a
//! template and sent by a Proxy in its own namespace, a response composed from that
//! namespace and the pipeline's `data`, a copy through `sourceNamespace`, results for
//! `jumpIf`, and `buildErr`.

use weir_tests::net::{client, free_port};
use weir_tests::{Backend, Weir};

fn server(port: u16) -> String {
    format!("kind: HTTPServer\nname: front\nport: {port}\naddress: 127.0.0.1\nrules:\n  - paths:\n      - backend: pipeline\n---\n")
}

#[tokio::test]
async fn a_built_request_is_proxied_and_the_response_composed_from_it() {
    let backend = Backend::start("users").await;
    let port = free_port();
    let config = format!(
        r#"{}kind: Pipeline
name: pipeline
data:
  greeting: hello
flow:
  - filter: buildRequest
    namespace: users
  - filter: proxy
    namespace: users
  - filter: buildResponse
filters:
  - name: buildRequest
    kind: RequestBuilder
    template: |
      method: PUT
      url: /users/{{{{header .requests.DEFAULT.Header "X-User"}}}}?from=weir
      headers:
        X-Original-Method: [{{{{.req.Method}}}}]
      body: '{{{{.requests.DEFAULT.JSONBody.name | upper}}}}'
  - name: proxy
    kind: Proxy
    pools:
      - servers:
          - url: {}
  - name: buildResponse
    kind: ResponseBuilder
    template: |
      statusCode: 201
      headers:
        X-Backend-Status: ['{{{{.responses.users.StatusCode}}}}']
      body: '{{{{.data.PIPELINE.greeting}}}} {{{{.responses.users.JSONBody.method}}}} {{{{.responses.users.JSONBody.uri}}}} {{{{.responses.users.JSONBody.body}}}}'
"#,
        server(port),
        backend.url()
    );
    let _weir = Weir::start(&config, &[port]);
    let response = client()
        .post(format!("http://127.0.0.1:{port}/anything"))
        .header("x-user", "42")
        .body(r#"{"name":"ada"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    assert_eq!(response.headers()["x-backend-status"], "200");
    assert_eq!(response.text().await.unwrap(), "hello PUT /users/42?from=weir ADA");
    let seen = &backend.requests()[0];
    assert_eq!(seen.method, "PUT");
    assert!(
        seen.headers
            .iter()
            .any(|(k, v)| k == "x-original-method" && v == "POST"),
        "{:?}",
        seen.headers
    );
}

#[tokio::test]
async fn source_namespace_copies_requests_and_responses() {
    let backend = Backend::start("copy").await;
    let port = free_port();
    let config = format!(
        r#"{}kind: Pipeline
name: pipeline
flow:
  - filter: copyRequest
    namespace: copy
  - filter: proxy
    namespace: copy
  - filter: copyResponse
filters:
  - name: copyRequest
    kind: RequestBuilder
    sourceNamespace: DEFAULT
  - name: proxy
    kind: Proxy
    pools:
      - servers:
          - url: {}
  - name: copyResponse
    kind: ResponseBuilder
    sourceNamespace: copy
"#,
        server(port),
        backend.url()
    );
    let _weir = Weir::start(&config, &[port]);
    let response = client()
        .post(format!("http://127.0.0.1:{port}/orders?id=3"))
        .header("x-backend-status", "202")
        .body("payload")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 202, "the copied request kept its headers");
    assert_eq!(response.headers()["x-backend"], "copy");
    let echoed: serde_json::Value = response.json().await.unwrap();
    assert_eq!(echoed["method"], "POST");
    assert_eq!(echoed["uri"], "/orders?id=3");
    assert_eq!(echoed["body"], "payload");
}

#[tokio::test]
async fn result_builder_drives_jumps_and_build_errors_are_results() {
    let backend = Backend::start("b").await;
    let port = free_port();
    let config = format!(
        r#"{}kind: Pipeline
name: pipeline
flow:
  - filter: route
    jumpIf: {{ result1: teapot, unknown: END }}
  - filter: broken
    jumpIf: {{ buildErr: failed }}
  - filter: proxy
  - filter: END
  - filter: teapot
  - filter: END
  - filter: failed
filters:
  - name: route
    kind: ResultBuilder
    template: |
      {{{{if eq (header .req.Header "X-Kind") "tea"}}}}result1{{{{else if eq (header .req.Header "X-Kind") "odd"}}}}surprise{{{{end}}}}
  - name: broken
    kind: RequestBuilder
    template: |
      {{{{if eq (header .req.Header "X-Kind") "break"}}}}method: [unclosed{{{{else}}}}method: GET{{{{end}}}}
  - name: teapot
    kind: ResponseBuilder
    template: |
      statusCode: 418
      body: short and stout
  - name: failed
    kind: ResponseBuilder
    template: |
      statusCode: 500
      body: could not build
  - name: proxy
    kind: Proxy
    pools:
      - servers:
          - url: {}
"#,
        server(port),
        backend.url()
    );
    let _weir = Weir::start(&config, &[port]);
    let send = |kind: &'static str| {
        let client = client();
        async move {
            let r = client
                .get(format!("http://127.0.0.1:{port}/"))
                .header("x-kind", kind)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    assert_eq!(send("tea").await, (418, "short and stout".to_string()));
    // `unknown` jumps to END with no response in DEFAULT: Easegress's 503.
    assert_eq!(send("odd").await.0, 503);
    assert_eq!(send("break").await, (500, "could not build".to_string()));
    let (status, body) = send("coffee").await;
    assert_eq!(status, 200);
    assert!(body.contains("\"backend\":\"b\""), "{body}");
}
