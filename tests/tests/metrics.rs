//! The access log end to end: the configured format, its variables filled from a real
//! exchange, the switch that turns it off, and a bad format refused at start-up.

use std::time::Duration;
use weir_tests::net::{free_port, wait_until};
use weir_tests::weir::run_expecting_failure;
use weir_tests::{Backend, Weir};

fn config(logged: u16, silent: u16, backend: &str) -> String {
    format!(
        r#"
kind: HTTPServer
name: logged
port: {logged}
address: 127.0.0.1
accessLogFormat: "access {{{{Method}}}} {{{{URI}}}} {{{{Proto}}}} {{{{StatusCode}}}} rx={{{{ReqSize}}}} tx={{{{RespSize}}}} ip={{{{RealIP}}}} tags=[{{{{Tags}}}}] h={{{{RespHeaders}}}}"
rules:
  - paths:
      - pathPrefix: /known
        backend: echo
---
kind: HTTPServer
name: silent
port: {silent}
address: 127.0.0.1
accessLog: false
rules:
  - paths:
      - backend: echo
---
kind: Pipeline
name: echo
flow:
  - filter: proxy
filters:
  - name: proxy
    kind: Proxy
    pools:
      - servers:
          - url: {backend}
"#
    )
}

/// The access-log lines logged so far.
fn access_lines(weir: &Weir) -> Vec<String> {
    weir.stderr()
        .lines()
        .filter(|line| line.contains("weir::access"))
        .map(String::from)
        .collect()
}

#[tokio::test]
async fn each_request_is_logged_in_the_configured_format() {
    let backend = Backend::start("b").await;
    let (logged, silent) = (free_port(), free_port());
    let weir = Weir::start(&config(logged, silent, &backend.url()), &[logged, silent]);
    let client = reqwest::Client::new();

    let silent_response = client
        .get(format!("http://127.0.0.1:{silent}/quiet-path"))
        .send()
        .await
        .unwrap();
    assert_eq!(silent_response.status(), 200);
    silent_response.bytes().await.unwrap();

    let response = client
        .post(format!("http://127.0.0.1:{logged}/known/path?q=1"))
        .header("x-forwarded-for", "203.0.113.9, 10.0.0.1")
        .header("x-backend-body-size", "1000")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.bytes().await.unwrap().len(), 1000);
    let refused = client
        .get(format!("http://127.0.0.1:{logged}/unknown"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 404);
    refused.bytes().await.unwrap();

    let logged_both = wait_until(Duration::from_secs(5), || access_lines(&weir).len() >= 2);
    let lines = access_lines(&weir);
    assert!(logged_both, "expected two access lines:\n{}", weir.stderr());
    assert_eq!(lines.len(), 2, "the silent server logged too:\n{}", lines.join("\n"));
    // Each line is written when its response body is done, so their order is not the
    // order the client saw the responses end in.
    let line = |needle: &str| lines.iter().find(|l| l.contains(needle)).cloned().unwrap_or_default();
    let (posted, unknown) = (line("POST"), line("/unknown"));
    assert!(
        posted
            .contains("access POST /known/path?q=1 HTTP/1.1 200 rx=5 tx=1000 ip=203.0.113.9 tags=[pipeline: echo] h={"),
        "{posted}"
    );
    assert!(posted.contains(r#""content-length":"1000""#), "{posted}");
    assert!(
        unknown.contains("access GET /unknown HTTP/1.1 404 rx=0 tx=0 ip=127.0.0.1 tags=[] h={"),
        "{unknown}"
    );
    assert!(!weir.stderr().contains("quiet-path"));
}

#[test]
fn a_bad_format_is_refused_naming_the_field() {
    let config = format!(
        "kind: HTTPServer\nname: front\nport: {}\naddress: 127.0.0.1\naccessLogFormat: \"{{{{Time}}}} {{{{Path}}}}\"\n",
        free_port()
    );
    let (status, stderr) = run_expecting_failure(&config);
    assert!(!status.success());
    assert!(stderr.contains("accessLogFormat"), "{stderr}");
    assert!(stderr.contains("unknown variable {{Path}}"), "{stderr}");
}
