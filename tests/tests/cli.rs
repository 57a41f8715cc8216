//! The CLI against a running weir: apply, get, describe, delete and validate, and the
//! server's message with a non-zero exit when something is refused.

use weir_tests::net::free_port;
use weir_tests::weir::binary;
use weir_tests::{Backend, Weir};

fn config(port: u16, backend: &Backend) -> String {
    weir_tests::yaml::front_and_proxy(port, &backend.url())
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn get_describe_delete_and_refusals() {
    let backend = Backend::start("a").await;
    let port = free_port();
    let weir = Weir::start(&config(port, &backend), &[port]);

    let extra = "kind: Pipeline\nname: extra\nfilters:\n  - name: p\n    kind: Proxy\n    pools: [{servers: [{url: \"http://127.0.0.1:9\"}]}]\n";
    let applied = weir.cli(&["apply", "-f", "-"], Some(extra));
    assert!(applied.status.success(), "{}", text(&applied.stderr));

    let listed = weir.cli(&["get", "pipelines"], None);
    assert!(listed.status.success());
    let listed = text(&listed.stdout);
    assert!(
        listed.contains("name: main") && listed.contains("name: extra"),
        "{listed}"
    );
    assert!(!listed.contains("HTTPServer"), "only pipelines: {listed}");

    let one = weir.cli(&["get", "pipeline", "extra", "-o", "json"], None);
    let one: serde_json::Value = serde_json::from_slice(&one.stdout).unwrap();
    assert_eq!(one["name"], "extra");

    let described = weir.cli(&["describe", "httpserver", "front"], None);
    assert!(described.status.success(), "{}", text(&described.stderr));
    let described = text(&described.stdout);
    assert!(
        described.contains("spec:") && described.contains("status:") && described.contains("port:"),
        "{described}"
    );

    let wrong_kind = weir.cli(&["delete", "httpserver", "extra"], None);
    assert_eq!(wrong_kind.status.code(), Some(2));
    assert!(
        text(&wrong_kind.stderr).contains("not a HTTPServer"),
        "{}",
        text(&wrong_kind.stderr)
    );
    let deleted = weir.cli(&["delete", "pipeline", "extra"], None);
    assert!(deleted.status.success(), "{}", text(&deleted.stderr));
    let gone = weir.cli(&["get", "pipeline", "extra"], None);
    assert_eq!(gone.status.code(), Some(2));
    assert!(
        text(&gone.stderr).contains("no object is named \"extra\""),
        "{}",
        text(&gone.stderr)
    );

    let invalid = weir.cli(
        &["apply", "-f", "-"],
        Some("kind: Pipeline\nname: bad\nfilters: [{name: x, kind: Nope}]\n"),
    );
    assert_eq!(invalid.status.code(), Some(2));
    assert!(
        text(&invalid.stderr).contains("unknown filter kind \"Nope\""),
        "the server's message: {}",
        text(&invalid.stderr)
    );
}

#[test]
fn validate_checks_a_file_offline() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.yaml");
    std::fs::write(&good, "kind: Pipeline\nname: p\nfilters:\n  - name: v\n    kind: Validator\n    headers:\n      X-Key: {values: [a]}\n").unwrap();
    let out = std::process::Command::new(binary())
        .args(["validate", "-f"])
        .arg(&good)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("1 objects, all valid"));

    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "kind: Pipeline\nname: p\nflow: [{filter: v, jumpIf: {nope: END}}]\nfilters:\n  - name: v\n    kind: Validator\n    headers:\n      X-Key: {values: [a]}\n").unwrap();
    let out = std::process::Command::new(binary())
        .args(["validate", "-f"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("bad.yaml:") && stderr.contains("flow[0].jumpIf") && stderr.contains("invalid"),
        "{stderr}"
    );
}
