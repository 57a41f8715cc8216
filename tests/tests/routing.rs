//! Routing end to end: every status the router decides, rewrites, hosts, and h2c.

use reqwest::StatusCode;
use std::time::Duration;
use weir_tests::net::{client, free_port, raw_exchange};
use weir_tests::{Backend, Weir};

fn config(port: u16, blocked_port: u16, backend: &str) -> String {
    format!(
        r#"
kind: HTTPServer
name: routing
port: {port}
address: 127.0.0.1
clientMaxBodySize: 1024
rules:
  - host: "*.blocked.test"
    ipFilter: {{blockByDefault: true, allowIPs: ["10.0.0.1"]}}
    paths:
      - pathPrefix: /
        backend: echo
  - host: api.example.test
    paths:
      - path: /exact
        backend: echo
      - pathPrefix: /old/
        rewriteTarget: /new/
        backend: echo
      - pathRegexp: ^/users/([0-9]+)$
        rewriteTarget: /u/$1
        backend: echo
      - path: /methods
        methods: [POST]
        backend: echo
      - path: /headers
        headers: [{{key: X-Tenant, values: [acme]}}]
        backend: echo
      - path: /queries
        queries: [{{key: v, regexp: "^[0-9]+$"}}]
        backend: echo
      - path: /missing-pipeline
        backend: nobody
      - path: /small-body
        clientMaxBodySize: 16
        backend: echo
      - pathPrefix: /first
        backend: echo
      - path: /first/shadowed
        backend: nobody
      - path: /precedence
        methods: [PUT]
        backend: echo
      - path: /precedence
        headers: [{{key: X-Need, values: ["1"]}}]
        backend: echo
  - hosts: [{{value: "www.*"}}, {{value: "^static[0-9]+\\.test$", isRegexp: true}}]
    paths:
      - backend: echo
  - host: precedence.test
    ipFilter: {{blockIPs: ["127.0.0.0/8"]}}
    paths:
      - backend: echo
  - host: precedence.test
    paths:
      - headers: [{{key: X-Need, values: ["1"]}}]
        backend: echo
---
kind: HTTPServer
name: blocked-everywhere
port: {blocked_port}
address: 127.0.0.1
ipFilter:
  blockIPs: ["127.0.0.1"]
rules:
  - paths:
      - backend: echo
---
kind: Pipeline
name: echo
filters:
  - name: proxy
    kind: Proxy
    pools:
      - servers:
          - url: {backend}
"#
    )
}

struct Fixture {
    _weir: Weir,
    backend: Backend,
    port: u16,
    blocked_port: u16,
    client: reqwest::Client,
}

async fn fixture() -> Fixture {
    let backend = Backend::start("echo").await;
    let (port, blocked_port) = (free_port(), free_port());
    let weir = Weir::start(&config(port, blocked_port, &backend.url()), &[port, blocked_port]);
    let client = client();
    Fixture {
        _weir: weir,
        backend,
        port,
        blocked_port,
        client,
    }
}

impl Fixture {
    async fn get(&self, host: &str, path: &str) -> reqwest::Response {
        self.client
            .get(format!("http://127.0.0.1:{}{path}", self.port))
            .header("host", host)
            .send()
            .await
            .unwrap()
    }

    fn last_uri(&self) -> String {
        self.backend.requests().last().unwrap().uri.clone()
    }
}

const API: &str = "api.example.test";

