//! Retry, CircuitBreaker and TimeLimiter end to end, both as guard steps of a flow and
//! as the `resilience:` policies a Proxy pool names: a retry recovers from a backend
//! that fails its first requests (resending the same body), a circuit breaker goes
//! closed → open → half-open → open → half-open → closed against a backend that fails
//! and recovers, and a time limiter cuts off a slow backend.

use reqwest::StatusCode;
use std::time::{Duration, Instant};
use weir_tests::net::{client, free_port};
use weir_tests::weir::run_expecting_failure;
use weir_tests::yaml::{front, front_and_pipeline};
use weir_tests::{Backend, Weir};

/// Retry as a pool policy: 2 failures then success, within 3 attempts.
fn pool_retry_config(port: u16, backend: &Backend) -> String {
    front_and_pipeline(
        port,
        &format!(
            r#"resilience:
  - name: retry3
    kind: Retry
    maxAttempts: 3
    waitDuration: 20ms
    backOffPolicy: EXPONENTIAL
filters:
  - name: proxy
    kind: Proxy
    pools:
      - servers: [{{url: "{}"}}]
        retryPolicy: retry3
"#,
            backend.url(),
        ),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_retry_policy_recovers_from_a_backend_failing_its_first_requests() {
    let backend = Backend::start("flaky").await;
    let port = free_port();
    let _weir = Weir::start(&pool_retry_config(port, &backend), &[port]);
    let url = format!("http://127.0.0.1:{port}/orders");

    backend.fail_next(2, 503);
    let response = client().post(&url).body("order-42").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "the third attempt succeeds");
    assert_eq!(backend.hits(), 3);
    let bodies: Vec<String> = backend.requests().into_iter().map(|r| r.body).collect();
    assert_eq!(bodies, vec!["order-42"; 3], "every attempt resends the original body");

    // More failures than attempts: the client gets the last failure, after 3 attempts.
    backend.fail_next(10, 502);
    let response = client().post(&url).body("order-43").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(backend.hits(), 6);

    // Success on the first attempt is not retried.
    backend.fail_next(0, 503);
    let response = client().get(&url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(backend.hits(), 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_step_re_runs_the_step_it_guards() {
    let backend = Backend::start("flaky").await;
    let port = free_port();
    let config = front_and_pipeline(
        port,
        &format!(
            r#"flow:
  - filter: retry
  - filter: proxy
    jumpIf: {{ failureCode: END }}
  - filter: tag
filters:
  - name: retry
    kind: Retry
    maxAttempts: 4
    waitDuration: 10ms
  - name: proxy
    kind: Proxy
    pools:
      - servers: [{{url: "{}"}}]
  - name: tag
    kind: ResponseAdaptor
    header:
      set:
        x-after-proxy: ran
"#,
            backend.url(),
        ),
    );
    let _weir = Weir::start(&config, &[port]);
    let url = format!("http://127.0.0.1:{port}/");

    backend.fail_next(3, 500);
    let response = client().get(&url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["x-after-proxy"],
        "ran",
        "the flow went on after the retried step"
    );
    assert_eq!(backend.hits(), 4);

    // Out of attempts: the step's `failureCode` takes its jumpIf to END.
    backend.fail_next(4, 500);
    let response = client().get(&url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(response.headers().get("x-after-proxy").is_none());
    assert_eq!(backend.hits(), 8);
}

/// The outcome of one request through the breaker.
#[derive(Debug, PartialEq)]
enum Seen {
    /// The backend answered (with this status).
    Backend(u16),
    /// The breaker answered 503 without calling the backend.
    ShortCircuited,
}

async fn send(url: &str, backend: &Backend) -> Seen {
    let before = backend.hits();
    let response = client().get(url).send().await.unwrap();
    let from_backend = response.headers().contains_key("x-backend");
    assert_eq!(
        from_backend,
        backend.hits() > before,
        "x-backend marks a backend answer"
    );
    if from_backend {
        Seen::Backend(response.status().as_u16())
    } else {
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        Seen::ShortCircuited
    }
}

/// Polls until the breaker lets a request through again (its open wait is over), and
/// returns what that request got.
async fn first_admitted(url: &str, backend: &Backend) -> Seen {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match send(url, backend).await {
            Seen::ShortCircuited => {
                assert!(Instant::now() < deadline, "the breaker never let a trial call through");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            seen => return seen,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_circuit_breaker_opens_half_opens_and_closes() {
    let backend = Backend::start("shaky").await;
    let port = free_port();
    let config = front_and_pipeline(
        port,
        &format!(
            r#"resilience:
  - name: breaker
    kind: CircuitBreaker
    slidingWindowType: COUNT_BASED
    slidingWindowSize: 4
    minimumNumberOfCalls: 4
    failureRateThreshold: 50
    waitDurationInOpenState: 300ms
    permittedNumberOfCallsInHalfOpenState: 2
filters:
  - name: proxy
    kind: Proxy
    pools:
      - servers: [{{url: "{}"}}]
        circuitBreakerPolicy: breaker
"#,
            backend.url(),
        ),
    );
    let _weir = Weir::start(&config, &[port]);
    let url = format!("http://127.0.0.1:{port}/");

    // Closed: successes, then failures until half of the last 4 calls failed.
    for _ in 0..3 {
        assert_eq!(send(&url, &backend).await, Seen::Backend(200));
    }
    backend.fail_next(usize::MAX, 503);
    assert_eq!(
        send(&url, &backend).await,
        Seen::Backend(503),
        "1 failure in 4: still closed"
    );
    assert_eq!(
        send(&url, &backend).await,
        Seen::Backend(503),
        "2 failures in 4: this one opens it"
    );

    // Open: answered without calling the backend.
    for _ in 0..5 {
        assert_eq!(send(&url, &backend).await, Seen::ShortCircuited);
    }

    // Half-open after the wait: a failing trial opens it again at once.
    assert_eq!(first_admitted(&url, &backend).await, Seen::Backend(503));
    // With 2 trials permitted, one more trial may still be admitted before it reopens.
    let next = send(&url, &backend).await;
    if next != Seen::ShortCircuited {
        assert_eq!(next, Seen::Backend(503));
        assert_eq!(send(&url, &backend).await, Seen::ShortCircuited);
    }

    // The backend recovers; after the wait, two successful trials close the breaker.
    backend.fail_next(0, 503);
    assert_eq!(first_admitted(&url, &backend).await, Seen::Backend(200));
    assert_eq!(send(&url, &backend).await, Seen::Backend(200));
    // Closed, with a fresh window: one failure does not open it.
    backend.fail_next(1, 503);
    assert_eq!(send(&url, &backend).await, Seen::Backend(503));
    for _ in 0..6 {
        assert_eq!(send(&url, &backend).await, Seen::Backend(200));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_circuit_breaker_step_routes_short_circuits_by_jump_if() {
    let backend = Backend::start("down").await;
    let port = free_port();
    let config = front_and_pipeline(
        port,
        &format!(
            r#"flow:
  - filter: breaker
    jumpIf: {{ shortCircuited: fallback }}
  - filter: proxy
    jumpIf: {{ failureCode: END }}
  - filter: END
  - filter: fallback
filters:
  - name: breaker
    kind: CircuitBreaker
    slidingWindowSize: 2
    waitDurationInOpenState: 1h
  - name: proxy
    kind: Proxy
    pools:
      - servers: [{{url: "{}"}}]
  - name: fallback
    kind: Mock
    rules:
      - body: "served from the fallback\n"
        code: 200
"#,
            backend.url(),
        ),
    );
    let _weir = Weir::start(&config, &[port]);
    let url = format!("http://127.0.0.1:{port}/");
    backend.fail_next(usize::MAX, 500);
    for _ in 0..2 {
        let response = client().get(&url).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
    let response = client().get(&url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text().await.unwrap(), "served from the fallback\n");
    assert_eq!(backend.hits(), 2, "the open breaker kept the request from the backend");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_time_limiter_cuts_off_a_slow_step() {
    let backend = Backend::start("slow").await;
    let port = free_port();
    let config = front_and_pipeline(
        port,
        &format!(
            r#"flow:
  - filter: limiter
  - filter: proxy
filters:
  - name: limiter
    kind: TimeLimiter
    defaultTimeoutDuration: 300ms
    urls:
      - url: {{prefix: /patient/}}
        timeoutDuration: 20s
  - name: proxy
    kind: Proxy
    pools:
      - servers: [{{url: "{}"}}]
"#,
            backend.url(),
        ),
    );
    let _weir = Weir::start(&config, &[port]);
    let base = format!("http://127.0.0.1:{port}");

    let slow = client()
        .get(format!("{base}/impatient"))
        .header("x-backend-delay-ms", "5000")
        .send()
        .await
        .unwrap();
    assert_eq!(slow.status(), StatusCode::REQUEST_TIMEOUT);
    assert_eq!(backend.received(), 1, "the backend was called, and abandoned");

    let fast = client().get(format!("{base}/impatient")).send().await.unwrap();
    assert_eq!(fast.status(), StatusCode::OK);

    // A URL rule gives a longer deadline.
    let patient = client()
        .get(format!("{base}/patient/x"))
        .header("x-backend-delay-ms", "600")
        .send()
        .await
        .unwrap();
    assert_eq!(patient.status(), StatusCode::OK);
}

#[test]
fn policy_and_guard_mistakes_are_named_before_serving() {
    let pipeline = |resilience: &str, pool_extra: &str, flow: &str| {
        format!(
            r#"{}---
kind: Pipeline
name: main
{flow}
resilience:
{resilience}
filters:
  - name: retry
    kind: Retry
  - name: proxy
    kind: Proxy
    pools:
      - servers: [{{url: "http://127.0.0.1:9"}}]
{pool_extra}
"#,
            front(free_port(), "main")
        )
    };
    let flow = "flow:\n  - filter: retry\n  - filter: proxy";
    let cases = [
        (
            pipeline("  - {name: r, kind: Retry}", "        retryPolicy: nope", flow),
            "retryPolicy",
            "no Retry policy named \"nope\"",
        ),
        (
            pipeline("  - {name: r, kind: Retry}", "        circuitBreakerPolicy: r", flow),
            "circuitBreakerPolicy",
            "is a Retry, not a CircuitBreaker",
        ),
        (
            pipeline("  - {name: t, kind: TimeLimiter}", "", flow),
            "resilience[0].kind",
            "not a resilience policy kind",
        ),
        (
            pipeline("  - {name: r, kind: Retry, maxAttempts: 0}", "", flow),
            "resilience[0]",
            "maxAttempts",
        ),
        (
            pipeline("  []", "", "flow:\n  - filter: proxy\n  - filter: retry"),
            "flow[1]",
            "a filter step must follow it",
        ),
    ];
    for (config, place, message) in cases {
        let config = config.replace("resilience:\n  []", "resilience: []");
        let (status, stderr) = run_expecting_failure(&config);
        assert_eq!(status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(place), "{place:?} not named in: {stderr}");
        assert!(stderr.contains(message), "{message:?} not in: {stderr}");
    }
}
