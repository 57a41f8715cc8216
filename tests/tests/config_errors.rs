//! A bad configuration is refused before anything serves: the error names the file, the
//! line, the object and the field, and weir exits non-zero.

use std::net::TcpStream;
use weir_tests::net::free_port;
use weir_tests::weir::run_expecting_failure;

fn refused(config: &str) -> String {
    let (status, stderr) = run_expecting_failure(config);
    assert!(!status.success(), "weir accepted:\n{config}");
    assert!(stderr.contains("weir.yaml"), "error does not name the file: {stderr}");
    stderr
}

fn server(port: u16, backend: &str) -> String {
    format!("kind: HTTPServer\nname: front\nport: {port}\naddress: 127.0.0.1\nrules:\n  - paths:\n      - backend: {backend}\n")
}

#[test]
fn malformed_yaml_names_the_line() {
    let stderr = refused("kind: HTTPServer\nname: x\nport: 1\nrules: [\n  - oops\n");
    assert!(stderr.contains("weir.yaml:"), "{stderr}");
}

#[test]
fn unknown_field_names_object_field_and_line() {
    let stderr = refused("kind: HTTPServer\nname: front\nport: 8080\nkeepAlivee: true\n");
    assert!(stderr.contains("weir.yaml:4"), "{stderr}");
    assert!(stderr.contains(r#"HTTPServer "front""#), "{stderr}");
    assert!(stderr.contains("keepAlivee"), "{stderr}");
}

#[test]
fn bad_regexp_names_the_field_path() {
    let port = free_port();
    let stderr = refused(&format!(
        "kind: HTTPServer\nname: front\nport: {port}\nrules:\n  - paths:\n      - pathRegexp: \"([\"\n        backend: p\n"
    ));
    assert!(stderr.contains("rules[0].paths[0].pathRegexp"), "{stderr}");
}

#[test]
fn unknown_object_and_filter_kinds() {
    let stderr = refused("kind: HTTPServr\nname: x\nport: 1\n");
    assert!(
        stderr.contains("unknown object kind") && stderr.contains("HTTPServr"),
        "{stderr}"
    );

    let port = free_port();
    let config = server(port, "p") + "---\nkind: Pipeline\nname: p\nfilters:\n  - name: check\n    kind: Validatorr\n";
    let stderr = refused(&config);
    assert!(
        stderr.contains(r#"Pipeline "p""#) && stderr.contains("filters[0].kind"),
        "{stderr}"
    );
    assert!(stderr.contains("Validatorr"), "{stderr}");
    assert!(stderr.contains("weir.yaml:12"), "points at the filter's line: {stderr}");
}

const PROXY: &str = "    kind: Proxy\n    pools:\n      - servers: [{url: \"http://127.0.0.1:9\"}]\n";

#[test]
fn bad_jumps_are_refused() {
    let pipeline = |flow: &str| {
        format!("kind: Pipeline\nname: p\nflow:\n{flow}filters:\n  - name: a\n{PROXY}  - name: b\n{PROXY}")
    };
    let backward = refused(&pipeline(
        "  - filter: a\n  - filter: b\n    jumpIf: {serverError: a}\n",
    ));
    assert!(
        backward.contains("flow[1].jumpIf") && backward.contains("backwards"),
        "{backward}"
    );
    let unknown = refused(&pipeline(
        "  - filter: a\n    jumpIf: {serverError: nowhere}\n  - filter: b\n",
    ));
    assert!(unknown.contains("nowhere"), "{unknown}");
    let undeclared = refused(&pipeline(
        "  - filter: a\n    jumpIf: {notAResult: END}\n  - filter: b\n",
    ));
    assert!(
        undeclared.contains("notAResult") && undeclared.contains("serverError"),
        "lists the real results: {undeclared}"
    );
    let duplicate = refused(&pipeline("  - filter: a\n  - filter: b\n    alias: a\n"));
    assert!(duplicate.contains("used twice"), "{duplicate}");
    let missing = refused(&pipeline("  - filter: zzz\n"));
    assert!(missing.contains("zzz"), "{missing}");
    let end_name = refused(&format!("kind: Pipeline\nname: p\nfilters:\n  - name: END\n{PROXY}"));
    assert!(end_name.contains("END is reserved"), "{end_name}");
}

#[test]
fn proxy_errors_name_the_filter_and_field() {
    let config = "kind: Pipeline\nname: p\nfilters:\n  - name: proxy\n    kind: Proxy\n    pools:\n      - servers: [{url: \"ftp://x\"}]\n";
    let stderr = refused(config);
    assert!(stderr.contains("filters[0].pools[0].servers[0].url"), "{stderr}");
    assert!(stderr.contains("weir.yaml:4"), "{stderr}");
    let unknown_field = "kind: Pipeline\nname: p\nfilters:\n  - name: proxy\n    kind: Proxy\n    pools:\n      - servers: [{url: \"http://x\"}]\n        timeoutt: 1s\n";
    let stderr = refused(unknown_field);
    assert!(stderr.contains("timeoutt"), "{stderr}");
}

#[test]
fn nothing_serves_when_any_object_is_bad() {
    let port = free_port();
    let config =
        server(port, "p") + "---\nkind: Pipeline\nname: p\nfilters:\n  - name: proxy\n    kind: Proxy\n    pools: []\n";
    let stderr = refused(&config);
    assert!(stderr.contains("main pool"), "{stderr}");
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the valid server was started anyway"
    );
}

#[test]
fn a_port_in_use_refuses_the_whole_configuration() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let stderr = refused(&server(port, "p"));
    assert!(
        stderr.contains("cannot listen") && stderr.contains(&port.to_string()),
        "{stderr}"
    );
}

#[test]
fn duplicate_names_and_ports() {
    let port = free_port();
    let twice = format!("{}---\n{}", server(port, "p"), server(free_port(), "p"));
    assert!(refused(&twice).contains("already has this name"));
    let same_port = format!(
        "{}---\n{}",
        server(port, "p"),
        server(port, "p").replace("name: front", "name: back")
    );
    assert!(refused(&same_port).contains("also used by"));
}
