//! Filter components are compiled by a child `weir compile-component`, not in the
//! proxy's own process: its answers for good and bad modules, and a running proxy that
//! uses it and leaves no files behind.

use std::io::Write;
use std::process::{Command, Stdio};
use weir_tests::net::{client, free_port};
use weir_tests::yaml::front_and_pipeline;
use weir_tests::{Backend, Weir};

#[allow(dead_code, reason = "this file uses only the example filter")]
mod guests {
    include!(concat!(env!("OUT_DIR"), "/guests.rs"));
}

/// Runs `weir compile-component OUTPUT` with `module` on stdin.
fn compile(module: &[u8], output: &std::path::Path) -> std::process::Output {
    let mut child = Command::new(weir_tests::weir::binary())
        .arg("compile-component")
        .arg(output)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start weir compile-component");
    child.stdin.take().unwrap().write_all(module).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn the_compiler_process_writes_machine_code_or_says_why_not() {
    let dir = tempfile::tempdir().unwrap();

    let good = dir.path().join("good.cwasm");
    let output = compile(&std::fs::read(guests::API_KEY_FILTER).unwrap(), &good);
    assert!(output.status.success(), "{output:?}");
    let written = std::fs::read(&good).unwrap();
    // wasmtime's compiled artifacts are ELF files.
    assert_eq!(&written[..4], b"\x7fELF", "not a compiled artifact");

    let bad = dir.path().join("bad.cwasm");
    let output = compile(b"\0asm this is not a component", &bad);
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    let reason = String::from_utf8_lossy(&output.stderr);
    assert!(!reason.trim().is_empty(), "a rejected module needs a reason");
    assert!(!bad.exists(), "nothing is written for a module that does not compile");
}

/// Starts weir with the example filter in front of a Proxy to a fresh backend, with
/// `TMPDIR` set to a fresh directory, and checks the filter answers 200 and 401. Returns
/// that weir, whether it logged a compile in a child process, and what is left in
/// `TMPDIR`.
async fn serve_through_the_example_filter(extra_env: &[(&str, &str)]) -> (Weir, bool, usize) {
    let backend = Backend::start("b").await;
    let port = free_port();
    let tmp = tempfile::tempdir().unwrap();
    let config = front_and_pipeline(
        port,
        &format!(
            "flow:\n  - filter: key\n  - filter: proxy\nfilters:\n  - name: key\n    kind: Wasm\n    module: {}\n    config: {{keys: {{k1: alice}}}}\n  - name: proxy\n    kind: Proxy\n    pools: [{{servers: [{{url: \"{}\"}}]}}]\n",
            guests::API_KEY_FILTER,
            backend.url()
        ),
    );
    let mut env = vec![
        ("TMPDIR", tmp.path().to_str().unwrap()),
        ("WEIR_LOG", "info,weir::wasm=debug"),
    ];
    env.extend_from_slice(extra_env);
    let weir = Weir::start_with_env(&config, &env, &[port]);

    let client = client();
    let url = format!("http://127.0.0.1:{port}/x");
    let allowed = client.get(&url).header("x-api-key", "k1").send().await.unwrap();
    assert_eq!(allowed.status(), 200);
    let refused = client.get(&url).send().await.unwrap();
    assert_eq!(refused.status(), 401);

    let in_child = weir.logged("component compiled in a child process");
    let left = std::fs::read_dir(tmp.path()).unwrap().count();
    (weir, in_child, left)
}

#[tokio::test]
async fn a_running_proxy_compiles_in_a_child_and_leaves_no_files_behind() {
    let (weir, in_child, left) = serve_through_the_example_filter(&[]).await;
    assert!(in_child, "{}", weir.stderr());
    assert_eq!(left, 0, "temporary files left behind");
}

#[tokio::test]
async fn weir_compile_in_process_keeps_the_compiler_in_the_proxy() {
    let (weir, in_child, _) = serve_through_the_example_filter(&[("WEIR_COMPILE_IN_PROCESS", "1")]).await;
    assert!(!in_child, "{}", weir.stderr());
}

/// `WEIR_PERF_MAP` names the filter's compiled functions for perf: the code is compiled
/// in-process (perf reads the map only for anonymous memory) and each function is a
/// line of `/tmp/perf-PID.map`: start, length and name.
#[tokio::test]
async fn weir_perf_map_names_filter_functions_for_perf() {
    let (weir, in_child, _) = serve_through_the_example_filter(&[("WEIR_PERF_MAP", "1")]).await;
    assert!(!in_child, "{}", weir.stderr());
    let map_path = format!("/tmp/perf-{}.map", weir.pid());
    let map = std::fs::read_to_string(&map_path).unwrap_or_else(|e| panic!("{map_path}: {e}\n{}", weir.stderr()));
    // The map is perf's to read after the process ends; this test's is removed now.
    let _ = std::fs::remove_file(&map_path);
    let lines: Vec<Vec<&str>> = map.lines().map(|line| line.splitn(3, ' ').collect()).collect();
    assert!(
        lines.iter().all(|fields| fields.len() == 3
            && u64::from_str_radix(fields[0].trim_start_matches("0x"), 16).is_ok()
            && u64::from_str_radix(fields[1], 16).is_ok_and(|length| length > 0)),
        "not perf map lines: {map}"
    );
    // The example filter is stripped, so its functions go by number: perf can still
    // tell the filter's code apart (a build that keeps its name section gets names).
    assert!(
        lines.iter().any(|fields| fields[2].starts_with("wasm[0]::function[")),
        "the example filter's functions are not in the map: {map}"
    );
}
