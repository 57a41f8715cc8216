//! RateLimiter end to end: the budget of a period holds exactly under a burst from many
//! connections on Weir's worker threads, over-budget requests get 429 with
//! `X-EG-Rate-Limiter`, requests that may wait for the next period do, and URLs that no
//! entry matches are not limited.

use reqwest::StatusCode;
use std::time::{Duration, Instant};
use weir_tests::net::{client, free_port, wait_until_async};
use weir_tests::{Backend, Weir};

fn config(port: u16, backend: &Backend, policy: &str) -> String {
    format!(
        r#"
kind: HTTPServer
name: front
port: {port}
address: 127.0.0.1
rules:
  - paths:
      - backend: pipeline
---
kind: Pipeline
name: pipeline
flow:
  - filter: limiter
    jumpIf: {{ rateLimited: END }}
  - filter: proxy
filters:
  - name: limiter
    kind: RateLimiter
    policies:
      - name: policy
{policy}
    defaultPolicyRef: policy
    urls:
      - methods: [GET]
        url:
          prefix: /api/
  - name: proxy
    kind: Proxy
    pools:
      - servers:
          - url: {}
"#,
        backend.url()
    )
}

/// 10 allowed per minute, no waiting: of 60 requests from 12 concurrent connections,
/// exactly 10 reach the backend and 50 are refused. The period is long so that the
/// burst cannot straddle two periods.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn exactly_the_budget_passes_a_concurrent_burst() {
    let backend = Backend::start("b").await;
    let port = free_port();
    let policy = "        limitForPeriod: 10\n        limitRefreshPeriod: 60s\n        timeoutDuration: 0s";
    let _weir = Weir::start(&config(port, &backend, policy), &[port]);
    let url = format!("http://127.0.0.1:{port}/api/orders");

    let mut tasks = Vec::new();
    for _ in 0..12 {
        // A client per task: its own connection, so the burst spreads over Weir's threads.
        let client = client();
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            for _ in 0..5 {
                let response = client.get(&url).send().await.unwrap();
                let limited_header = response
                    .headers()
                    .get("x-eg-rate-limiter")
                    .map(|v| v.to_str().unwrap().to_string());
                seen.push((response.status(), limited_header));
            }
            seen
        }));
    }
    let mut allowed = 0;
    let mut limited = 0;
    for task in tasks {
        for (status, header) in task.await.unwrap() {
            match status {
                StatusCode::OK => allowed += 1,
                StatusCode::TOO_MANY_REQUESTS => {
                    assert_eq!(header.as_deref(), Some("too-many-requests"));
                    limited += 1;
                }
                other => panic!("unexpected status {other}"),
            }
        }
    }
    assert_eq!((allowed, limited), (10, 50));
    assert_eq!(backend.hits(), 10);

    // An entry matches GET /api/ only: other paths and methods are not limited.
    let other = client()
        .get(format!("http://127.0.0.1:{port}/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::OK);
    let post = client().post(&url).send().await.unwrap();
    assert_eq!(post.status(), StatusCode::OK);
}

/// One request per 3s, waiting up to 5s: the second request waits for the next period
/// and passes. The period is long so that a slow first request on a loaded machine
/// cannot use up the part of the period the assertion relies on.
#[tokio::test]
async fn an_over_budget_request_waits_for_the_next_period_within_the_timeout() {
    let backend = Backend::start("b").await;
    let port = free_port();
    let policy = "        limitForPeriod: 1\n        limitRefreshPeriod: 3s\n        timeoutDuration: 5s";
    let _weir = Weir::start(&config(port, &backend, policy), &[port]);
    let url = format!("http://127.0.0.1:{port}/api/x");
    let client = client();

    let first = client.get(&url).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let started = Instant::now();
    let second = client.get(&url).send().await.unwrap();
    assert_eq!(second.status(), StatusCode::OK);
    // It was held until the next period began, 3s after the first request.
    assert!(
        started.elapsed() >= Duration::from_millis(1500),
        "waited only {:?}",
        started.elapsed()
    );
    assert_eq!(backend.hits(), 2);
}

/// The counters belong to the filter, not to one build of it: after an unrelated edit
/// rebuilds the pipeline, the budget already spent in this period stays spent.
#[tokio::test(flavor = "multi_thread")]
async fn the_spent_budget_survives_a_rebuild_of_the_pipeline() {
    let backend = Backend::start("b").await;
    let port = free_port();
    let policy = "        limitForPeriod: 3\n        limitRefreshPeriod: 60s\n        timeoutDuration: 0s";
    let original = config(port, &backend, policy);
    let weir = Weir::start(&original, &[port]);
    let url = format!("http://127.0.0.1:{port}/api/x");
    let client = client();
    for _ in 0..2 {
        assert_eq!(client.get(&url).send().await.unwrap().status(), StatusCode::OK);
    }
    // A runtime field of the filter changes: the pipeline is rebuilt, the policy is not.
    let edited = original.replace("    kind: RateLimiter\n", "    kind: RateLimiter\n    timeout: 250ms\n");
    assert_ne!(edited, original);
    std::fs::write(weir.config_path(), edited).unwrap();
    let reloaded = wait_until_async(Duration::from_secs(10), || async {
        let status: serde_json::Value = client
            .get(weir.admin_url("/apis/v2/status/reloads"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        status["last"]["changed"]
            .as_array()
            .is_some_and(|c| c.iter().any(|v| v == "built pipeline pipeline"))
    })
    .await;
    assert!(reloaded, "the edit was not applied:\n{}", weir.stderr());
    assert_eq!(client.get(&url).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(
        client.get(&url).send().await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS,
        "two before the rebuild and one after spend the budget of three"
    );
    assert_eq!(backend.hits(), 3);
}
