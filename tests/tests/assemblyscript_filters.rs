//! AssemblyScript filters end to end: the examples built from source by the test
//! build (npm, `asc`, `weir-componentize`), loaded by the real `weir`. The API-key
//! example runs the very assertions the Rust example runs, so the two SDKs stay
//! equivalent.

use reqwest::StatusCode;
use weir_tests::net::{client, free_port};
use weir_tests::{Backend, Weir};

#[allow(dead_code, reason = "this file uses some of the guests")]
mod guests {
    include!(concat!(env!("OUT_DIR"), "/guests.rs"));
}

#[allow(dead_code, reason = "this file uses some of the AssemblyScript filters")]
mod assemblyscript {
    include!(concat!(env!("OUT_DIR"), "/assemblyscript.rs"));
}

/// A server in front of a pipeline running the filter `filter` (YAML of one filter
/// named `f`) and then a Proxy to `backend`.
fn config(port: u16, filter: &str, backend: &Backend) -> String {
    format!(
        "kind: HTTPServer\nname: front\nport: {port}\naddress: 127.0.0.1\nrules:\n  - paths:\n      - backend: pipeline\n---\nkind: Pipeline\nname: pipeline\nflow:\n  - filter: f\n  - filter: proxy\nfilters:\n{filter}\n  - name: proxy\n    kind: Proxy\n    pools:\n      - servers:\n          - url: {}\n",
        backend.url()
    )
}

fn read(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The behaviour both API-key examples promise: 401 without a known key (nothing
/// reaches the backend), the key replaced by its owner, and exact request numbers.
async fn rejects_tags_and_counts(module: &str) {
    let backend = Backend::start("b").await;
    let port = free_port();
    let filter =
        "  - name: f\n    kind: Wasm\n    module: filter.wasm\n    config:\n      keys:\n        k-alice: alice\n";
    let module = read(module);
    let _weir = Weir::start_with_files(&config(port, filter, &backend), &[("filter.wasm", &module)], &[port]);
    let client = client();
    let url = format!("http://127.0.0.1:{port}/");

    let missing = client.get(&url).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(missing.headers()["www-authenticate"], "ApiKey");
    assert_eq!(missing.headers()["content-type"], "text/plain");
    assert_eq!(missing.text().await.unwrap(), "a valid API key is required\n");
    let wrong = client.get(&url).header("x-api-key", "nope").send().await.unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(backend.hits(), 0);

    for n in 1..=3 {
        let ok = client.get(&url).header("x-api-key", "k-alice").send().await.unwrap();
        assert_eq!(ok.status(), StatusCode::OK);
        let seen = backend.requests().pop().unwrap();
        assert_eq!(seen.header("x-api-owner"), Some("alice"));
        assert_eq!(seen.header("x-api-key"), None, "the key does not travel on");
        assert_eq!(seen.header("x-api-request-number"), Some(n.to_string().as_str()));
    }
}

#[tokio::test]
async fn the_assemblyscript_api_key_filter_rejects_tags_and_counts() {
    rejects_tags_and_counts(assemblyscript::AS_API_KEY).await;
}

/// The same assertions on the Rust example: if one SDK drifts, one of these two fails.
#[tokio::test]
async fn the_rust_api_key_filter_passes_the_same_assertions() {
    rejects_tags_and_counts(guests::API_KEY_FILTER).await;
}

/// A bad config is refused by the AssemblyScript filter's `init`, with its message and
/// the filter's name, as the Rust SDK's `Config::parse` errors are.
#[test]
fn the_assemblyscript_api_key_filter_refuses_a_config_without_keys() {
    let (status, stderr) = weir_tests::weir::run_expecting_failure(&format!(
        "kind: Pipeline\nname: pipeline\nfilters:\n  - name: keyed\n    kind: Wasm\n    module: {}\n    config: {{ keys: {{}} }}\n",
        assemblyscript::AS_API_KEY
    ));
    assert!(!status.success());
    assert!(stderr.contains("keyed"), "{stderr}");
    assert!(stderr.contains("`keys` must list at least one key"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_json_rewrite_filter_rewrites_request_and_response_bodies() {
    let backend = Backend::start("b").await;
    let port = free_port();
    let filter = "  - name: f\n    kind: Wasm\n    module: filter.wasm\n    config:\n      redact: [password]\n      set: { source: weir, \"quote\\\"d\": [1, 2.5, null] }\n      stamp: rewritten\n";
    let module = read(assemblyscript::AS_JSON_REWRITE);
    let _weir = Weir::start_with_files(&config(port, filter, &backend), &[("filter.wasm", &module)], &[port]);
    let client = client();
    let url = format!("http://127.0.0.1:{port}/login");

    let response = client
        .post(&url)
        .header("content-type", "application/json")
        .body(r#"{"user": "zoë", "password": "hunter2", "nested": {"n": -3e2}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let seen = backend.requests().pop().unwrap();
    assert_eq!(
        seen.body,
        r#"{"user":"zoë","nested":{"n":-300},"source":"weir","quote\"d":[1,2.5,null]}"#
    );
    assert_eq!(
        seen.header("content-length"),
        Some(seen.body.len().to_string().as_str())
    );
    // The backend answers JSON describing the request; the response phase stamps it.
    let answer: serde_json::Value = response.json().await.unwrap();
    assert_eq!(answer["rewritten"], true, "{answer}");
    assert_eq!(
        answer["body"],
        seen.body.as_str(),
        "the rest of the answer is untouched"
    );

    // Bodies that are not JSON pass as they are.
    let plain = client
        .post(&url)
        .header("content-type", "text/plain")
        .body("password=1")
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), StatusCode::OK);
    assert_eq!(backend.requests().pop().unwrap().body, "password=1");
}
