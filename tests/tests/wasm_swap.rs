//! Swapping a filter's module while traffic flows: weir watches the `.wasm` files its
//! filters were built from, and a new build written over one replaces the filter with
//! no failed request. A filter's shared state survives a rebuild of its pipeline.

use std::time::Duration;
use weir_tests::load::Load;
use weir_tests::net::{client, free_port, wait_until_async};
use weir_tests::{Backend, Weir};

#[allow(dead_code, reason = "the generated file names every guest; these tests use two")]
mod guests {
    include!(concat!(env!("OUT_DIR"), "/guests.rs"));
}

fn config(port: u16, backend: &Backend, filter_extra: &str) -> String {
    format!(
        "kind: HTTPServer\nname: front\nport: {port}\naddress: 127.0.0.1\nrules:\n  - paths:\n      - backend: main\n---\nkind: Pipeline\nname: main\nflow:\n  - filter: marker\n  - filter: proxy\nfilters:\n  - name: marker\n    kind: Wasm\n    module: marker.wasm\n{filter_extra}  - name: proxy\n    kind: Proxy\n    pools: [{{servers: [{{url: \"{}\"}}]}}]\n",
        backend.url()
    )
}

/// Which module handled a request, from what the backend saw: `set-header` adds
/// `x-guest`, `counter` adds `x-count`.
fn module_of(body: &str) -> &'static str {
    match (body.contains("x-guest: set"), body.contains("x-count: ")) {
        (true, false) => "set-header",
        (false, true) => "counter",
        (true, true) => "both",
        (false, false) => "neither",
    }
}

async fn served_by(port: u16) -> Option<&'static str> {
    let client = client();
    let response = client.get(format!("http://127.0.0.1:{port}/")).send().await.ok()?;
    Some(module_of(&response.text().await.ok()?))
}

fn write_module(path: &std::path::Path, module: &str) {
    // Written by rename, as a build tool or deploy step would, so weir never reads a
    // half-written file.
    let temporary = path.with_extension("partial");
    std::fs::copy(module, &temporary).unwrap();
    std::fs::rename(&temporary, path).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn twenty_module_swaps_under_load_lose_nothing() {
    let backend = Backend::start("b").await;
    let port = free_port();
    let set_header = std::fs::read(guests::SET_HEADER).unwrap();
    let weir = Weir::start_with_files(&config(port, &backend, ""), &[("marker.wasm", &set_header)], &[port]);
    let module_path = weir.dir.path().join("marker.wasm");

    // The load checks every answer is a 200 from the backend; the bodies are checked
    // below from what the backend recorded.
    let load = Load::start(&format!("http://127.0.0.1:{port}/"), 8);
    for swap in 0..20 {
        let (module, name) = if swap % 2 == 0 {
            (guests::COUNTER, "counter")
        } else {
            (guests::SET_HEADER, "set-header")
        };
        write_module(&module_path, module);
        let live = wait_until_async(Duration::from_secs(15), || async {
            served_by(port).await == Some(name)
        })
        .await;
        assert!(live, "swap {swap} to {name} never went live:\n{}", weir.stderr());
    }
    let tally = load.stop().await;
    assert!(
        tally.failures.is_empty(),
        "{} failed, e.g. {:?}",
        tally.failures.len(),
        &tally.failures[..1]
    );
    assert!(tally.ok >= 400, "the load was too light to prove anything: {tally:?}");

    let seen = backend.requests();
    let mixed = seen.iter().filter(|r| {
        let one = r.header("x-guest").is_some() ^ r.header("x-count").is_some();
        !one
    });
    assert_eq!(
        mixed.count(),
        0,
        "every request went through exactly one of the two modules"
    );
    for _ in 0..30 {
        assert_eq!(
            served_by(port).await,
            Some("set-header"),
            "after the last swap only the new module answers"
        );
    }
    println!(
        "module swaps: {} requests, {:.0}/s, none failed",
        tally.ok,
        tally.requests_per_second()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn shared_state_survives_a_rebuild_of_the_pipeline() {
    let backend = Backend::start("b").await;
    let port = free_port();
    let counter = std::fs::read(guests::COUNTER).unwrap();
    let weir = Weir::start_with_files(&config(port, &backend, ""), &[("marker.wasm", &counter)], &[port]);
    let client = client();
    for _ in 0..10 {
        client.get(format!("http://127.0.0.1:{port}/")).send().await.unwrap();
    }
    // Any edit of the filter's spec rebuilds it (and its pipeline); its name is unchanged.
    let edited = config(port, &backend, "    timeout: 250ms\n");
    std::fs::write(weir.config_path(), edited).unwrap();
    let reloaded = wait_until_async(Duration::from_secs(10), || async {
        let status: serde_json::Value = client
            .get(weir.admin_url("/apis/v2/status/reloads"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        status["last"]["changed"]
            .as_array()
            .is_some_and(|c| c.iter().any(|v| v == "built pipeline main"))
    })
    .await;
    assert!(reloaded, "the edit was not applied:\n{}", weir.stderr());
    client.get(format!("http://127.0.0.1:{port}/")).send().await.unwrap();
    let last = backend.requests().pop().unwrap();
    assert_eq!(
        last.header("x-count"),
        Some("11"),
        "the count went on from 10 across the swap"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broken_module_under_load_is_refused_and_reported() {
    let backend = Backend::start("b").await;
    let port = free_port();
    let set_header = std::fs::read(guests::SET_HEADER).unwrap();
    let weir = Weir::start_with_files(&config(port, &backend, ""), &[("marker.wasm", &set_header)], &[port]);
    let module_path = weir.dir.path().join("marker.wasm");
    let client = client();
    let load = Load::start(&format!("http://127.0.0.1:{port}/"), 8);

    let temporary = module_path.with_extension("partial");
    std::fs::write(&temporary, b"\0asm this is not a component").unwrap();
    std::fs::rename(&temporary, &module_path).unwrap();
    let reported = wait_until_async(Duration::from_secs(10), || async {
        let status: serde_json::Value = client
            .get(weir.admin_url("/apis/v2/status/reloads"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        status["last"]["ok"] == false
            && status["last"]["error"]
                .as_str()
                .is_some_and(|e| e.contains("marker.wasm"))
    })
    .await;
    assert!(reported, "the broken module was not reported:\n{}", weir.stderr());
    for _ in 0..20 {
        assert_eq!(
            served_by(port).await,
            Some("set-header"),
            "the old module keeps serving"
        );
    }
    let tally = load.stop().await;
    assert!(
        tally.failures.is_empty(),
        "{} failed, e.g. {:?}",
        tally.failures.len(),
        &tally.failures[..1]
    );
}
