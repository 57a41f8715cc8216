//! Guards: filters that wrap one step (CircuitBreaker, Retry, TimeLimiter).
//!
//! A guard is an ordinary WASM filter whose phases run at different moments: its
//! `on_request` runs before the guarded step and may stop it (a circuit breaker that is
//! open), and its `on_response` runs right after each attempt at the step, seeing the
//! step's result and duration. Answering `retry` there runs the step again, with the
//! request as it was before the first attempt. A deadline set in `on_request` bounds
//! every attempt together (TimeLimiter).
//!
//! The same loop serves guards in a flow (a guard step wraps the step after it) and the
//! `retryPolicy` / `circuitBreakerPolicy` of a Proxy pool (the policies wrap one
//! forward to the pool).

use super::context::{Context, GuardCall, NamespaceId};
use super::filter::{Filter, FilterFuture, Outcome};
use crate::http::{responses, Request};
use http::StatusCode;
use std::borrow::Cow;
use std::time::{Duration, Instant};

/// The result a guard's `on_response` returns to run the guarded step again.
pub const RETRY: &str = "retry";

/// The result of a guarded step cut off by its deadline.
pub const TIMEOUT: &str = "timeout";

/// One attempt at whatever a guard wraps.
pub trait Attempt: Send {
    fn run<'a>(&'a mut self, ctx: &'a mut Context) -> FilterFuture<'a>;
}

/// How a guarded step ended.
pub struct Guarded {
    pub outcome: Outcome,
    /// Whether the guard stopped the step before it ran (its `on_request` answered).
    pub stopped: bool,
}

/// A guard wrapping an attempt, itself an attempt: policies nest (a circuit breaker
/// around a retry around a forward).
pub struct GuardedAttempt<'g> {
    pub guard: &'g dyn Filter,
    pub ns: NamespaceId,
    pub inner: &'g mut (dyn Attempt + 'g),
}

impl Attempt for GuardedAttempt<'_> {
    fn run<'a>(&'a mut self, ctx: &'a mut Context) -> FilterFuture<'a> {
        Box::pin(async move { run(self.guard, ctx, self.ns, &mut *self.inner).await.outcome })
    }
}

/// Runs `inner` under `guard`, in namespace `ns`.
pub async fn run(guard: &dyn Filter, ctx: &mut Context, ns: NamespaceId, inner: &mut dyn Attempt) -> Guarded {
    ctx.guard = GuardCall {
        attempt: 1,
        ..GuardCall::default()
    };
    let admitted = super::filter::request_phase(guard, ctx, ns).await;
    let deadline = std::mem::take(&mut ctx.guard).deadline;
    if !admitted.result().is_empty() || matches!(admitted, Outcome::Respond(_)) {
        return Guarded {
            outcome: admitted,
            stopped: true,
        };
    }
    // A retry starts from the request as it was; a streamed body cannot be replayed,
    // so such a request gets one attempt.
    let original = ctx.request(ns).and_then(copy_request);
    let mut last = LastAttempt {
        number: 1,
        responded: false,
    };
    let attempts = attempt_until_accepted(guard, ctx, ns, inner, original.as_ref(), &mut last);
    let outcome = match deadline {
        None => attempts.await,
        Some(limit) => match tokio::time::timeout(limit, attempts).await {
            Ok(outcome) => outcome,
            Err(_) => {
                // The attempt in flight was dropped, so whatever it had started (a
                // backend request, a filter call) is abandoned with it.
                last.responded = false;
                ctx.set_response(ns, responses::empty(StatusCode::REQUEST_TIMEOUT));
                let cut = Outcome::Result(Cow::Borrowed(TIMEOUT));
                let verdict = after_attempt(guard, ctx, ns, last.number, &cut, limit).await;
                match verdict {
                    Outcome::Continue => cut,
                    Outcome::Result(r) if r == RETRY => cut,
                    other => apply(ctx, ns, other, cut),
                }
            }
        },
    };
    // A step that answered (a mock, say) ends the flow; its response went into the
    // namespace for the guard to see, and goes back into the outcome here.
    let outcome = match (last.responded, ctx.take_response(ns)) {
        (true, Some(response)) => Outcome::Respond(Box::new(response)),
        (_, response) => {
            if let Some(response) = response {
                ctx.set_response(ns, response);
            }
            outcome
        }
    };
    Guarded {
        outcome,
        stopped: false,
    }
}

/// The attempt running or last run.
struct LastAttempt {
    number: u32,
    /// Whether it answered with a response of its own (which ends the flow).
    responded: bool,
}

async fn attempt_until_accepted(
    guard: &dyn Filter,
    ctx: &mut Context,
    ns: NamespaceId,
    inner: &mut dyn Attempt,
    original: Option<&Request>,
    last: &mut LastAttempt,
) -> Outcome {
    loop {
        let started = Instant::now();
        let outcome = match inner.run(ctx).await {
            Outcome::Respond(response) => {
                ctx.set_response(ns, *response);
                last.responded = true;
                Outcome::Continue
            }
            other => {
                last.responded = false;
                other
            }
        };
        let verdict = after_attempt(guard, ctx, ns, last.number, &outcome, started.elapsed()).await;
        match verdict {
            Outcome::Result(r) if r == RETRY => match original.and_then(copy_request) {
                Some(request) => {
                    ctx.set_request(ns, request);
                    ctx.take_response(ns);
                    last.number += 1;
                }
                None => {
                    tracing::debug!("the request body is streamed, so it is not retried");
                    return outcome;
                }
            },
            Outcome::Continue => return outcome,
            other => return apply(ctx, ns, other, outcome),
        }
    }
}

/// Calls the guard's `on_response` for one finished attempt.
async fn after_attempt(
    guard: &dyn Filter,
    ctx: &mut Context,
    ns: NamespaceId,
    attempt: u32,
    outcome: &Outcome,
    elapsed: Duration,
) -> Outcome {
    ctx.guard = GuardCall {
        attempt,
        result: Some(outcome.result().to_string()),
        elapsed: Some(elapsed),
        deadline: None,
    };
    let verdict = super::filter::response_phase(guard, ctx, ns).await;
    ctx.guard = GuardCall::default();
    verdict
}

/// A guard's verdict other than "accept" or "retry": a result replaces the step's; a
/// response replaces the step's response and keeps its result.
fn apply(ctx: &mut Context, ns: NamespaceId, verdict: Outcome, step: Outcome) -> Outcome {
    match verdict {
        Outcome::Respond(response) => {
            ctx.set_response(ns, *response);
            step
        }
        other => other,
    }
}

/// A copy of a request whose body is in memory; `None` for a streamed body.
fn copy_request(request: &Request) -> Option<Request> {
    let body = request.body().try_clone()?;
    let mut copy = Request::new(body);
    *copy.method_mut() = request.method().clone();
    *copy.uri_mut() = request.uri().clone();
    *copy.version_mut() = request.version();
    *copy.headers_mut() = request.headers().clone();
    Some(copy)
}
