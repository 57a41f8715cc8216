//! The AssemblyScript SDK's host services end to end: `log`, `clock`, `random` and
//! `http-client`, called by `sdk-assemblyscript/fixtures/host-imports.ts` inside the real
//! `weir`, which answers each request with what the services returned. Strings cross
//! the boundary as UTF-16, so non-ASCII text goes through the log and headers both ways.

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::StatusCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use weir_tests::net::{client, free_port};
use weir_tests::{Backend, Weir};

#[allow(dead_code, reason = "this file uses one of the AssemblyScript filters")]
mod assemblyscript {
    include!(concat!(env!("OUT_DIR"), "/assemblyscript.rs"));
}

/// The fixture's own non-ASCII constant (`LITERAL` in host-imports.ts).
const LITERAL: &str = "ünïcødé ✓ 🦀";

/// Non-ASCII the test sends: Latin, CJK, a dash and an emoji (a surrogate pair in UTF-16).
const TEXT: &str = "zoë – 東京 🦀";

/// Weir serving the fixture as the only filter of a pipeline, its outbound calls
/// allowed under `allowed_prefix`.
fn start(allowed_prefix: &str) -> (Weir, String) {
    let port = free_port();
    let config = format!(
        "{}---\nkind: Pipeline\nname: pipeline\nfilters:\n  - name: probe\n    kind: Wasm\n    module: filter.wasm\n    allowedUrls: [\"{allowed_prefix}\"]\n",
        weir_tests::yaml::front(port, "pipeline")
    );
    let module = std::fs::read(assemblyscript::AS_HOST_IMPORTS).unwrap();
    let weir = Weir::start_with_files(&config, &[("filter.wasm", &module)], &[port]);
    (weir, format!("http://127.0.0.1:{port}/probe"))
}

/// A header the fixture answered with, as UTF-8 text (`to_str` refuses non-ASCII).
fn text(headers: &HeaderMap, name: &str) -> String {
    let value = headers.get(name).unwrap_or_else(|| panic!("no {name} in {headers:?}"));
    String::from_utf8(value.as_bytes().to_vec()).unwrap()
}

fn number(headers: &HeaderMap, name: &str) -> u64 {
    text(headers, name).parse().unwrap()
}

fn utf8_header(value: &str) -> HeaderValue {
    HeaderValue::from_bytes(value.as_bytes()).unwrap()
}

fn epoch_millis() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

/// The line of weir's log that holds `needle`.
fn log_line(weir: &Weir, needle: &str) -> String {
    assert!(weir.logged(needle), "{needle:?} not logged:\n{}", weir.stderr());
    weir.stderr().lines().find(|l| l.contains(needle)).unwrap().to_string()
}

