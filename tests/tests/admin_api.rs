//! The admin API contract: status codes, YAML and JSON, write-back to the configuration
//! file, token enforcement beyond loopback, and Prometheus metrics that move.

use reqwest::StatusCode;
use std::process::{Command, Stdio};
use std::time::Duration;
use weir_tests::net::{client, free_port, wait_until};
use weir_tests::weir::{binary, run_expecting_failure_with};
use weir_tests::{Backend, Weir};

fn config(port: u16, backend: &Backend) -> String {
    format!(
        "kind: HTTPServer\nname: front\nport: {port}\naddress: 127.0.0.1\nrules:\n  - paths:\n      - pathPrefix: /extra\n        backend: extra\n      - backend: main\n---\n# the main pipeline\nkind: Pipeline\nname: main\nfilters:\n  - name: proxy\n    kind: Proxy\n    pools: [{{servers: [{{url: \"{}\"}}]}}]\n",
        backend.url()
    )
}

fn pipeline(name: &str, backend: &Backend) -> String {
    weir_tests::yaml::proxy_pipeline(name, &backend.url())
}

#[tokio::test(flavor = "multi_thread")]
async fn objects_api_status_codes_and_formats() {
    let (a, b) = (Backend::start("a").await, Backend::start("b").await);
    let port = free_port();
    let weir = Weir::start(&config(port, &a), &[port]);
    let c = client();
    let objects = weir.admin_url("/apis/v2/objects");
    let one = |name: &str| weir.admin_url(&format!("/apis/v2/objects/{name}"));

    // Create: 201, then 409 for the same name, 400 for invalid objects.
    assert_eq!(
        c.get(format!("http://127.0.0.1:{port}/extra"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    let created = c.post(&objects).body(pipeline("extra", &b)).send().await.unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let served = c.get(format!("http://127.0.0.1:{port}/extra")).send().await.unwrap();
    assert_eq!(served.headers()["x-backend"], "b", "the new pipeline serves at once");
    assert_eq!(
        c.post(&objects)
            .body(pipeline("extra", &b))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::CONFLICT
    );
    let invalid = c
        .post(&objects)
        .body("kind: Pipeline\nname: bad\nfilters: [{name: x, kind: Nope}]\n")
        .send()
        .await
        .unwrap();
    assert_eq!(invalid.status(), StatusCode::BAD_REQUEST);
    assert!(invalid.text().await.unwrap().contains("unknown filter kind \"Nope\""));
    let json = serde_json::json!({"kind": "Pipeline", "name": "from-json", "filters": [{"name": "p", "kind": "Proxy", "pools": [{"servers": [{"url": a.url()}]}]}]});
    assert_eq!(
        c.post(&objects).json(&json).send().await.unwrap().status(),
        StatusCode::CREATED
    );

    // Read: JSON by default, YAML on request, 404 when missing.
    let listed: Vec<serde_json::Value> = c.get(&objects).send().await.unwrap().json().await.unwrap();
    let names: Vec<&str> = listed.iter().map(|o| o["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["front", "main", "extra", "from-json"]);
    let yaml = c
        .get(one("extra"))
        .header("accept", "application/yaml")
        .send()
        .await
        .unwrap();
    assert_eq!(yaml.headers()["content-type"], "application/yaml");
    assert!(yaml.text().await.unwrap().contains("name: extra"));
    assert_eq!(
        c.get(one("nothing")).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );

    // Update: 200, 404 missing, 400 for a name mismatch, another kind, or an invalid spec.
    assert_eq!(
        c.put(one("extra"))
            .body(pipeline("extra", &a))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let served = c.get(format!("http://127.0.0.1:{port}/extra")).send().await.unwrap();
    assert_eq!(served.headers()["x-backend"], "a");
    assert_eq!(
        c.put(one("nothing"))
            .body(pipeline("nothing", &a))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        c.put(one("extra"))
            .body(pipeline("other", &a))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::BAD_REQUEST
    );
    let as_server = "kind: HTTPServer\nname: extra\nport: 1\n";
    assert_eq!(
        c.put(one("extra")).body(as_server).send().await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    let broken = "kind: Pipeline\nname: extra\nflow: [{filter: missing}]\nfilters: []\n";
    assert_eq!(
        c.put(one("extra")).body(broken).send().await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    let still = c.get(format!("http://127.0.0.1:{port}/extra")).send().await.unwrap();
    assert_eq!(still.headers()["x-backend"], "a", "a refused update changes nothing");

    // Delete: 200, then 404; the route answers 503 again.
    assert_eq!(c.delete(one("extra")).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(
        c.delete(one("extra")).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        c.get(format!("http://127.0.0.1:{port}/extra"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::SERVICE_UNAVAILABLE
    );

    let health = c.get(weir.admin_url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn api_changes_are_written_back_and_survive_a_restart() {
    let (a, b) = (Backend::start("a").await, Backend::start("b").await);
    let port = free_port();
    let weir = Weir::start(&config(port, &a), &[port]);
    let c = client();
    let created = c
        .post(weir.admin_url("/apis/v2/objects"))
        .body(pipeline("extra", &b))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let text = std::fs::read_to_string(weir.config_path()).unwrap();
    assert!(text.contains("name: extra"), "{text}");
    assert!(
        text.contains("# the main pipeline"),
        "untouched documents keep their comments:\n{text}"
    );

    let weir = weir.restart(&[port]);
    let served = c.get(format!("http://127.0.0.1:{port}/extra")).send().await.unwrap();
    assert_eq!(served.headers()["x-backend"], "b");
    drop(weir);
}

#[tokio::test(flavor = "multi_thread")]
async fn mutations_beyond_loopback_need_the_token() {
    let a = Backend::start("a").await;
    let port = free_port();
    // Without a token, a non-loopback admin address is refused at start-up.
    let (status, stderr) = run_expecting_failure_with(&config(port, &a), &["--admin", "0.0.0.0:0"]);
    assert!(!status.success());
    assert!(stderr.contains("--admin-token"), "{stderr}");

    let admin_port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("weir.yaml");
    std::fs::write(&config_path, config(port, &a)).unwrap();
    let mut child = Command::new(binary())
        .args(["run", "--config"])
        .arg(&config_path)
        .args(["--admin", &format!("0.0.0.0:{admin_port}")])
        .env("WEIR_ADMIN_TOKEN", "correct-horse")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(wait_until(Duration::from_secs(20), || std::net::TcpStream::connect((
        "127.0.0.1",
        admin_port
    ))
    .is_ok()));
    let c = client();
    let objects = format!("http://127.0.0.1:{admin_port}/apis/v2/objects");
    let body = pipeline("extra", &a);
    assert_eq!(
        c.post(&objects).body(body.clone()).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let wrong = c
        .post(&objects)
        .bearer_auth("correct-horsf")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        c.get(&objects).send().await.unwrap().status(),
        StatusCode::OK,
        "reading needs no token"
    );
    let right = c
        .post(&objects)
        .bearer_auth("correct-horse")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), StatusCode::CREATED);
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_parse_as_prometheus_text_and_move_with_traffic() {
    let a = Backend::start("a").await;
    let port = free_port();
    let weir = Weir::start(&config(port, &a), &[port]);
    let c = client();
    let count = |text: &str| -> f64 {
        text.lines()
            .filter(|l| l.starts_with("weir_http_requests_total{") && l.contains("server=\"front\""))
            .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
            .sum()
    };
    let before = c
        .get(weir.admin_url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for _ in 0..25 {
        assert_eq!(
            c.get(format!("http://127.0.0.1:{port}/"))
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::OK
        );
    }
    let after = c
        .get(weir.admin_url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in after.lines().filter(|l| !l.is_empty()) {
        assert!(is_exposition_line(line), "not Prometheus text: {line:?}");
    }
    assert_eq!(count(&after) - count(&before), 25.0, "{after}");
}

/// One line of the Prometheus text format: a `# HELP`/`# TYPE` comment, or
/// `name{label="value",...} number`.
fn is_exposition_line(line: &str) -> bool {
    if let Some(comment) = line.strip_prefix("# ") {
        return comment.starts_with("HELP ") || comment.starts_with("TYPE ");
    }
    let (series, value) = match line.rsplit_once(' ') {
        Some(parts) => parts,
        None => return false,
    };
    let value_ok = value.parse::<f64>().is_ok() || ["+Inf", "-Inf", "NaN"].contains(&value);
    let name_end = series.find('{').unwrap_or(series.len());
    let name = &series[..name_end];
    let name_ok = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    let labels_ok = name_end == series.len() || (series.ends_with('}') && series[name_end..].contains('='));
    value_ok && name_ok && labels_ok
}
