//! Custom filters (`kind: Wasm`) end to end: the example filter, failure isolation,
//! deadlines, memory caps, failure policies, bad modules and init errors, isolated
//! instances, and shared state under concurrency.

use reqwest::StatusCode;
use std::time::{Duration, Instant};
use weir_tests::net::{client, free_port};
use weir_tests::weir::run_expecting_failure;
use weir_tests::{Backend, Weir};

mod guests {
    include!(concat!(env!("OUT_DIR"), "/guests.rs"));
}

/// A server in front of a pipeline running `filter` (YAML of one filter named `f`)
/// and then a Proxy to `backend`.
fn config(port: u16, filter: &str, backend: &Backend) -> String {
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
  - filter: f
  - filter: proxy
filters:
{filter}
  - name: proxy
    kind: Proxy
    pools:
      - servers:
          - url: {}
"#,
        backend.url()
    )
}

/// A Weir running the `faulty` guest as filter `f` with one more `setting` (a YAML
/// line such as `timeout: 200ms`), in front of a fresh backend. The backend is
/// returned to live as long as the test; the port is the server's.
async fn faulty_weir(setting: &str) -> (Backend, u16, Weir) {
    let backend = Backend::start("b").await;
    let port = free_port();
    let filter = format!(
        "  - name: f\n    kind: Wasm\n    module: {}\n    {setting}\n",
        guests::FAULTY
    );
    let weir = Weir::start(&config(port, &filter, &backend), &[port]);
    (backend, port, weir)
}

fn read(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[tokio::test]
async fn the_example_api_key_filter_rejects_tags_and_counts() {
    let backend = Backend::start("b").await;
    let port = free_port();
    let filter = r#"
  - name: f
    kind: Wasm
    module: api_key_filter.wasm
    config:
      keys:
        k-alice: alice
"#;
    let module = read(guests::API_KEY_FILTER);
    let _weir = Weir::start_with_files(
        &config(port, filter, &backend),
        &[("api_key_filter.wasm", &module)],
        &[port],
    );
    let client = client();
    let url = format!("http://127.0.0.1:{port}/");

    let missing = client.get(&url).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(missing.headers()["www-authenticate"], "ApiKey");
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

/// A filter that traps on `/trap` fails exactly those requests (500 naming it), while
/// requests through the same pipeline at the same time all succeed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_trap_fails_only_its_own_requests() {
    let backend = Backend::start("b").await;
    let port = free_port();
    let filter = format!("  - name: faulty\n    kind: Wasm\n    module: {}\n", guests::FAULTY);
    let yaml = config(port, &filter, &backend).replace("- filter: f\n", "- filter: faulty\n");
    let weir = Weir::start(&yaml, &[port]);
    let client = client();

    let mut tasks = Vec::new();
    for i in 0..60 {
        let client = client.clone();
        let path = if i % 3 == 0 { "/trap" } else { "/fine" };
        tasks.push(tokio::spawn(async move {
            let response = client
                .get(format!("http://127.0.0.1:{port}{path}"))
                .send()
                .await
                .unwrap();
            let status = response.status();
            (path, status, response.text().await.unwrap())
        }));
    }
    let mut trapped = 0;
    for task in tasks {
        let (path, status, body) = task.await.unwrap();
        if path == "/trap" {
            trapped += 1;
            assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
            assert_eq!(body, "filter \"faulty\" failed\n");
        } else {
            assert_eq!(status, StatusCode::OK, "{path}: {body}");
        }
    }
    assert_eq!(trapped, 20);
    assert_eq!(backend.hits(), 40);
    assert!(backend.requests().iter().all(|r| r.header("x-faulty") == Some("fine")));
    assert!(weir.logged("trapped"), "{}", weir.stderr());
}

/// A filter that promised never to wait (ABI 1.3.0) runs its calls as plain calls.
/// What finishes at once still works (a header edit, a line to stderr); a call that
/// sleeps anyway fails by the failure policy, with the broken promise named in the log,
/// and the filter goes on serving. An endless loop is still cut at the deadline.
/// Without the promise the same filter may sleep.
#[tokio::test]
async fn a_call_that_breaks_the_promise_never_to_wait_fails_alone() {
    let (backend, port, weir) = faulty_weir("timeout: 200ms\n    config: {neverWaits: true}").await;
    let client = client();
    let get = |path: &str| client.get(format!("http://127.0.0.1:{port}{path}")).send();

    assert_eq!(get("/fine").await.unwrap().status(), StatusCode::OK);
    assert_eq!(backend.requests().pop().unwrap().header("x-faulty"), Some("fine"));
    assert_eq!(get("/eprint").await.unwrap().status(), StatusCode::OK);
    assert_eq!(backend.requests().pop().unwrap().header("x-faulty"), Some("printed"));

    let broken = get("/sleep").await.unwrap();
    assert_eq!(broken.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        broken.text().await.unwrap().contains("\"f\""),
        "the 500 names the filter"
    );
    assert!(
        weir.logged("promised never to wait (runtime.never-waits) but it slept 5 ms"),
        "{}",
        weir.stderr()
    );
    assert_eq!(backend.hits(), 2, "the broken call went no further");
    assert_eq!(get("/fine").await.unwrap().status(), StatusCode::OK);
    assert_eq!(get("/spin").await.unwrap().status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(weir.logged("ran past its timeout of 200ms"), "{}", weir.stderr());
    assert_eq!(get("/fine").await.unwrap().status(), StatusCode::OK);

    let (backend, port, _weir) = faulty_weir("").await;
    let slept = client
        .get(format!("http://127.0.0.1:{port}/sleep"))
        .send()
        .await
        .unwrap();
    assert_eq!(slept.status(), StatusCode::OK);
    assert_eq!(backend.requests().pop().unwrap().header("x-faulty"), Some("slept"));
}

/// An infinite loop is cut at the filter's deadline; other requests keep flowing
/// meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_infinite_loop_is_cut_at_the_deadline() {
    let (_backend, port, weir) = faulty_weir("timeout: 200ms").await;
    let client = client();

    let spinning = {
        let client = client.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let response = client
                .get(format!("http://127.0.0.1:{port}/spin"))
                .send()
                .await
                .unwrap();
            (response.status(), started.elapsed())
        })
    };
    for _ in 0..5 {
        let ok = client
            .get(format!("http://127.0.0.1:{port}/fine"))
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), StatusCode::OK);
    }
    let (status, took) = spinning.await.unwrap();
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(took >= Duration::from_millis(200), "cut too early: {took:?}");
    assert!(took < Duration::from_secs(5), "cut far too late: {took:?}");
    assert!(weir.logged("ran past its timeout of 200ms"), "{}", weir.stderr());
}

