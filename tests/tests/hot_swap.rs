//! Changing Weir while traffic flows: not one request may fail because of a change.
//! Changes come through the watched file (written in place and by rename, as editors do)
//! and through `weir apply`; broken changes are refused while the old version serves.

use std::collections::HashSet;
use std::time::Duration;
use weir_tests::load::Load;
use weir_tests::net::{client, free_port, wait_until_async};
use weir_tests::{Backend, Weir};

fn config(port: u16, backend_url: &str) -> String {
    weir_tests::yaml::front_and_proxy(port, backend_url)
}

/// Writes `text` the way editors and ConfigMaps do: half the time in place, half the
/// time to a temporary file renamed over the original.
fn write_config(path: &std::path::Path, text: &str, by_rename: bool) {
    if by_rename {
        let temporary = path.with_extension("swp");
        std::fs::write(&temporary, text).unwrap();
        std::fs::rename(&temporary, path).unwrap();
    } else {
        std::fs::write(path, text).unwrap();
    }
}

async fn serves(port: u16, backend: &str) -> bool {
    let client = client();
    match client.get(format!("http://127.0.0.1:{port}/")).send().await {
        Ok(r) => r.headers().get("x-backend").is_some_and(|v| v == backend),
        Err(_) => false,
    }
}

/// After a change is live, 50 requests in a row all come from `backend`.
async fn only(port: u16, backend: &str) {
    for _ in 0..50 {
        assert!(
            serves(port, backend).await,
            "a request after the change did not reach {backend}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn twenty_file_edits_under_load_lose_nothing() {
    let (a, b) = (Backend::start("a").await, Backend::start("b").await);
    let port = free_port();
    let weir = Weir::start(&config(port, &a.url()), &[port]);
    let load = Load::start(&format!("http://127.0.0.1:{port}/"), 8);
    for swap in 0..20 {
        let (url, name) = if swap % 2 == 0 { (b.url(), "b") } else { (a.url(), "a") };
        write_config(&weir.config_path(), &config(port, &url), swap % 4 < 2);
        assert!(
            wait_until_async(Duration::from_secs(10), || serves(port, name)).await,
            "swap {swap} never went live"
        );
    }
    let tally = load.stop().await;
    assert!(
        tally.failures.is_empty(),
        "{} failed, e.g. {:?}",
        tally.failures.len(),
        &tally.failures[..1]
    );
    assert_eq!(
        tally.by_backend.keys().collect::<HashSet<_>>(),
        HashSet::from([&"a".to_string(), &"b".to_string()])
    );
    // Dozens of requests per swap, from 8 connections at once.
    assert!(tally.ok >= 400, "the load was too light to prove anything: {tally:?}");
    only(port, "a").await;
    println!(
        "file swaps: {} requests, {:.0}/s, none failed",
        tally.ok,
        tally.requests_per_second()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn twenty_applies_through_the_cli_under_load_lose_nothing() {
    let (a, b) = (Backend::start("a").await, Backend::start("b").await);
    let port = free_port();
    let weir = Weir::start(&config(port, &a.url()), &[port]);
    let load = Load::start(&format!("http://127.0.0.1:{port}/"), 8);
    for swap in 0..20 {
        let (url, name) = if swap % 2 == 0 { (b.url(), "b") } else { (a.url(), "a") };
        let pipeline = config(port, &url).split("---\n").nth(1).unwrap().to_string();
        let out = weir.cli(&["apply", "-f", "-"], Some(&pipeline));
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(serves(port, name).await, "apply {swap} returned before it was live");
    }
    let tally = load.stop().await;
    assert!(
        tally.failures.is_empty(),
        "{} failed, e.g. {:?}",
        tally.failures.len(),
        &tally.failures[..1]
    );
    assert!(tally.ok >= 400, "the load was too light to prove anything: {tally:?}");
    only(port, "a").await;
    println!(
        "CLI applies: {} requests, {:.0}/s, none failed",
        tally.ok,
        tally.requests_per_second()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn broken_changes_under_load_are_refused_and_reported() {
    let (a, b) = (Backend::start("a").await, Backend::start("b").await);
    let port = free_port();
    let weir = Weir::start(&config(port, &a.url()), &[port]);
    let client = client();
    let load = Load::start(&format!("http://127.0.0.1:{port}/"), 8);
    let last_reload = || async {
        let status: serde_json::Value = client
            .get(weir.admin_url("/apis/v2/status/reloads"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        status["last"].clone()
    };

    write_config(&weir.config_path(), "kind: Pipeline\nname: main\nfilters: [\n", true);
    assert!(wait_until_async(Duration::from_secs(10), || async { last_reload().await["ok"] == false }).await);
    let error = last_reload().await["error"].as_str().unwrap().to_string();
    assert!(
        error.contains("weir.yaml:"),
        "the error names the file and line: {error}"
    );

    let bad_filter = config(port, &b.url()).replace("kind: Proxy", "kind: Proxyy");
    write_config(&weir.config_path(), &bad_filter, false);
    assert!(
        wait_until_async(Duration::from_secs(10), || async {
            last_reload().await["error"]
                .as_str()
                .is_some_and(|e| e.contains("Proxyy"))
        })
        .await
    );
    only(port, "a").await;

    write_config(&weir.config_path(), &config(port, &b.url()), true);
    assert!(
        wait_until_async(Duration::from_secs(10), || serves(port, "b")).await,
        "a good change after bad ones applies"
    );
    let tally = load.stop().await;
    assert!(
        tally.failures.is_empty(),
        "{} failed, e.g. {:?}",
        tally.failures.len(),
        &tally.failures[..1]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_in_flight_finish_on_the_old_pipeline() {
    let (a, b) = (Backend::start("a").await, Backend::start("b").await);
    let port = free_port();
    let weir = Weir::start(&config(port, &a.url()), &[port]);
    let client = client();
    let slow: Vec<_> = (0..4)
        .map(|_| {
            let request = client
                .get(format!("http://127.0.0.1:{port}/"))
                .header("x-backend-delay-ms", "1500");
            tokio::spawn(async move {
                let response = request.send().await.unwrap();
                (
                    response.status().as_u16(),
                    response.headers()["x-backend"].to_str().unwrap().to_string(),
                )
            })
        })
        .collect();
    assert!(wait_until_async(Duration::from_secs(5), || async { a.received() == 4 }).await);
    write_config(&weir.config_path(), &config(port, &b.url()), true);
    assert!(wait_until_async(Duration::from_secs(10), || serves(port, "b")).await);
    assert!(
        slow.iter().all(|r| !r.is_finished()),
        "the slow requests were still in flight when b took over"
    );
    for request in slow {
        assert_eq!(request.await.unwrap(), (200, "a".to_string()));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_moves_to_a_new_port_without_dropping_the_other() {
    let a = Backend::start("a").await;
    let (port, other_port, new_port) = (free_port(), free_port(), free_port());
    let two_servers = |first: u16| {
        format!(
            "{}---\nkind: HTTPServer\nname: other\nport: {other_port}\naddress: 127.0.0.1\nrules:\n  - paths:\n      - backend: main\n",
            config(first, &a.url())
        )
    };
    let weir = Weir::start(&two_servers(port), &[port, other_port]);
    let load = Load::start(&format!("http://127.0.0.1:{other_port}/"), 4);
    write_config(&weir.config_path(), &two_servers(new_port), true);
    let moved = wait_until_async(Duration::from_secs(10), || serves(new_port, "a")).await;
    assert!(moved, "the new port never served:\n{}", weir.stderr());
    assert!(
        wait_until_async(Duration::from_secs(10), || async {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_err()
        })
        .await,
        "the old port still accepts"
    );
    let tally = load.stop().await;
    assert!(
        tally.failures.is_empty(),
        "the other server lost requests: {:?}",
        &tally.failures[..1]
    );
    assert!(tally.ok > 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_changed_certificate_is_served_to_new_connections() {
    use weir_tests::certs::{yaml_block, TestCa};
    let a = Backend::start("a").await;
    let ca = TestCa::new("reload CA");
    let port = free_port();
    let tls_config = |pair: &weir_tests::certs::Issued| {
        format!(
            "kind: HTTPServer\nname: front\nport: {port}\naddress: 127.0.0.1\nhttps: true\ncerts:\n  site: |\n{}keys:\n  site: |\n{}rules:\n  - paths:\n      - backend: main\n---\n{}",
            yaml_block(&pair.cert_pem, 4),
            yaml_block(&pair.key_pem, 4),
            config(port, &a.url()).split("---\n").nth(1).unwrap()
        )
    };
    let (first, second) = (ca.issue(&["site.test"]), ca.issue(&["site.test"]));
    let weir = Weir::start(&tls_config(&first), &[port]);
    let client = || {
        reqwest::Client::builder()
            .no_proxy()
            .use_rustls_tls()
            .add_root_certificate(reqwest::Certificate::from_pem(ca.cert_pem.as_bytes()).unwrap())
            .resolve("site.test", ([127, 0, 0, 1], port).into())
            .tls_info(true)
            .build()
            .unwrap()
    };
    let served_leaf = |response: &reqwest::Response| {
        response
            .extensions()
            .get::<reqwest::tls::TlsInfo>()
            .and_then(|i| i.peer_certificate().map(<[u8]>::to_vec))
    };
    let der = |pem: &str| {
        use rustls_pki_types::pem::PemObject;
        rustls_pki_types::CertificateDer::from_pem_slice(pem.as_bytes())
            .unwrap()
            .to_vec()
    };
    let before = client().get(format!("https://site.test:{port}/")).send().await.unwrap();
    assert_eq!(served_leaf(&before), Some(der(&first.cert_pem)));

    write_config(&weir.config_path(), &tls_config(&second), true);
    let renewed = wait_until_async(Duration::from_secs(10), || async {
        match client().get(format!("https://site.test:{port}/")).send().await {
            Ok(r) => served_leaf(&r) == Some(der(&second.cert_pem)),
            Err(_) => false,
        }
    })
    .await;
    assert!(
        renewed,
        "new connections never got the new certificate:\n{}",
        weir.stderr()
    );
}

/// Kubernetes mounts a ConfigMap as `weir.yaml -> ..data/weir.yaml` and updates it by
/// pointing `..data` at a new directory; the file weir watches never changes itself.
#[tokio::test(flavor = "multi_thread")]
async fn a_configmap_style_symlink_swap_reloads() {
    use std::os::unix::fs::symlink;
    let (a, b) = (Backend::start("a").await, Backend::start("b").await);
    let port = free_port();
    let weir = Weir::start(&config(port, &a.url()), &[port]);
    let dir = weir.dir.path();
    std::fs::create_dir(dir.join("..v1")).unwrap();
    std::fs::write(dir.join("..v1/weir.yaml"), config(port, &a.url())).unwrap();
    symlink("..v1", dir.join("..data")).unwrap();
    symlink("..data/weir.yaml", dir.join("weir.yaml.link")).unwrap();
    std::fs::rename(dir.join("weir.yaml.link"), weir.config_path()).unwrap();

    let load = Load::start(&format!("http://127.0.0.1:{port}/"), 4);
    std::fs::create_dir(dir.join("..v2")).unwrap();
    std::fs::write(dir.join("..v2/weir.yaml"), config(port, &b.url())).unwrap();
    symlink("..v2", dir.join("..data_tmp")).unwrap();
    std::fs::rename(dir.join("..data_tmp"), dir.join("..data")).unwrap();
    let swapped = wait_until_async(Duration::from_secs(10), || serves(port, "b")).await;
    assert!(swapped, "the symlink swap was not noticed:\n{}", weir.stderr());
    let tally = load.stop().await;
    assert!(tally.failures.is_empty(), "{:?}", &tally.failures[..1]);
}
