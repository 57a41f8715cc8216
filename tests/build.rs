//! Builds the guest filters the end-to-end tests load (`tests/guests`, and the custom
//! filter in `examples/`) as wasm32-wasip2 components, and writes their paths into
//! `$OUT_DIR/guests.rs` as constants; the AssemblyScript filters go to
//! `$OUT_DIR/assemblyscript.rs` (`build_assemblyscript.rs`).
//!
//! Each workspace builds with a nested `cargo` into a target directory of its own
//! under `target/`: sharing the outer build's would deadlock on its lock.

use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "build_assemblyscript.rs"]
mod assemblyscript;

/// A cargo workspace of guests, the target directory it builds into (under
/// `target/`), and its components as (constant, artifact name).
struct Workspace {
    path: &'static str,
    target: &'static str,
    components: &'static [(&'static str, &'static str)],
}

const WORKSPACES: &[Workspace] = &[
    Workspace {
        path: "tests/guests",
        target: "guests",
        components: &[
            ("NOOP", "guest_noop"),
            ("SET_HEADER", "guest_set_header"),
            ("FAULTY", "guest_faulty"),
            ("FAIL_INIT", "guest_fail_init"),
            ("COUNTER", "guest_counter"),
            ("SHORTCUTS", "guest_shortcuts"),
        ],
    },
    Workspace {
        path: "examples",
        target: "examples-wasm",
        components: &[("API_KEY_FILTER", "api_key_filter")],
    },
];

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest_dir.parent().unwrap();
    for watched in [
        "tests/guests",
        // Not all of `examples/`: npm writes node_modules and builds inside the
        // AssemblyScript examples, which would rerun this script on every build.
        "examples/Cargo.toml",
        "examples/Cargo.lock",
        "examples/api-key-filter",
        "sdk-rust/src",
        "sdk-rust/Cargo.toml",
        "abi/wit",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    let mut constants = String::new();
    for workspace in WORKSPACES {
        let target_dir = root.join("target").join(workspace.target);
        build(&root.join(workspace.path), &target_dir);
        for (constant, artifact) in workspace.components {
            let path = target_dir
                .join("wasm32-wasip2/release")
                .join(format!("{artifact}.wasm"));
            assert!(path.exists(), "{} was not built", path.display());
            writeln!(
                constants,
                "pub const {constant}: &str = {:?};",
                path.display().to_string()
            )
            .unwrap();
        }
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    std::fs::write(out.join("guests.rs"), constants).unwrap();
    std::fs::write(out.join("assemblyscript.rs"), assemblyscript::build(root)).unwrap();
}

fn build(workspace: &Path, target_dir: &Path) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace)
        .args(["build", "--release", "--target", "wasm32-wasip2", "--target-dir"])
        .arg(target_dir);
    // The outer build's flags and target are for the host; none of them fits wasm.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "RUSTC_WORKSPACE_WRAPPER",
    ] {
        command.env_remove(var);
    }
    let status = command.status().expect("running cargo to build guest filters");
    assert!(
        status.success(),
        "building {} for wasm32-wasip2 failed (`rustup target add wasm32-wasip2` if the target is missing)",
        workspace.display()
    );
}
