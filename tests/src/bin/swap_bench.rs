//! Hot-swap benchmark (not a test): how long from writing a new module over the one a
//! filter runs to the first request served by it, with the compilation cached and not;
//! and requests per second during a storm of swaps against steady state.
//!
//! Run with `make bench-swap` (release build). Prints a table.

use std::time::{Duration, Instant};
use weir_tests::load::Load;
use weir_tests::net::free_port;
use weir_tests::{Backend, Weir};

#[allow(dead_code, reason = "the generated file names every guest; this uses two")]
mod guests {
    include!(concat!(env!("OUT_DIR"), "/guests.rs"));
}

const SWAPS: usize = 20;

fn config(port: u16, backend: &Backend) -> String {
    format!(
        "kind: HTTPServer\nname: front\nport: {port}\naddress: 127.0.0.1\naccessLog: false\nrules:\n  - paths:\n      - backend: main\n---\nkind: Pipeline\nname: main\nfilters:\n  - name: marker\n    kind: Wasm\n    module: marker.wasm\n  - name: proxy\n    kind: Proxy\n    pools: [{{servers: [{{url: \"{}\"}}]}}]\n",
        backend.url()
    )
}

/// A copy of a component that hashes differently (a custom section appended), so weir
/// must compile it afresh.
fn unique(module: &[u8], n: usize) -> Vec<u8> {
    let name = format!("weir-bench-{n}-{}", std::process::id());
    let mut payload = vec![name.len() as u8];
    payload.extend_from_slice(name.as_bytes());
    let mut out = module.to_vec();
    out.push(0); // custom section id
    out.push(payload.len() as u8); // LEB128 size (< 128)
    out.extend_from_slice(&payload);
    out
}

async fn marker(client: &reqwest::Client, port: u16) -> &'static str {
    match client.get(format!("http://127.0.0.1:{port}/")).send().await {
        Ok(r) => {
            let body = r.text().await.unwrap_or_default();
            if body.contains("x-count: ") {
                "counter"
            } else if body.contains("x-guest: set") {
                "set-header"
            } else {
                "other"
            }
        }
        Err(_) => "error",
    }
}

/// Writes `bytes` over the module and returns the time until a request is served by it.
async fn swap_to(path: &std::path::Path, bytes: &[u8], expect: &str, client: &reqwest::Client, port: u16) -> Duration {
    let temporary = path.with_extension("partial");
    std::fs::write(&temporary, bytes).unwrap();
    let start = Instant::now();
    std::fs::rename(&temporary, path).unwrap();
    while marker(client, port).await != expect {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the swap to {expect} never went live"
        );
    }
    start.elapsed()
}

fn summary(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    format!(
        "median {:.1} ms, max {:.1} ms",
        ms(samples[samples.len() / 2]),
        ms(samples[samples.len() - 1])
    )
}

#[tokio::main]
async fn main() {
    let backend = Backend::start("bench").await;
    let port = free_port();
    let set_header = std::fs::read(guests::SET_HEADER).unwrap();
    let counter = std::fs::read(guests::COUNTER).unwrap();
    let weir = Weir::start_with_files(&config(port, &backend), &[("marker.wasm", &set_header)], &[port]);
    let path = weir.dir.path().join("marker.wasm");
    let client = reqwest::Client::builder().no_proxy().build().unwrap();

    // Both modules once, so their compilations are cached.
    swap_to(&path, &counter, "counter", &client, port).await;
    swap_to(&path, &set_header, "set-header", &client, port).await;
    let mut cached = Vec::new();
    for i in 0..SWAPS {
        let (bytes, name) = if i % 2 == 0 {
            (&counter, "counter")
        } else {
            (&set_header, "set-header")
        };
        cached.push(swap_to(&path, bytes, name, &client, port).await);
    }
    let mut compiled = Vec::new();
    for i in 0..SWAPS / 2 {
        let (bytes, name) = if i % 2 == 0 {
            (&counter, "counter")
        } else {
            (&set_header, "set-header")
        };
        compiled.push(swap_to(&path, &unique(bytes, i), name, &client, port).await);
    }

    let url = format!("http://127.0.0.1:{port}/");
    let steady = Load::start(&url, 16);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let steady = steady.stop().await;
    let storm = Load::start(&url, 16);
    let started = Instant::now();
    let mut swaps = 0;
    while started.elapsed() < Duration::from_secs(3) {
        let bytes = if swaps % 2 == 0 { &counter } else { &set_header };
        let temporary = path.with_extension("partial");
        std::fs::write(&temporary, bytes).unwrap();
        std::fs::rename(&temporary, &path).unwrap();
        swaps += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let storm = storm.stop().await;

    println!("| measure | result |");
    println!("|---|---|");
    println!(
        "| module change → first request on it, compilation cached ({SWAPS} swaps) | {} |",
        summary(cached)
    );
    println!(
        "| module change → first request on it, compiling ({} swaps) | {} |",
        SWAPS / 2,
        summary(compiled)
    );
    println!(
        "| steady load, 16 connections | {:.0} req/s, {} failed |",
        steady.requests_per_second(),
        steady.failures.len()
    );
    println!(
        "| swap storm ({swaps} swaps in 3 s), 16 connections | {:.0} req/s ({:.2}× steady), {} failed |",
        storm.requests_per_second(),
        storm.requests_per_second() / steady.requests_per_second(),
        storm.failures.len()
    );
}
