use super::*;
use crate::window::Window;
use weir_sdk::testing::{reset_state, Harness, TestExchange, TestRequest};

fn breaker(config: &str) -> Harness<CircuitBreaker> {
    reset_state();
    Harness::<CircuitBreaker>::new(config).unwrap()
}

/// Runs one guarded call through the breaker: `None` if it was short-circuited, else
/// whether the breaker let it through, with the guarded step ending in `result`.
fn call(cb: &Harness<CircuitBreaker>, result: &str, micros: u64) -> bool {
    let exchange = TestExchange::new(TestRequest::get("/"));
    exchange.before_guarded_step();
    match cb.on_request(&exchange) {
        Outcome::Continue => {}
        Outcome::Result(r) => {
            assert_eq!(r, "shortCircuited");
            assert_eq!(exchange.response().unwrap().status(), 503);
            return false;
        }
        other => panic!("unexpected {other:?}"),
    }
    exchange.after_guarded_step(1, result, micros);
    assert_eq!(cb.on_response(&exchange), Outcome::Continue);
    true
}

#[test]
fn opens_on_failure_rate_then_half_opens_and_closes() {
    let cb = breaker(
        r#"{"slidingWindowSize":4,"failureRateThreshold":50,"minimumNumberOfCalls":4,
            "waitDurationInOpenState":"0","permittedNumberOfCallsInHalfOpenState":2}"#,
    );
    // 1 failure in 4: closed.
    for result in ["", "", "", "serverError"] {
        assert!(call(&cb, result, 10));
    }
    assert_eq!(Position::read().phase, Phase::Closed);
    // A second failure in the last 4 (the oldest success slid out): 2/4 = 50%, open.
    assert!(call(&cb, "failureCode", 10));
    assert_eq!(Position::read().phase, Phase::Open);
    // The wait is 0, so the next call is a half-open trial; two successes close it.
    assert!(call(&cb, "", 10));
    assert_eq!(Position::read().phase, Phase::HalfOpen);
    assert!(call(&cb, "", 10));
    assert_eq!(Position::read().phase, Phase::Closed);
    // A new generation starts with an empty window.
    assert!(call(&cb, "serverError", 10));
    assert_eq!(Position::read().phase, Phase::Closed);
}

#[test]
fn open_short_circuits_until_the_wait_is_over() {
    let cb = breaker(r#"{"slidingWindowSize":2,"waitDurationInOpenState":"1h"}"#);
    assert!(call(&cb, "serverError", 10));
    assert!(call(&cb, "serverError", 10));
    assert_eq!(Position::read().phase, Phase::Open);
    assert!(!call(&cb, "", 10), "open: the step does not run");
}

#[test]
fn failed_trials_open_it_again() {
    let cb =
        breaker(r#"{"slidingWindowSize":2,"waitDurationInOpenState":"0","permittedNumberOfCallsInHalfOpenState":1}"#);
    assert!(call(&cb, "timeout", 10));
    assert!(call(&cb, "timeout", 10));
    assert!(call(&cb, "serverError", 10), "the trial call");
    assert_eq!(Position::read().phase, Phase::Open);
}

#[test]
fn slow_calls_count_against_the_slow_rate() {
    let cb = breaker(r#"{"slidingWindowSize":2,"slowCallRateThreshold":50,"slowCallDurationThreshold":"100ms"}"#);
    assert!(call(&cb, "", 99_000));
    assert_eq!(Position::read().phase, Phase::Closed);
    assert!(call(&cb, "", 100_000));
    assert_eq!(Position::read().phase, Phase::Open);
}

#[test]
fn half_open_permits_only_so_many_trials() {
    let cb =
        breaker(r#"{"slidingWindowSize":1,"waitDurationInOpenState":"0","permittedNumberOfCallsInHalfOpenState":2}"#);
    assert!(call(&cb, "serverError", 10));
    // Two trials admitted while none has finished yet; the third is refused.
    let admitted = |_: usize| {
        let exchange = TestExchange::new(TestRequest::get("/"));
        exchange.before_guarded_step();
        cb.on_request(&exchange) == Outcome::Continue
    };
    assert_eq!((0..3).map(admitted).collect::<Vec<_>>(), vec![true, true, false]);
}

#[test]
fn time_based_windows_count_recent_calls() {
    let window = Window::time_based(100);
    assert_eq!(
        window,
        Window::Time {
            bucket_seconds: 5,
            buckets: 20
        }
    );
    reset_state();
    let at = |seconds: u64| seconds * 1000;
    window.record("w", true, false, at(1000));
    let tally = window.record("w", false, false, at(1050));
    assert_eq!((tally.calls, tally.failures), (2, 1));
    // 200 s later the old calls have slid out.
    let tally = window.record("w", false, true, at(1250));
    assert_eq!((tally.calls, tally.failures, tally.slow), (1, 0, 1));
}

#[test]
fn the_minimum_never_exceeds_a_count_window() {
    let cb = breaker(r#"{"slidingWindowSize":10}"#);
    assert_eq!(cb.filter().settings.minimum_calls, 10);
    let err = Harness::<CircuitBreaker>::new(r#"{"slidingWindowType":"SESSION"}"#)
        .err()
        .unwrap();
    assert!(err.contains("slidingWindowType"), "{err}");
}