#[tokio::test(flavor = "multi_thread")]
async fn exact_prefix_and_regexp_paths_route_and_rewrite() {
    let f = fixture().await;
    assert_eq!(f.get(API, "/exact").await.status(), StatusCode::OK);
    assert_eq!(f.last_uri(), "/exact");
    assert_eq!(
        f.get("API.Example.Test:8080", "/exact").await.status(),
        StatusCode::OK,
        "host compared without port, any case"
    );

    assert_eq!(f.get(API, "/old/a/b?q=1").await.status(), StatusCode::OK);
    assert_eq!(f.last_uri(), "/new/a/b?q=1");
    assert_eq!(f.get(API, "/users/42").await.status(), StatusCode::OK);
    assert_eq!(f.last_uri(), "/u/42");
    assert_eq!(f.get(API, "/users/abc").await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn first_match_wins_even_over_a_more_specific_path() {
    let f = fixture().await;
    // `/first` (prefix) comes before the exact `/first/shadowed`, whose pipeline doesn't
    // exist: a 200 proves the earlier rule won.
    assert_eq!(f.get(API, "/first/shadowed").await.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn statuses_decided_by_the_router() {
    let f = fixture().await;
    assert_eq!(f.get(API, "/nothing-here").await.status(), StatusCode::NOT_FOUND);
    assert_eq!(f.get("unknown.test", "/exact").await.status(), StatusCode::NOT_FOUND);
    assert_eq!(f.get(API, "/methods").await.status(), StatusCode::METHOD_NOT_ALLOWED);
    let post = f
        .client
        .post(format!("http://127.0.0.1:{}/methods", f.port))
        .header("host", API)
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), StatusCode::OK);

    assert_eq!(f.get(API, "/headers").await.status(), StatusCode::BAD_REQUEST);
    let with_header = f
        .client
        .get(format!("http://127.0.0.1:{}/headers", f.port))
        .header("host", API)
        .header("x-tenant", "acme")
        .send()
        .await
        .unwrap();
    assert_eq!(with_header.status(), StatusCode::OK);

    assert_eq!(f.get(API, "/queries?v=abc").await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(f.get(API, "/queries?v=12").await.status(), StatusCode::OK);

    assert_eq!(
        f.get(API, "/missing-pipeline").await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(f.get("x.blocked.test", "/").await.status(), StatusCode::FORBIDDEN);
    let everywhere = f
        .client
        .get(format!("http://127.0.0.1:{}/", f.blocked_port))
        .send()
        .await
        .unwrap();
    assert_eq!(everywhere.status(), StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread")]
async fn mismatch_precedence_is_ip_then_headers_then_method() {
    let f = fixture().await;
    // Method mismatch (PUT only) and header mismatch (X-Need) on the same path: 400 wins.
    assert_eq!(f.get(API, "/precedence").await.status(), StatusCode::BAD_REQUEST);
    // IP refusal in one rule and header mismatch in the next: 403 wins.
    assert_eq!(f.get("precedence.test", "/").await.status(), StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread")]
async fn wildcard_and_regexp_hosts() {
    let f = fixture().await;
    assert_eq!(f.get("www.anything.test", "/x").await.status(), StatusCode::OK);
    assert_eq!(f.get("static7.test", "/x").await.status(), StatusCode::OK);
    assert_eq!(f.get("static.test", "/x").await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn body_limits_give_413_and_small_bodies_pass() {
    let f = fixture().await;
    let url = |p: &str| format!("http://127.0.0.1:{}{p}", f.port);
    let big = f
        .client
        .post(url("/exact"))
        .header("host", API)
        .body(vec![b'a'; 2000])
        .send()
        .await
        .unwrap();
    assert_eq!(big.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let over_path_limit = f
        .client
        .post(url("/small-body"))
        .header("host", API)
        .body("0123456789abcdefg")
        .send()
        .await
        .unwrap();
    assert_eq!(over_path_limit.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let fits = f
        .client
        .post(url("/small-body"))
        .header("host", API)
        .body("0123456789")
        .send()
        .await
        .unwrap();
    assert_eq!(fits.status(), StatusCode::OK);
    assert_eq!(f.backend.requests().last().unwrap().body, "0123456789");

    // A chunked body with no Content-Length is measured as it arrives.
    let mut chunked = format!("POST /exact HTTP/1.1\r\nHost: {API}\r\nTransfer-Encoding: chunked\r\n\r\n");
    for _ in 0..40 {
        chunked.push_str(&format!("64\r\n{}\r\n", "z".repeat(100)));
    }
    chunked.push_str("0\r\n\r\n");
    let answer = raw_exchange(
        ([127, 0, 0, 1], f.port).into(),
        chunked.as_bytes(),
        Duration::from_secs(5),
    );
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        f.backend.requests().iter().all(|r| r.body.len() <= 1024),
        "nothing over the limit reached the backend"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn h2c_prior_knowledge_routes_the_same() {
    let f = fixture().await;
    let h2 = reqwest::Client::builder()
        .no_proxy()
        .http2_prior_knowledge()
        .resolve(API, ([127, 0, 0, 1], f.port).into())
        .build()
        .unwrap();
    let response = h2.get(format!("http://{API}:{}/old/h2", f.port)).send().await.unwrap();
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(f.last_uri(), "/new/h2");
}
