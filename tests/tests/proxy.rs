//! The Proxy filter end to end: balancing, candidate and mirror pools, health checks,
//! failure results and statuses, upstream reuse, headers, and body limits.

use reqwest::StatusCode;
use std::collections::HashMap;
use std::time::Duration;
use weir_tests::net::{client, free_port, wait_until_async};
use weir_tests::{Backend, Weir};

fn server(port: u16) -> String {
    format!(
        r#"
kind: HTTPServer
name: front
port: {port}
address: 127.0.0.1
rules:
  - paths:
      - backend: pipeline
"#
    )
}

async fn backend_of(client: &reqwest::Client, port: u16, headers: &[(&str, &str)]) -> (StatusCode, String) {
    let mut request = client.get(format!("http://127.0.0.1:{port}/"));
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let name = response
        .headers()
        .get("x-backend")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, name)
}

async fn backends(names: &[&str]) -> Vec<Backend> {
    let mut all = Vec::new();
    for n in names {
        all.push(Backend::start(n).await);
    }
    all
}

fn servers_yaml(backends: &[Backend], weights: &[u32]) -> String {
    backends
        .iter()
        .enumerate()
        .map(|(i, b)| match weights.get(i) {
            Some(w) => format!("          - url: {}\n            weight: {w}\n", b.url()),
            None => format!("          - url: {}\n", b.url()),
        })
        .collect()
}

