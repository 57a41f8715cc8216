//! DataBuilder and `.namespace` end to end: a value built from the client's request is
//! kept for that request only, later templates in other namespaces read it as
//! `.data.KEY`, and each builder's template sees its own step's namespace.

use weir_tests::net::{client, free_port};
use weir_tests::yaml::front_and_pipeline;
use weir_tests::{Backend, Weir};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn built_data_reaches_later_templates_of_the_same_request_only() {
    let backend = Backend::start("accounts").await;
    let port = free_port();
    let config = front_and_pipeline(
        port,
        &format!(
            r#"data:
  region: eu
flow:
  - filter: user
  - filter: buildRequest
    namespace: accounts
  - filter: proxy
    namespace: accounts
  - filter: buildResponse
filters:
  - name: user
    kind: DataBuilder
    dataKey: user
    template: |
      id: {{{{header .req.Header "X-User"}}}}
      name: {{{{.req.JSONBody.name}}}}
      region: {{{{.data.PIPELINE.region}}}}
  - name: buildRequest
    kind: RequestBuilder
    template: |
      method: GET
      url: /accounts/{{{{.data.user.id}}}}?region={{{{.data.user.region}}}}&built-in={{{{.namespace}}}}
  - name: proxy
    kind: Proxy
    pools:
      - servers: [{{url: "{}"}}]
  - name: buildResponse
    kind: ResponseBuilder
    template: |
      statusCode: 200
      body: '{{{{.data.user.name}}}} {{{{.responses.accounts.JSONBody.uri}}}} answered in {{{{.namespace}}}}'
"#,
            backend.url(),
        ),
    );
    let _weir = Weir::start(&config, &[port]);
    let url = format!("http://127.0.0.1:{port}/");

    let response = client()
        .post(&url)
        .header("x-user", "7")
        .body(r#"{"name":"ada"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response.text().await.unwrap(),
        "ada /accounts/7?region=eu&built-in=accounts answered in DEFAULT"
    );

    // The next request builds its own value; nothing of the first one is left.
    let response = client()
        .post(&url)
        .header("x-user", "8")
        .body(r#"{"name":"bob"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.text().await.unwrap(),
        "bob /accounts/8?region=eu&built-in=accounts answered in DEFAULT"
    );
    assert_eq!(backend.hits(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_builder_whose_output_is_not_yaml_is_a_build_err() {
    let port = free_port();
    let config = front_and_pipeline(
        port,
        r#"flow:
  - filter: broken
    jumpIf: { buildErr: explain }
  - filter: END
  - filter: explain
filters:
  - name: broken
    kind: DataBuilder
    dataKey: x
    template: "a: [{{.req.Method}}"
  - name: explain
    kind: Mock
    rules:
      - code: 500
        body: "could not build the data\n"
"#,
    );
    let weir = Weir::start(&config, &[port]);
    let response = client().get(format!("http://127.0.0.1:{port}/")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 500);
    assert_eq!(response.text().await.unwrap(), "could not build the data\n");
    assert!(weir.logged("DataBuilder \"x\""), "the reason is logged");
}
