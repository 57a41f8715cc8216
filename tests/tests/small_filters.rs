//! CORSAdaptor, Redirector, Fallback and IPFilter end to end, each in front of a real
//! backend: what reaches the backend, and what the client gets.

use reqwest::StatusCode;
use weir_tests::net::free_port;
use weir_tests::{Backend, Weir};

/// An HTTPServer on `port` into pipeline `pipeline`, made of `flow` and `filters`, with a
/// Proxy named `proxy` to `backend` appended.
fn config(port: u16, backend: &Backend, flow: &str, filters: &str) -> String {
    format!(
        r#"
kind: HTTPServer
name: front
port: {port}
address: 127.0.0.1
rules:
  - paths:
      - backend: pipeline
---
kind: Pipeline
name: pipeline
flow:
{flow}
filters:
{filters}
  - name: proxy
    kind: Proxy
    pools:
      - servers:
          - url: {}
"#,
        backend.url()
    )
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response.headers().get(name).map(|v| v.to_str().unwrap().to_string())
}

#[tokio::test]
async fn cors_preflight_is_answered_rejections_stop_and_responses_are_marked() {
    let backend = Backend::start("b").await;
    let port = free_port();
    let flow = "  - filter: cors\n    jumpIf: { preflighted: END }\n  - filter: proxy";
    let filters = r#"  - name: cors
    kind: CORSAdaptor
    allowedOrigins: ["https://*.example.com"]
    allowedMethods: [GET, PUT]
    allowedHeaders: [X-Token]
    exposedHeaders: [X-Backend]
    maxAge: 600"#;
    let _weir = Weir::start(&config(port, &backend, flow, filters), &[port]);
    let url = format!("http://127.0.0.1:{port}/api");
    let client = client();

    let preflight = client
        .request(reqwest::Method::OPTIONS, &url)
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", "PUT")
        .header("access-control-request-headers", "X-Token")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        header(&preflight, "access-control-allow-origin").as_deref(),
        Some("https://app.example.com")
    );
    assert_eq!(
        header(&preflight, "access-control-allow-methods").as_deref(),
        Some("PUT")
    );
    assert_eq!(
        header(&preflight, "access-control-allow-headers").as_deref(),
        Some("x-token")
    );
    assert_eq!(header(&preflight, "access-control-max-age").as_deref(), Some("600"));

    // An origin outside the list: the flow ends with an empty 200 that carries no
    // Access-Control-Allow-Origin, so the browser keeps the page from reading it.
    for request in [
        client
            .request(reqwest::Method::OPTIONS, &url)
            .header("origin", "https://evil.test")
            .header("access-control-request-method", "GET"),
        client.get(&url).header("origin", "https://evil.test"),
        client.delete(&url).header("origin", "https://app.example.com"),
    ] {
        let rejected = request.send().await.unwrap();
        assert_eq!(rejected.status(), StatusCode::OK);
        assert!(header(&rejected, "access-control-allow-origin").is_none());
        assert_eq!(rejected.text().await.unwrap(), "");
    }
    assert_eq!(backend.hits(), 0, "preflights and rejections never reach the backend");

    let actual = client
        .get(&url)
        .header("origin", "https://app.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(actual.status(), StatusCode::OK);
    assert_eq!(
        header(&actual, "access-control-allow-origin").as_deref(),
        Some("https://app.example.com")
    );
    assert_eq!(
        header(&actual, "access-control-expose-headers").as_deref(),
        Some("X-Backend")
    );
    assert_eq!(header(&actual, "x-backend").as_deref(), Some("b"));
    let no_origin = client.get(&url).send().await.unwrap();
    assert!(header(&no_origin, "access-control-allow-origin").is_none());
    assert_eq!(backend.hits(), 2);
}

#[tokio::test]
async fn redirector_answers_matching_requests_and_passes_the_rest() {
    let backend = Backend::start("b").await;
    let port = free_port();
    let flow = "  - filter: redirect\n    jumpIf: { redirected: END }\n  - filter: proxy";
    let filters = r#"  - name: redirect
    kind: Redirector
    match: "^/users/([0-9]+)"
    replacement: "/profile/$1"
    statusCode: 302"#;
    let _weir = Weir::start(&config(port, &backend, flow, filters), &[port]);
    let client = client();

    let moved = client
        .get(format!("http://127.0.0.1:{port}/users/42?tab=posts"))
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), StatusCode::FOUND);
    assert_eq!(header(&moved, "location").as_deref(), Some("/profile/42?tab=posts"));
    assert_eq!(backend.hits(), 0);

    let passed = client
        .get(format!("http://127.0.0.1:{port}/orders/1"))
        .send()
        .await
        .unwrap();
    assert_eq!(passed.status(), StatusCode::OK);
    assert_eq!(backend.hits(), 1);
}