#[tokio::test]
async fn a_memory_hungry_filter_hits_its_cap() {
    let (_backend, port, weir) = faulty_weir("maxMemory: 8MiB").await;
    let client = client();

    let hog = client.get(format!("http://127.0.0.1:{port}/hog")).send().await.unwrap();
    assert_eq!(hog.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(weir.logged("memory cap of 8388608 bytes reached"), "{}", weir.stderr());
    // The instance that hit the cap was discarded; a fresh one serves the next request.
    let fine = client
        .get(format!("http://127.0.0.1:{port}/fine"))
        .send()
        .await
        .unwrap();
    assert_eq!(fine.status(), StatusCode::OK);
}

/// `failurePolicy: open` goes on past a failing filter; the default (closed) answers
/// 500.
#[tokio::test]
async fn fail_open_continues_and_fail_closed_answers_500() {
    let backend = Backend::start("b").await;
    let open_port = free_port();
    let open = format!(
        "  - name: f\n    kind: Wasm\n    module: {}\n    failurePolicy: open\n",
        guests::FAULTY
    );
    let _open = Weir::start(&config(open_port, &open, &backend), &[open_port]);
    let closed_port = free_port();
    let closed = format!(
        "  - name: f\n    kind: Wasm\n    module: {}\n    failurePolicy: closed\n",
        guests::FAULTY
    );
    let _closed = Weir::start(&config(closed_port, &closed, &backend), &[closed_port]);
    let client = client();

    let through = client
        .get(format!("http://127.0.0.1:{open_port}/trap"))
        .send()
        .await
        .unwrap();
    assert_eq!(through.status(), StatusCode::OK);
    assert_eq!(through.headers()["x-backend"], "b");
    assert_eq!(backend.hits(), 1);

    let stopped = client
        .get(format!("http://127.0.0.1:{closed_port}/trap"))
        .send()
        .await
        .unwrap();
    assert_eq!(stopped.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(stopped.text().await.unwrap(), "filter \"f\" failed\n");
    assert_eq!(backend.hits(), 1);
}

#[test]
fn a_bad_module_is_rejected_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.wasm");
    std::fs::write(&bad, b"this is not wasm").unwrap();
    let pipeline = |module: &str| {
        format!("kind: Pipeline\nname: pipeline\nfilters:\n  - name: custom\n    kind: Wasm\n    module: {module}\n")
    };

    let (status, stderr) = run_expecting_failure(&pipeline(&bad.display().to_string()));
    assert!(!status.success());
    assert!(stderr.contains("custom"), "{stderr}");
    assert!(stderr.contains("not a valid WebAssembly component"), "{stderr}");

    let (status, stderr) = run_expecting_failure(&pipeline("/nowhere/missing.wasm"));
    assert!(!status.success());
    assert!(stderr.contains("custom"), "{stderr}");
    assert!(stderr.contains("cannot read /nowhere/missing.wasm"), "{stderr}");
}

#[test]
fn a_failing_init_is_rejected_with_its_message() {
    let (status, stderr) = run_expecting_failure(&format!(
        "kind: Pipeline\nname: pipeline\nfilters:\n  - name: picky\n    kind: Wasm\n    module: {}\n    config: {{ mode: strict }}\n",
        guests::FAIL_INIT
    ));
    assert!(!status.success());
    assert!(stderr.contains("picky"), "{stderr}");
    assert!(
        stderr.contains(r#"init failed: refusing config {"mode":"strict"}: `required` is missing"#),
        "{stderr}"
    );
}

/// Shared state is exact when many requests on several threads count at once, with a
/// pool of instances and with a fresh instance per request.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn shared_state_counts_are_exact_under_concurrency() {
    for isolation in ["pool", "instance"] {
        let backend = Backend::start("b").await;
        let port = free_port();
        let filter = format!(
            "  - name: f\n    kind: Wasm\n    module: {}\n    isolation: {isolation}\n",
            guests::COUNTER
        );
        let _weir = Weir::start(&config(port, &filter, &backend), &[port]);
        let client = client();
        let requests = 200;
        let mut tasks = Vec::new();
        for _ in 0..requests {
            let client = client.clone();
            tasks.push(tokio::spawn(async move {
                client
                    .get(format!("http://127.0.0.1:{port}/"))
                    .send()
                    .await
                    .unwrap()
                    .status()
            }));
        }
        for task in tasks {
            assert_eq!(task.await.unwrap(), StatusCode::OK);
        }
        let mut numbers: Vec<u64> = backend
            .requests()
            .iter()
            .map(|r| r.header("x-count").unwrap().parse().unwrap())
            .collect();
        numbers.sort_unstable();
        let expected: Vec<u64> = (1..=requests).collect();
        assert_eq!(numbers, expected, "{isolation}: every request got its own number");
        let highest = backend
            .requests()
            .iter()
            .map(|r| r.header("x-highest").unwrap().parse::<u64>().unwrap())
            .max();
        assert_eq!(
            highest,
            Some(requests),
            "{isolation}: compare-and-swap kept the maximum"
        );
    }
}

/// Two custom filters in a row, each with a fresh instance per request (and the
/// module found relative to the config file): every request passes both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn isolated_filters_in_a_row_serve_every_request() {
    let backend = Backend::start("b").await;
    let port = free_port();
    let filters = "  - name: f\n    kind: Wasm\n    module: noop.wasm\n    isolation: instance\n  - name: g\n    kind: Wasm\n    module: set_header.wasm\n    isolation: instance\n";
    let yaml = config(port, filters, &backend).replace("  - filter: f\n", "  - filter: f\n  - filter: g\n");
    let (noop, set_header) = (read(guests::NOOP), read(guests::SET_HEADER));
    let _weir = Weir::start_with_files(
        &yaml,
        &[("noop.wasm", &noop), ("set_header.wasm", &set_header)],
        &[port],
    );
    let client = client();
    for _ in 0..20 {
        let response = client.get(format!("http://127.0.0.1:{port}/")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    let requests = backend.requests();
    assert_eq!(requests.len(), 20);
    assert!(requests.iter().all(|r| r.header("x-guest") == Some("set")));
}

/// The ABI 1.2.0 shortcuts, through the real host: header values in order, method and
/// path, edits applied in order with a refused edit skipped and reported while the
/// others apply, and `none` for the response before the Proxy made one.
#[tokio::test]
async fn the_exchange_shortcuts_read_and_edit_this_steps_messages() {
    let backend = Backend::start("shortcut-backend").await;
    let port = free_port();
    let filter = format!("  - name: f\n    kind: Wasm\n    module: {}\n", guests::SHORTCUTS);
    let _weir = Weir::start(&config(port, &filter, &backend), &[port]);
    let response = client()
        .post(format!("http://127.0.0.1:{port}/orders/7?full=1"))
        .header("x-multi", "one")
        .header("x-multi", "two")
        .header("x-drop", "gone")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    // The response phase copied the backend's header and removed it.
    assert_eq!(response.headers()["x-echo"], "shortcut-backend");
    assert!(response.headers().get("x-backend").is_none());

    let seen = &backend.requests()[0];
    assert_eq!(seen.header("x-seen"), Some("one|two"));
    assert_eq!(seen.header("x-drop"), None);
    let routes = x_routes(seen);
    assert_eq!(routes, ["POST /orders/7", "again"]);
    assert_eq!(seen.header("x-refused"), Some("1: invalid header name \"bad name\""));
    assert_eq!(seen.header("x-response-before"), Some("none"));
    assert_eq!(seen.header("x-never"), None);

    // The pooled instance serves the next requests too: each gets its own values.
    for (multi, path) in [("three", "/a"), ("three", "/a"), ("four", "/b")] {
        let response = client()
            .get(format!("http://127.0.0.1:{port}{path}"))
            .header("x-multi", multi)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let requests = backend.requests();
        let seen = requests.last().unwrap();
        assert_eq!(seen.header("x-seen"), Some(multi));
        let routes = x_routes(seen);
        assert_eq!(routes, [format!("GET {path}").as_str(), "again"]);
        assert_eq!(seen.header("x-refused"), Some("1: invalid header name \"bad name\""));
    }
}

/// The values of the `x-route` lines a backend saw, in order.
fn x_routes(seen: &weir_tests::backend::Recorded) -> Vec<&str> {
    seen.headers
        .iter()
        .filter(|(name, _)| name == "x-route")
        .map(|(_, value)| value.as_str())
        .collect()
}

/// How many times a thread of `pid` named `name` has gone to sleep and woken up.
fn thread_wakeups(pid: u32, name: &str) -> u64 {
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        let task = task.unwrap().path();
        if std::fs::read_to_string(task.join("comm")).unwrap_or_default().trim() != name {
            continue;
        }
        let status = std::fs::read_to_string(task.join("status")).unwrap();
        let line = status
            .lines()
            .find(|l| l.starts_with("voluntary_ctxt_switches:"))
            .unwrap();
        return line.split_whitespace().nth(1).unwrap().parse().unwrap();
    }
    panic!("weir has no thread named {name}");
}

/// The epoch ticker rests while no WASM call runs (an idle proxy must not wake a
/// thousand times a second), and the next call wakes it: a guest that loops forever
/// after the rest is still cut at its deadline.
#[tokio::test]
async fn the_epoch_ticker_rests_while_idle_and_wakes_for_the_next_call() {
    let (_backend, port, weir) = faulty_weir("timeout: 200ms").await;
    let client = client();
    let fine = || async {
        client
            .get(format!("http://127.0.0.1:{port}/fine"))
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(fine().await, StatusCode::OK);

    let before = thread_wakeups(weir.pid(), "weir-wasm-epoch");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle = thread_wakeups(weir.pid(), "weir-wasm-epoch") - before;
    // Ticking through that second would be about a thousand wake-ups.
    assert!(idle < 50, "the epoch thread woke {idle} times in an idle second");

    let spun = client
        .get(format!("http://127.0.0.1:{port}/spin"))
        .send()
        .await
        .unwrap();
    assert_eq!(spun.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(weir.logged("ran past its timeout of 200ms"), "{}", weir.stderr());
    assert_eq!(fine().await, StatusCode::OK, "the next call runs normally");
}
