//! Builds the AssemblyScript filters the end-to-end tests load: the examples in
//! `examples/assemblyscript-*` (with their own `npm run asbuild`) and the SDK's
//! fixtures (`npm run fixtures`), each turned into a component by `weir-componentize`.
//! npm installs the pinned `assemblyscript` from each project's package-lock.json.

use std::path::Path;
use std::process::Command;

/// (constant, npm project, npm script, core module it writes under the project).
const BUILDS: &[(&str, &str, &str, &str)] = &[
    (
        "AS_API_KEY",
        "examples/assemblyscript-api-key",
        "asbuild",
        "build/core.wasm",
    ),
    (
        "AS_JSON_REWRITE",
        "examples/assemblyscript-json-rewrite",
        "asbuild",
        "build/core.wasm",
    ),
    (
        "AS_SET_HEADER",
        "sdk-assemblyscript",
        "fixtures",
        "build/set-header.core.wasm",
    ),
    (
        "AS_SET_HEADER_SWAPPED",
        "sdk-assemblyscript",
        "fixtures",
        "build/set-header-swapped.core.wasm",
    ),
    (
        "AS_HOST_IMPORTS",
        "sdk-assemblyscript",
        "fixtures",
        "build/host-imports.core.wasm",
    ),
];

/// Builds every filter into `target/assemblyscript/` and returns the path constants.
pub fn build(root: &Path) -> String {
    for watched in [
        "sdk-assemblyscript/assembly",
        "sdk-assemblyscript/fixtures",
        "sdk-assemblyscript/package-lock.json",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    let out_dir = root.join("target/assemblyscript");
    std::fs::create_dir_all(&out_dir).unwrap();
    let mut installed = Vec::new();
    let mut ran = Vec::new();
    let mut constants = String::new();
    for (constant, project, script, core) in BUILDS {
        let dir = root.join(project);
        for watched in ["assembly", "package.json", "package-lock.json"] {
            println!("cargo:rerun-if-changed={}", dir.join(watched).display());
        }
        if !installed.contains(project) {
            npm(&dir, &["ci", "--no-audit", "--no-fund"]);
            installed.push(*project);
        }
        if !ran.contains(&(project, script)) {
            npm(&dir, &["run", script]);
            ran.push((project, script));
        }
        let core = std::fs::read(dir.join(core)).unwrap();
        let component = weir_componentize::componentize(&core, &weir_componentize::abi_dir(), weir_componentize::WORLD)
            .unwrap_or_else(|e| panic!("componentizing {project}/{core:?}: {e:#}"));
        let path = out_dir.join(format!("{}.wasm", constant.to_lowercase()));
        std::fs::write(&path, component).unwrap();
        constants.push_str(&format!(
            "pub const {constant}: &str = {:?};\n",
            path.display().to_string()
        ));
    }
    constants
}

fn npm(dir: &Path, args: &[&str]) {
    let status = Command::new("npm")
        .current_dir(dir)
        .args(args)
        .status()
        .expect("running npm (Node.js 18 or later must be installed)");
    assert!(status.success(), "`npm {}` in {} failed", args.join(" "), dir.display());
}