/// Easegress's fallback pattern: the Proxy's `failureCode` result jumps to the Fallback,
/// which turns the backend's 500 into the canned answer; a success skips it.
#[tokio::test]
async fn fallback_replaces_a_failed_backend_response() {
    let backend = Backend::start("b").await;
    let port = free_port();
    let flow = r#"  - filter: proxy
    jumpIf: { failureCode: fallback, "": END }
  - filter: fallback"#;
    let filters = r#"  - name: fallback
    kind: Fallback
    mockCode: 200
    mockHeaders:
      X-Fallback: "yes"
    mockBody: '{"items": []}'"#;
    let _weir = Weir::start(&config(port, &backend, flow, filters), &[port]);
    let url = format!("http://127.0.0.1:{port}/items");
    let client = client();

    let failed = client.get(&url).header("x-backend-status", "500").send().await.unwrap();
    assert_eq!(failed.status(), StatusCode::OK);
    assert_eq!(header(&failed, "x-fallback").as_deref(), Some("yes"));
    assert_eq!(failed.text().await.unwrap(), r#"{"items": []}"#);

    let fine = client.get(&url).send().await.unwrap();
    assert_eq!(fine.status(), StatusCode::OK);
    assert!(header(&fine, "x-fallback").is_none());
    assert!(fine.text().await.unwrap().contains("\"backend\":\"b\""));
    assert_eq!(backend.hits(), 2);
}

#[tokio::test]
async fn ip_filter_blocks_and_allows_by_cidr() {
    let backend = Backend::start("b").await;
    let blocked_port = free_port();
    let flow = "  - filter: ips\n    jumpIf: { blocked: END }\n  - filter: proxy";
    let block = r#"  - name: ips
    kind: IPFilter
    blockIPs: ["127.0.0.0/8", "::1/128"]"#;
    let _blocking = Weir::start(&config(blocked_port, &backend, flow, block), &[blocked_port]);
    let refused = client()
        .get(format!("http://127.0.0.1:{blocked_port}/"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(backend.hits(), 0);

    let allowed_port = free_port();
    let allow = r#"  - name: ips
    kind: IPFilter
    allowIPs: ["10.0.0.0/8", "127.0.0.1"]
    blockByDefault: true"#;
    let _allowing = Weir::start(&config(allowed_port, &backend, flow, allow), &[allowed_port]);
    let passed = client()
        .get(format!("http://127.0.0.1:{allowed_port}/"))
        .send()
        .await
        .unwrap();
    assert_eq!(passed.status(), StatusCode::OK);
    assert_eq!(backend.hits(), 1);
}

#[tokio::test]
async fn header_to_json_merges_headers_into_the_json_body() {
    let backend = Backend::start("b").await;
    let port = free_port();
    let flow = "  - filter: h2j\n    jumpIf: { jsonEncodeDecodeErr: badBody }\n  - filter: proxy\n    jumpIf: { \"\": END }\n  - filter: bad\n    alias: badBody";
    let filters = r#"  - name: h2j
    kind: HeaderToJSON
    headerMap:
      - header: X-User-Id
        json: userId
  - name: bad
    kind: Mock
    rules:
      - code: 400
        body: body is not a JSON object"#;
    let _weir = Weir::start(&config(port, &backend, flow, filters), &[port]);
    let url = format!("http://127.0.0.1:{port}/orders");
    let client = client();

    let merged = client
        .post(&url)
        .header("x-user-id", "7")
        .body(r#"{"item":"book"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(merged.status(), StatusCode::OK);
    let seen: serde_json::Value = serde_json::from_str(&backend.requests()[0].body).unwrap();
    assert_eq!(seen, serde_json::json!({"item": "book", "userId": "7"}));

    let not_json = client
        .post(&url)
        .header("x-user-id", "7")
        .body("plain text")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), StatusCode::BAD_REQUEST);
    assert_eq!(backend.hits(), 1, "the refused body never reached the backend");
}
