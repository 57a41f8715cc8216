//! The per-call cost of the AssemblyScript `set-header` filter against its Rust twin
//! (tests/guests/set-header), measured in one run with a pool of instances and with a
//! fresh instance per call; the component sizes are printed first.
//!
//! `cargo bench -p weir-componentize --bench filter_call`. Both filters are built here
//! first, outside the measurement (cargo for the Rust guest, npm + asc for the other).

use criterion::{criterion_group, criterion_main, Criterion};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use weir::config::FilterSpec;
use weir::http::{Body, Request};
use weir::pipeline::{BuildContext, Context, Filter, FilterKinds, NamespaceId};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn run(command: &mut Command) {
    let status = command.status().expect("running a build tool");
    assert!(status.success(), "{command:?} failed");
}

/// Builds both filters into one directory and returns it.
fn build() -> PathBuf {
    let root = root();
    let out = root.join("target/bench-assemblyscript");
    std::fs::create_dir_all(&out).unwrap();
    let guests = root.join("target/guests");
    run(Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(root.join("tests/guests"))
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "-p",
            "guest-set-header",
            "--target-dir",
        ])
        .arg(&guests));
    std::fs::copy(
        guests.join("wasm32-wasip2/release/guest_set_header.wasm"),
        out.join("rust.wasm"),
    )
    .unwrap();
    let sdk = root.join("sdk-assemblyscript");
    run(Command::new("npm")
        .current_dir(&sdk)
        .args(["ci", "--no-audit", "--no-fund"]));
    run(Command::new("npm").current_dir(&sdk).args(["run", "fixtures"]));
    let core = std::fs::read(sdk.join("build/set-header.core.wasm")).unwrap();
    let component =
        weir_componentize::componentize(&core, &weir_componentize::abi_dir(), weir_componentize::WORLD).unwrap();
    std::fs::write(out.join("assemblyscript.wasm"), component).unwrap();
    for name in ["rust.wasm", "assemblyscript.wasm"] {
        eprintln!(
            "component size {name}: {} bytes",
            std::fs::metadata(out.join(name)).unwrap().len()
        );
    }
    out
}

fn filter(dir: &Path, module: &str, isolation: &str) -> std::sync::Arc<dyn Filter> {
    let yaml = format!("{{name: bench, kind: Wasm, module: {module}, isolation: {isolation}}}");
    let spec = FilterSpec {
        name: "bench".into(),
        kind: "Wasm".into(),
        spec: serde_yaml::from_str(&yaml).unwrap(),
        line: None,
    };
    let context = BuildContext::new("bench", dir.to_path_buf());
    FilterKinds::builtin()
        .get("Wasm")
        .unwrap()
        .build(&spec, &context)
        .unwrap()
        .filter
}

/// The request of host/benches/filter_call.rs: a path, a query and ten headers.
fn request() -> Request {
    let mut request = http::Request::new(Body::Empty);
    *request.uri_mut() = "/bench?x=1".parse().unwrap();
    for i in 0..10 {
        request.headers_mut().insert(
            format!("x-header-{i}").parse::<http::HeaderName>().unwrap(),
            "value".parse().unwrap(),
        );
    }
    request
}

fn filter_call(c: &mut Criterion) {
    let dir = build();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let addr: SocketAddr = "127.0.0.1:40000".parse().unwrap();
    let mut group = c.benchmark_group("set_header");
    for isolation in ["pool", "instance"] {
        for (name, module) in [("rust", "rust.wasm"), ("assemblyscript", "assemblyscript.wasm")] {
            let filter = filter(&dir, module, isolation);
            let mut ctx = Context::new(request(), addr, Arc::from([]));
            group.bench_function(format!("{name}/{isolation}"), |b| {
                b.iter(|| runtime.block_on(filter.on_request(&mut ctx, NamespaceId::DEFAULT)))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, filter_call);
criterion_main!(benches);
