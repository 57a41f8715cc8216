//! The adaptors' `compress` / `decompress: gzip`, end to end, through two Weir servers
//! in a row: the outer one gzips what it sends and gunzips what it gets, the inner one
//! does the opposite, so the client and the backend both see plain bodies while the hop
//! between the two servers carries gzip, which the test looks at directly.

use reqwest::StatusCode;
use weir_tests::net::{client, free_port};
use weir_tests::{Backend, Weir};

#[tokio::test]
async fn bodies_are_gzipped_between_two_servers_and_plain_at_both_ends() {
    let backend = Backend::start("b").await;
    let (outer, inner) = (free_port(), free_port());
    let config = format!(
        r#"
kind: HTTPServer
name: outer
port: {outer}
address: 127.0.0.1
rules:
  - paths:
      - backend: outerPipeline
---
kind: HTTPServer
name: inner
port: {inner}
address: 127.0.0.1
rules:
  - paths:
      - backend: innerPipeline
---
kind: Pipeline
name: outerPipeline
flow:
  - filter: gzipRequest
  - filter: toInner
  - filter: gunzipResponse
filters:
  - name: gzipRequest
    kind: RequestAdaptor
    compress: gzip
  - name: toInner
    kind: Proxy
    pools:
      - servers:
          - url: http://127.0.0.1:{inner}
  - name: gunzipResponse
    kind: ResponseAdaptor
    decompress: gzip
---
kind: Pipeline
name: innerPipeline
flow:
  - filter: gunzipRequest
  - filter: toBackend
  - filter: gzipResponse
filters:
  - name: gunzipRequest
    kind: RequestAdaptor
    decompress: gzip
  - name: toBackend
    kind: Proxy
    pools:
      - servers:
          - url: {}
  - name: gzipResponse
    kind: ResponseAdaptor
    compress: gzip
"#,
        backend.url()
    );
    let _weir = Weir::start(&config, &[outer, inner]);
    let client = client();
    let payload = r#"{"order": "a book", "notes": "plain text that gzip shrinks, shrinks, shrinks"}"#;

    let through_both = client
        .post(format!("http://127.0.0.1:{outer}/orders"))
        .body(payload)
        .send()
        .await
        .unwrap();
    assert_eq!(through_both.status(), StatusCode::OK);
    assert!(through_both.headers().get("content-encoding").is_none());
    let echoed: serde_json::Value = through_both.json().await.unwrap();
    assert_eq!(echoed["body"], payload, "the client reads what the backend sent, plain");
    let at_backend = &backend.requests()[0];
    assert_eq!(
        at_backend.body, payload,
        "the backend got the body the client sent, plain"
    );
    assert_eq!(at_backend.header("content-encoding"), None);

    // The inner server alone: its response is gzip on the wire.
    let raw = client
        .get(format!("http://127.0.0.1:{inner}/orders"))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), StatusCode::OK);
    assert_eq!(
        raw.headers().get("content-encoding").and_then(|v| v.to_str().ok()),
        Some("gzip")
    );
    let bytes = raw.bytes().await.unwrap();
    assert_eq!(&bytes[..2], &[0x1f, 0x8b], "a gzip member starts with its magic bytes");
}

/// A body that claims gzip but is not: `decompressFailed`, which a `jumpIf` may also
/// spell `decompressFail` as Easegress's docs do.
#[tokio::test]
async fn a_bad_gzip_body_is_decompress_failed_in_either_spelling() {
    let backend = Backend::start("b").await;
    let port = free_port();
    let pipeline = |name: &str, spelling: &str| {
        format!(
            r#"---
kind: Pipeline
name: {name}
flow:
  - filter: gunzip
    jumpIf: {{ {spelling}: refuse }}
  - filter: proxy
  - filter: END
  - filter: refuse
filters:
  - name: gunzip
    kind: RequestAdaptor
    decompress: gzip
  - name: proxy
    kind: Proxy
    pools:
      - servers:
          - url: {}
  - name: refuse
    kind: Mock
    rules:
      - code: 400
        body: "{spelling}\n"
"#,
            backend.url()
        )
    };
    let config = format!(
        "kind: HTTPServer\nname: front\nport: {port}\naddress: 127.0.0.1\nrules:\n  - paths:\n      - pathPrefix: /code\n        backend: code\n      - pathPrefix: /docs\n        backend: docs\n{}{}",
        pipeline("code", "decompressFailed"),
        pipeline("docs", "decompressFail")
    );
    let _weir = Weir::start(&config, &[port]);
    let client = client();
    for (path, spelling) in [("code", "decompressFailed"), ("docs", "decompressFail")] {
        let response = client
            .post(format!("http://127.0.0.1:{port}/{path}"))
            .header("content-encoding", "gzip")
            .body("not gzip at all")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(response.text().await.unwrap(), format!("{spelling}\n"));
    }
    assert_eq!(backend.hits(), 0);
}
