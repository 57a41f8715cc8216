//! The cost of one WASM filter call: a no-op filter and a filter that sets one header,
//! with a pool of instances and with a fresh instance per call; and each built-in filter
//! of the bench's scenario (e), configured as there (a header check, a rate limiter far
//! above the rate reached, a request header set, a response header set).
//!
//! `cargo bench -p weir --bench filter_call`. The guests come from `tests/guests`,
//! built here first (outside the measurement).

use criterion::{criterion_group, criterion_main, Criterion};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use weir::config::FilterSpec;
use weir::http::{Body, Request};
use weir::pipeline::{BuildContext, Context, Filter, FilterKinds, NamespaceId};

/// The allocator the `weir` binary runs with, so that allocation costs here are the
/// ones requests pay.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Builds the guest filters and returns the directory holding the components.
fn guests() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
    let target = root.join("target/guests");
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(root.join("tests/guests"))
        .args(["build", "--release", "--target", "wasm32-wasip2", "--target-dir"])
        .arg(&target)
        .status()
        .expect("running cargo for the guest filters");
    assert!(status.success(), "building the guest filters failed");
    target.join("wasm32-wasip2/release")
}

/// A filter from its YAML spec, of any kind; `dir` is where a `module` is looked up.
fn build(yaml: &str, dir: &Path) -> Arc<dyn Filter> {
    let spec: FilterSpec = serde_yaml::from_str(yaml).unwrap();
    let kinds = FilterKinds::builtin();
    let kind = kinds.get(&spec.kind).unwrap();
    kind.build(&spec, &BuildContext::new("bench", dir.to_path_buf()))
        .unwrap()
        .filter
}

/// The filters of scenario (e), as `bench/lib/peers.py` configures them (its API key,
/// request header and response header).
const CHAIN: [(&str, &str); 4] = [
    (
        "validator",
        "{name: v, kind: Validator, headers: {X-Api-Key: {values: [k-bench]}}}",
    ),
    (
        "rate_limiter",
        "{name: l, kind: RateLimiter, defaultPolicyRef: generous, policies: [{name: generous, \
         limitForPeriod: 100000000, limitRefreshPeriod: 1s, timeoutDuration: 0s}]}",
    ),
    (
        "request_adaptor",
        "{name: q, kind: RequestAdaptor, header: {set: {X-Source: bench}}}",
    ),
    (
        "response_adaptor",
        "{name: r, kind: ResponseAdaptor, header: {set: {X-Adapted: 'yes'}}}",
    ),
];

fn request() -> Request {
    let mut request = http::Request::new(Body::Empty);
    *request.uri_mut() = "/bench?x=1".parse().unwrap();
    for i in 0..10 {
        request.headers_mut().insert(
            format!("x-header-{i}").parse::<http::HeaderName>().unwrap(),
            "value".parse().unwrap(),
        );
    }
    request.headers_mut().insert("x-api-key", "k-bench".parse().unwrap());
    request
}

fn response() -> weir::http::Response {
    let mut response = http::Response::new(Body::Empty);
    response
        .headers_mut()
        .insert("content-type", "text/plain".parse().unwrap());
    response.headers_mut().insert("content-length", "128".parse().unwrap());
    response
}

fn filter_call(c: &mut Criterion) {
    let dir = guests();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let addr: SocketAddr = "127.0.0.1:40000".parse().unwrap();
    let mut group = c.benchmark_group("filter_call");
    for (name, module) in [("noop", "guest_noop.wasm"), ("set_header", "guest_set_header.wasm")] {
        for isolation in ["pool", "instance"] {
            let yaml = format!("{{name: bench, kind: Wasm, module: {module}, isolation: {isolation}}}");
            let filter = build(&yaml, &dir);
            let mut ctx = Context::new(request(), addr, Arc::from([]));
            group.bench_function(format!("{name}/{isolation}"), |b| {
                b.iter(|| runtime.block_on(filter.on_request(&mut ctx, NamespaceId::DEFAULT)))
            });
        }
    }
    for (name, yaml) in CHAIN {
        let filter = build(yaml, &dir);
        let mut ctx = Context::new(request(), addr, Arc::from([]));
        // The ResponseAdaptor acts on the response only; the others on the request.
        let on_response = filter.has_response_phase();
        if on_response {
            ctx.set_response(NamespaceId::DEFAULT, response());
        }
        group.bench_function(format!("builtin/{name}"), |b| {
            b.iter(|| {
                runtime.block_on(if on_response {
                    filter.on_response(&mut ctx, NamespaceId::DEFAULT)
                } else {
                    filter.on_request(&mut ctx, NamespaceId::DEFAULT)
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, filter_call);
criterion_main!(benches);