#[tokio::test]
async fn log_lines_reach_weirs_log_with_their_level_and_non_ascii_text_intact() {
    let (weir, url) = start("http://127.0.0.1:1/");
    let response = client()
        .get(&url)
        .header("x-probe-log", utf8_header(TEXT))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    // In through a request header, out through a response header.
    assert_eq!(text(response.headers(), "x-probe-echo"), TEXT);
    assert_eq!(text(response.headers(), "x-probe-literal"), LITERAL);

    let warned = log_line(&weir, &format!("probe log: {TEXT}"));
    assert!(warned.contains("WARN"), "{warned}");
    let informed = log_line(&weir, &format!("probe literal: {LITERAL}"));
    assert!(informed.contains("INFO"), "{informed}");
    // Tagged with where it came from.
    assert!(
        informed.contains(r#"pipeline="pipeline""#) && informed.contains(r#"filter="probe""#),
        "{informed}"
    );
}

#[tokio::test]
async fn the_clocks_tell_real_time_and_sleep_waits() {
    let (_weir, url) = start("http://127.0.0.1:1/");
    let client = client();
    let sleep = Duration::from_millis(150);

    let before = epoch_millis();
    let started = Instant::now();
    // Longer than the filter's default timeout (100ms): waiting does not count.
    let first = client
        .get(&url)
        .header("x-probe-sleep-ms", sleep.as_millis().to_string())
        .send()
        .await
        .unwrap();
    let elapsed = started.elapsed();
    let after = epoch_millis();
    assert_eq!(first.status(), StatusCode::OK);
    let first = first.headers();
    let now = number(first, "x-now-millis");
    assert!(before <= now && now <= after, "{before} <= {now} <= {after}");
    let (start_nanos, end_nanos) = (number(first, "x-monotonic-before"), number(first, "x-monotonic-after"));
    assert!(
        end_nanos - start_nanos >= sleep.as_nanos() as u64,
        "slept {}ns, asked {sleep:?}",
        end_nanos - start_nanos
    );
    assert!(elapsed >= sleep, "answered after {elapsed:?}");

    let second = client.get(&url).send().await.unwrap();
    let second = second.headers();
    assert!(number(second, "x-monotonic-before") > end_nanos);
    assert!(number(second, "x-monotonic-after") >= number(second, "x-monotonic-before"));
    assert!(number(second, "x-now-millis") >= now);
}

#[tokio::test]
async fn random_values_differ_and_random_bytes_have_the_asked_length() {
    let (_weir, url) = start("http://127.0.0.1:1/");
    let client = client();
    let mut seen = Vec::new();
    for _ in 0..2 {
        let response = client
            .get(&url)
            .header("x-probe-random-bytes", "32")
            .send()
            .await
            .unwrap();
        let headers = response.headers();
        let (a, b) = (text(headers, "x-random-u64-1"), text(headers, "x-random-u64-2"));
        a.parse::<u64>().unwrap();
        assert_ne!(a, b);
        let (x, y) = (text(headers, "x-random-bytes-1"), text(headers, "x-random-bytes-2"));
        assert_eq!((x.len(), y.len()), (64, 64), "32 bytes as hex: {x} {y}");
        assert_ne!(x, y);
        seen.extend([a, b, x, y]);
    }
    let distinct: std::collections::HashSet<_> = seen.iter().collect();
    assert_eq!(distinct.len(), seen.len(), "a value repeated across requests: {seen:?}");

    let none = client
        .get(&url)
        .header("x-probe-random-bytes", "0")
        .send()
        .await
        .unwrap();
    assert_eq!(text(none.headers(), "x-random-bytes-1"), "");
}

#[tokio::test]
async fn an_allowed_call_reaches_the_backend_and_round_trips_status_headers_and_body() {
    let backend = Backend::start("called").await;
    let (_weir, url) = start(&format!("{}/allowed/", backend.url()));

    let response = client()
        .get(&url)
        .header("x-probe-call", format!("{}/allowed/echo?q=1", backend.url()))
        .header("x-probe-call-status", "203")
        .send()
        .await
        .unwrap();

    // What the backend received: method, target, headers and body as the filter built them.
    assert_eq!(backend.hits(), 1);
    let seen = backend.requests().pop().unwrap();
    assert_eq!((seen.method.as_str(), seen.uri.as_str()), ("PUT", "/allowed/echo?q=1"));
    assert_eq!(seen.header("x-from-filter"), Some(LITERAL));
    assert_eq!(seen.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(seen.body, format!("ping from the filter: {LITERAL}"));

    // What the filter received back, passed on as its own answer.
    assert_eq!(response.status().as_u16(), 203);
    assert_eq!(text(response.headers(), "x-call-x-backend"), "called");
    assert_eq!(text(response.headers(), "x-call-content-type"), "application/json");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["backend"], "called");
    assert_eq!(body["method"], "PUT");
    assert_eq!(body["body"], format!("ping from the filter: {LITERAL}"));
}

#[tokio::test]
async fn a_call_outside_allowed_urls_is_refused_without_a_connection() {
    let backend = Backend::start("never").await;
    let (_weir, url) = start(&format!("{}/allowed/", backend.url()));
    let client = client();

    // The prefix is compared as written: `/allowed-not/` is not under `/allowed/`.
    for target in ["/denied", "/allowed-not/x"] {
        let response = client
            .get(&url)
            .header("x-probe-call", format!("{}{target}", backend.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
        assert_eq!(text(response.headers(), "x-call-failed"), "true");
        let error = response.text().await.unwrap();
        assert!(error.contains("is not in this filter's allowedUrls"), "{error}");
        assert!(error.contains(target), "{error}");
    }
    assert_eq!(backend.hits(), 0);
    assert_eq!(backend.connections(), 0, "a refused call opens no connection");
}
