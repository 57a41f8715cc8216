//! Compiles the built-in filters (`../builtin-filters`, their own workspace) to
//! wasm32-wasip2 components and copies them into OUT_DIR for `include_bytes!`.
//!
//! They build with a nested `cargo` into `target/builtin-filters`, a target directory
//! of their own: sharing the outer build's would deadlock on its lock.

use std::path::{Path, PathBuf};
use std::process::Command;

const FILTERS: &[&str] = &[
    "weir_validator",
    "weir_mock",
    "weir_request_adaptor",
    "weir_response_adaptor",
    "weir_request_builder",
    "weir_response_builder",
    "weir_result_builder",
    "weir_rate_limiter",
    "weir_cors_adaptor",
    "weir_redirector",
    "weir_fallback",
    "weir_ip_filter",
    "weir_header_to_json",
    "weir_circuit_breaker",
    "weir_retry",
    "weir_time_limiter",
    "weir_data_builder",
];

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest_dir.parent().unwrap();
    let filters_dir = root.join("builtin-filters");
    for watched in ["builtin-filters", "sdk-rust/src", "sdk-rust/Cargo.toml", "abi/wit"] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    let target_dir = root.join("target").join("builtin-filters");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = Command::new(cargo);
    build
        .current_dir(&filters_dir)
        .args(["build", "--release", "--target", "wasm32-wasip2", "--target-dir"])
        .arg(&target_dir);
    // The outer build's flags and target are for the host; none of them fits wasm.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "RUSTC_WORKSPACE_WRAPPER",
    ] {
        build.env_remove(var);
    }
    let status = build
        .status()
        .expect("running cargo to build the built-in filters (is the wasm32-wasip2 target installed?)");
    assert!(
        status.success(),
        "building the built-in filters failed; `rustup target add wasm32-wasip2` if the target is missing"
    );
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("builtin-filters");
    std::fs::create_dir_all(&out_dir).unwrap();
    for name in FILTERS {
        let built = target_dir.join("wasm32-wasip2/release").join(format!("{name}.wasm"));
        copy(&built, &out_dir.join(format!("{name}.wasm")));
    }
}

fn copy(from: &Path, to: &Path) {
    std::fs::copy(from, to).unwrap_or_else(|e| panic!("copying {}: {e}", from.display()));
}