fn proxy_pipeline(pool_extra: &str, servers: &str) -> String {
    format!(
        r#"
---
kind: Pipeline
name: pipeline
filters:
  - name: proxy
    kind: Proxy
    pools:
      - servers:
{servers}{pool_extra}
"#
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn round_robin_visits_servers_in_exact_order() {
    let b = backends(&["a", "b", "c"]).await;
    let port = free_port();
    let _weir = Weir::start(&(server(port) + &proxy_pipeline("", &servers_yaml(&b, &[]))), &[port]);
    let c = client();
    let mut order = Vec::new();
    for _ in 0..7 {
        order.push(backend_of(&c, port, &[]).await.1);
    }
    assert_eq!(order, ["a", "b", "c", "a", "b", "c", "a"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn weighted_random_follows_weights() {
    let b = backends(&["heavy", "light"]).await;
    let port = free_port();
    let extra = "        loadBalance:\n          policy: weightedRandom\n";
    let _weir = Weir::start(
        &(server(port) + &proxy_pipeline(extra, &servers_yaml(&b, &[80, 20]))),
        &[port],
    );
    let c = client();
    let mut counts: HashMap<String, u32> = HashMap::new();
    let total = 2000;
    for _ in 0..total {
        *counts.entry(backend_of(&c, port, &[]).await.1).or_default() += 1;
    }
    let heavy = counts["heavy"] as f64 / total as f64;
    // 80% expected; 4 standard deviations of a binomial(2000, 0.8) is about 3.6%.
    assert!((0.76..=0.84).contains(&heavy), "heavy share {heavy}: {counts:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn header_hash_is_sticky_and_spreads_keys() {
    let b = backends(&["a", "b", "c"]).await;
    let port = free_port();
    let extra = "        loadBalance:\n          policy: headerHash\n          headerHashKey: X-User\n";
    let _weir = Weir::start(
        &(server(port) + &proxy_pipeline(extra, &servers_yaml(&b, &[]))),
        &[port],
    );
    let c = client();
    let mut seen = std::collections::HashSet::new();
    for user in 0..30 {
        let user = format!("user-{user}");
        let first = backend_of(&c, port, &[("x-user", &user)]).await.1;
        for _ in 0..5 {
            assert_eq!(
                backend_of(&c, port, &[("x-user", &user)]).await.1,
                first,
                "{user} moved"
            );
        }
        seen.insert(first);
    }
    assert!(seen.len() >= 2, "30 keys all hashed to {seen:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn ip_hash_keeps_one_client_on_one_server_and_random_spreads() {
    let b = backends(&["a", "b", "c"]).await;
    let (p1, p2) = (free_port(), free_port());
    let ip_hash = "        loadBalance:\n          policy: ipHash\n";
    let _w1 = Weir::start(&(server(p1) + &proxy_pipeline(ip_hash, &servers_yaml(&b, &[]))), &[p1]);
    let random = "        loadBalance:\n          policy: random\n";
    let _w2 = Weir::start(&(server(p2) + &proxy_pipeline(random, &servers_yaml(&b, &[]))), &[p2]);
    let c = client();
    let first = backend_of(&c, p1, &[]).await.1;
    for _ in 0..20 {
        assert_eq!(backend_of(&c, p1, &[]).await.1, first);
    }
    let mut seen = std::collections::HashSet::new();
    for _ in 0..60 {
        seen.insert(backend_of(&c, p2, &[]).await.1);
    }
    assert_eq!(seen.len(), 3, "random over 60 requests reached {seen:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn candidate_pool_takes_matching_requests_and_mirror_gets_copies() {
    let b = backends(&["main", "canary", "mirror"]).await;
    let port = free_port();
    let config = format!(
        r#"{server}
---
kind: Pipeline
name: pipeline
filters:
  - name: proxy
    kind: Proxy
    pools:
      - servers: [{{url: {main}}}]
      - servers: [{{url: {canary}}}]
        filter:
          headers:
            X-Canary: {{exact: "yes"}}
    mirrorPool:
      servers: [{{url: {mirror}}}]
      setUpstreamHost: true
      filter:
        urls:
          - methods: [POST]
            url: {{prefix: /orders}}
"#,
        server = server(port),
        main = b[0].url(),
        canary = b[1].url(),
        mirror = b[2].url()
    );
    let _weir = Weir::start(&config, &[port]);
    let c = client();
    assert_eq!(backend_of(&c, port, &[]).await.1, "main");
    assert_eq!(backend_of(&c, port, &[("x-canary", "yes")]).await.1, "canary");
    assert_eq!(backend_of(&c, port, &[("x-canary", "no")]).await.1, "main");

    for i in 0..3 {
        let response = c
            .post(format!("http://127.0.0.1:{port}/orders/{i}"))
            .body(format!("order {i}"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.headers()["x-backend"],
            "main",
            "the client gets the main pool's answer"
        );
    }
    let mirrored = wait_until_async(Duration::from_secs(5), || async { b[2].hits() == 3 }).await;
    assert!(mirrored, "mirror saw {} requests", b[2].hits());
    let bodies: Vec<String> = b[2].requests().iter().map(|r| r.body.clone()).collect();
    assert!(bodies.contains(&"order 1".to_string()), "{bodies:?}");
    // setUpstreamHost: the mirror hears its own name, not the client's.
    let mirror_host = b[2].url().trim_start_matches("http://").to_string();
    for request in b[2].requests() {
        assert_eq!(request.header("host"), Some(mirror_host.as_str()));
    }
    assert_eq!(
        b[2].requests().iter().filter(|r| r.method == "GET").count(),
        0,
        "GETs are not mirrored"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn health_check_evicts_and_restores_a_server() {
    let b = backends(&["a", "b"]).await;
    let port = free_port();
    let extra = "        healthCheck:\n          interval: 100ms\n          timeout: 1s\n          fails: 2\n          passes: 2\n          uri: /health\n          match:\n            statusCodes: [[200, 299]]\n";
    let _weir = Weir::start(
        &(server(port) + &proxy_pipeline(extra, &servers_yaml(&b, &[]))),
        &[port],
    );
    let c = client();

    b[1].set_health(503);
    let evicted = wait_until_async(Duration::from_secs(10), || async {
        let mut names = Vec::new();
        for _ in 0..4 {
            names.push(backend_of(&c, port, &[]).await.1);
        }
        names.iter().all(|n| n == "a")
    })
    .await;
    assert!(evicted, "b stayed in rotation while unhealthy");

    b[1].set_health(200);
    let restored = wait_until_async(Duration::from_secs(10), || async {
        let mut names = Vec::new();
        for _ in 0..4 {
            names.push(backend_of(&c, port, &[]).await.1);
        }
        names.iter().any(|n| n == "b")
    })
    .await;
    assert!(restored, "b did not come back after passing again");
}

#[tokio::test(flavor = "multi_thread")]
async fn all_servers_unhealthy_gives_503() {
    let b = backends(&["only"]).await;
    let port = free_port();
    let extra = "        healthCheck:\n          interval: 100ms\n          uri: /health\n";
    let _weir = Weir::start(
        &(server(port) + &proxy_pipeline(extra, &servers_yaml(&b, &[]))),
        &[port],
    );
    let c = client();
    b[0].set_health(500);
    let unavailable = wait_until_async(Duration::from_secs(10), || async {
        backend_of(&c, port, &[]).await.0 == StatusCode::SERVICE_UNAVAILABLE
    })
    .await;
    assert!(unavailable);
}

/// The flow turns Proxy results into jumps: `failureCode`, `serverError` and `timeout`
/// go to a fallback proxy; success ends the pipeline (`"": END`).
#[tokio::test(flavor = "multi_thread")]
async fn failure_results_drive_jump_if_and_statuses_match_easegress() {
    let b = backends(&["primary", "fallback"]).await;
    let (port, plain_port) = (free_port(), free_port());
    let refused = format!("http://127.0.0.1:{}", free_port());
    let config = format!(
        r#"
kind: HTTPServer
name: front
port: {port}
address: 127.0.0.1
rules:
  - paths:
      - path: /jump
        backend: with-fallback
      - path: /refused
        backend: refused
      - path: /plain
        backend: plain
      - path: /slow
        backend: slow
---
kind: HTTPServer
name: plain-front
port: {plain_port}
address: 127.0.0.1
rules:
  - paths:
      - backend: plain
---
kind: Pipeline
name: with-fallback
flow:
  - filter: primary
    jumpIf: {{"": END, failureCode: fallback, serverError: fallback, timeout: fallback}}
  - filter: secondary
    alias: fallback
filters:
  - name: primary
    kind: Proxy
    pools:
      - servers: [{{url: {primary}}}]
        timeout: 300ms
        failureCodes: [500, 502]
  - name: secondary
    kind: Proxy
    pools:
      - servers: [{{url: {fallback}}}]
---
kind: Pipeline
name: refused
filters:
  - name: proxy
    kind: Proxy
    pools:
      - servers: [{{url: {refused}}}]
---
kind: Pipeline
name: plain
filters:
  - name: proxy
    kind: Proxy
    pools:
      - servers: [{{url: {primary}}}]
---
kind: Pipeline
name: slow
filters:
  - name: proxy
    kind: Proxy
    pools:
      - servers: [{{url: {primary}}}]
        timeout: 200ms
"#,
        primary = b[0].url(),
        fallback = b[1].url()
    );
    let _weir = Weir::start(&config, &[port, plain_port]);
    let c = client();
    let get = |path: &str, headers: Vec<(&'static str, &'static str)>| {
        let mut r = c.get(format!("http://127.0.0.1:{port}{path}"));
        for (k, v) in headers {
            r = r.header(k, v);
        }
        r.send()
    };

    let ok = get("/jump", vec![]).await.unwrap();
    assert_eq!(
        (ok.status(), ok.headers()["x-backend"].to_str().unwrap()),
        (StatusCode::OK, "primary")
    );
    assert_eq!(b[1].hits(), 0, "success ends the flow before the fallback");

    let failed = get("/jump", vec![("x-backend-status", "500")]).await.unwrap();
    assert_eq!(
        failed.headers()["x-backend"],
        "fallback",
        "failureCode jumped to the fallback"
    );
    let not_a_failure = get("/jump", vec![("x-backend-status", "503")]).await.unwrap();
    assert_eq!(
        (
            not_a_failure.status().as_u16(),
            not_a_failure.headers()["x-backend"].to_str().unwrap()
        ),
        (503, "primary")
    );
    let timed_out = get("/jump", vec![("x-backend-delay-ms", "1500")]).await.unwrap();
    assert_eq!(
        timed_out.headers()["x-backend"],
        "fallback",
        "timeout jumped to the fallback"
    );

    // Without jumpIf: the backend's failing response is kept (implicit END).
    let kept = get("/plain", vec![("x-backend-status", "500")]).await.unwrap();
    assert_eq!(
        (kept.status().as_u16(), kept.headers()["x-backend"].to_str().unwrap()),
        (500, "primary")
    );
    assert_eq!(
        get("/refused", vec![]).await.unwrap().status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        get("/slow", vec![("x-backend-delay-ms", "2000")])
            .await
            .unwrap()
            .status(),
        StatusCode::REQUEST_TIMEOUT
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn upstream_connections_are_reused_and_hop_by_hop_headers_stripped() {
    let b = backends(&["a"]).await;
    let port = free_port();
    let _weir = Weir::start(&(server(port) + &proxy_pipeline("", &servers_yaml(&b, &[]))), &[port]);
    let c = client();
    for _ in 0..50 {
        let response = c
            .get(format!("http://127.0.0.1:{port}/"))
            .header("connection", "x-private")
            .header("x-private", "secret")
            .header("keep-alive", "timeout=5")
            .header("te", "trailers")
            .header("x-kept", "1")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    assert!(
        b[0].connections() <= 2,
        "50 sequential requests opened {} backend connections",
        b[0].connections()
    );
    let seen = b[0].requests().pop().unwrap();
    for hop in ["connection", "x-private", "keep-alive", "te"] {
        assert_eq!(seen.header(hop), None, "{hop} reached the backend");
    }
    assert_eq!(seen.header("x-kept"), Some("1"));
    assert_eq!(
        seen.header("host"),
        Some(format!("127.0.0.1:{port}").as_str()),
        "IP backend keeps the client's Host"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn response_size_limit_and_large_responses() {
    let b = backends(&["a"]).await;
    let (port, big_port) = (free_port(), free_port());
    let limited = proxy_pipeline("        serverMaxBodySize: 1000\n", &servers_yaml(&b, &[]));
    let _w1 = Weir::start(&(server(port) + &limited), &[port]);
    let _w2 = Weir::start(
        &(server(big_port) + &proxy_pipeline("", &servers_yaml(&b, &[]))),
        &[big_port],
    );
    let c = client();
    let too_big = c
        .get(format!("http://127.0.0.1:{port}/"))
        .header("x-backend-body-size", "5000")
        .send()
        .await
        .unwrap();
    assert_eq!(too_big.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let fits = c
        .get(format!("http://127.0.0.1:{port}/"))
        .header("x-backend-body-size", "900")
        .send()
        .await
        .unwrap();
    assert_eq!(fits.bytes().await.unwrap().len(), 900);
    let megabyte = c
        .get(format!("http://127.0.0.1:{big_port}/"))
        .header("x-backend-body-size", (1 << 20).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(megabyte.bytes().await.unwrap().len(), 1 << 20);
}
