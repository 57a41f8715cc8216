//! `.namespace` in builder templates end to end: it is the namespace of the step being
//! run, so one RequestBuilder that the flow runs in two namespaces builds a different
//! request in each, a ResultBuilder branches on it, and a ResponseBuilder in DEFAULT
//! sees `DEFAULT`.

use weir_tests::net::{client, free_port};
use weir_tests::{yaml, Backend, Weir};

#[tokio::test]
async fn each_step_sees_its_own_namespace() {
    let backend = Backend::start("b").await;
    let port = free_port();
    let config = format!(
        r#"{}---
kind: Pipeline
name: main
flow:
  - filter: fanOut
    namespace: users
  - filter: proxy
    namespace: users
  - filter: fanOut
    namespace: orders
  - filter: proxy
    namespace: orders
  - filter: check
    namespace: orders
    jumpIf: {{ result1: compose }}
  - filter: notJumped
    jumpIf: {{ "": END }}
  - filter: compose
filters:
  - name: fanOut
    kind: RequestBuilder
    template: |
      url: /{{{{.namespace}}}}/list
      headers:
        X-From-Namespace: ['{{{{.namespace}}}}']
  - name: proxy
    kind: Proxy
    pools: [{{servers: [{{url: "{}"}}]}}]
  - name: check
    kind: ResultBuilder
    template: '{{{{if eq .namespace "orders"}}}}result1{{{{end}}}}'
  - name: notJumped
    kind: ResponseBuilder
    template: |
      statusCode: 500
      body: the ResultBuilder did not see its namespace
  - name: compose
    kind: ResponseBuilder
    template: |
      headers:
        X-Namespace: ['{{{{.namespace}}}}']
      body: '{{{{.responses.users.JSONBody.uri}}}} {{{{.responses.orders.JSONBody.uri}}}}'
"#,
        yaml::front(port, "main"),
        backend.url()
    );
    let _weir = Weir::start(&config, &[port]);
    let client = client();
    let response = client.get(format!("http://127.0.0.1:{port}/")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["x-namespace"], "DEFAULT");
    assert_eq!(response.text().await.unwrap(), "/users/list /orders/list");
    let seen = backend.requests();
    assert_eq!(seen.len(), 2);
    for (request, namespace) in seen.iter().zip(["users", "orders"]) {
        assert_eq!(request.uri, format!("/{namespace}/list"));
        assert_eq!(request.header("x-from-namespace"), Some(namespace));
    }
}
