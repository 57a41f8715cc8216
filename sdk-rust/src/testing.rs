//! Run a filter's phases natively, without the proxy, to unit-test it.
//!
//! ```
//! use weir_sdk::testing::{Harness, TestExchange, TestRequest};
//! use weir_sdk::{Config, Exchange, Filter, Outcome};
//!
//! struct Hello;
//! impl Filter for Hello {
//!     fn new(_: Config) -> Result<Self, String> {
//!         Ok(Hello)
//!     }
//!     fn on_request(&self, exchange: &Exchange) -> Outcome {
//!         exchange.request().unwrap().set_header("x-hello", "world").unwrap();
//!         Outcome::Continue
//!     }
//! }
//!
//! let filter = Harness::<Hello>::new("null").unwrap();
//! let exchange = TestExchange::new(TestRequest::get("/"));
//! assert_eq!(filter.on_request(&exchange), Outcome::Continue);
//! assert_eq!(exchange.request().header("x-hello").as_deref(), Some("world"));
//! ```
//!
//! Host services behave as in production but live in memory on the test's thread:
//! [`crate::state`] counters, [`crate::log`] lines (see [`log_lines`]) and outbound
//! calls (answered by [`respond_to_http`]).

use crate::native::{self, http_client, Message, Slot};
use crate::{Config, Exchange, Filter, Outcome, Phases, Request, Response};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// A filter built as the host would build it, with `init`'s config.
pub struct Harness<F: Filter> {
    filter: F,
    never_waits: bool,
}

impl<F: Filter> Harness<F> {
    /// Builds the filter from its config as JSON (`"null"` for none).
    pub fn new(config_json: &str) -> Result<Self, String> {
        native::runtime::NEVER_WAITS.with(|promised| promised.set(false));
        let filter = F::new(Config::from_json(config_json))?;
        Ok(Harness {
            filter,
            never_waits: native::runtime::NEVER_WAITS.with(|promised| promised.get()),
        })
    }

    /// Whether building the filter promised that its calls never wait
    /// ([`crate::runtime::never_waits`]).
    pub fn promised_never_to_wait(&self) -> bool {
        self.never_waits
    }

    /// Runs `on_request`, as the host would if the filter declares the request phase.
    pub fn on_request(&self, exchange: &TestExchange) -> Outcome {
        if !F::PHASES.request {
            return Outcome::Continue;
        }
        self.filter.on_request(&exchange.view())
    }

    /// Runs `on_response`, as the host would if the filter declares the response phase.
    pub fn on_response(&self, exchange: &TestExchange) -> Outcome {
        if !F::PHASES.response {
            return Outcome::Continue;
        }
        self.filter.on_response(&exchange.view())
    }

    pub fn phases(&self) -> Phases {
        F::PHASES
    }

    pub fn filter(&self) -> &F {
        &self.filter
    }
}

/// A request to feed a filter.
#[derive(Debug, Clone)]
pub struct TestRequest(Message);

impl TestRequest {
    /// A request; `target` may carry a query (`/a?b=c`).
    pub fn new(method: &str, target: &str) -> TestRequest {
        let (path, query) = match target.split_once('?') {
            Some((p, q)) => (p, Some(q.to_string())),
            None => (target, None),
        };
        TestRequest(Message {
            method: method.to_string(),
            path: path.to_string(),
            query,
            ..Message::default()
        })
    }

    pub fn get(target: &str) -> TestRequest {
        TestRequest::new("GET", target)
    }

    pub fn post(target: &str) -> TestRequest {
        TestRequest::new("POST", target)
    }

    pub fn header(mut self, name: &str, value: &str) -> TestRequest {
        self.0.headers.push((name.to_ascii_lowercase(), value.to_string()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> TestRequest {
        self.0.body = body.into();
        self
    }
}

/// A response to put in a namespace, for testing `on_response`.
#[derive(Debug, Clone)]
pub struct TestResponse(Message);

impl TestResponse {
    pub fn new(status: u16) -> TestResponse {
        TestResponse(Message {
            status,
            ..Message::default()
        })
    }

    pub fn header(mut self, name: &str, value: &str) -> TestResponse {
        self.0.headers.push((name.to_ascii_lowercase(), value.to_string()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> TestResponse {
        self.0.body = body.into();
        self
    }
}

/// The namespaces of one request, as the filter's step sees them.
pub struct TestExchange {
    exchange: native::Exchange,
}

impl TestExchange {
    /// An exchange with `request` in `DEFAULT`, for a step in `DEFAULT`.
    pub fn new(request: TestRequest) -> TestExchange {
        let mut slots = BTreeMap::new();
        slots.insert(
            "DEFAULT".to_string(),
            Slot {
                request: Some(Rc::new(RefCell::new(request.0))),
                response: None,
            },
        );
        TestExchange {
            exchange: native::Exchange {
                namespace: "DEFAULT".to_string(),
                slots: Rc::new(RefCell::new(slots)),
                client_addr: "127.0.0.1:40000".to_string(),
                data: Rc::default(),
                guard: Rc::default(),
            },
        }
    }

    /// Moves the step to another namespace.
    pub fn in_namespace(mut self, namespace: &str) -> TestExchange {
        self.exchange.namespace = namespace.to_string();
        self
    }

    pub fn with_request_in(self, namespace: &str, request: TestRequest) -> TestExchange {
        let shared = Rc::new(RefCell::new(request.0));
        self.exchange
            .slots
            .borrow_mut()
            .entry(namespace.to_string())
            .or_default()
            .request = Some(shared);
        self
    }

    /// Puts `response` in the step's namespace.
    pub fn with_response(self, response: TestResponse) -> TestExchange {
        let shared = Rc::new(RefCell::new(response.0));
        let namespace = self.exchange.namespace.clone();
        self.exchange.slots.borrow_mut().entry(namespace).or_default().response = Some(shared);
        self
    }

    pub fn with_client_addr(mut self, addr: &str) -> TestExchange {
        self.exchange.client_addr = addr.to_string();
        self
    }

    /// Stores a per-request value, as an earlier DataBuilder would.
    pub fn with_data(self, key: &str, value: &str) -> TestExchange {
        self.exchange.set_data(key, value);
        self
    }

    /// Makes the next call a guard's `on_request` for attempt 1 (as the host does
    /// before the guarded step).
    pub fn before_guarded_step(&self) {
        *self.exchange.guard.borrow_mut() = native::GuardView {
            attempt: 1,
            ..Default::default()
        };
    }

    /// Makes the next call a guard's `on_response` after attempt `attempt` of the
    /// guarded step, which ended with `result` (`""` for success) after `micros`.
    pub fn after_guarded_step(&self, attempt: u32, result: &str, micros: u64) {
        *self.exchange.guard.borrow_mut() = native::GuardView {
            attempt,
            result: Some(result.to_string()),
            micros: Some(micros),
            deadline: None,
        };
    }

    /// The deadline a guard set in `on_request`, in milliseconds.
    pub fn deadline(&self) -> Option<u32> {
        self.exchange.guard.borrow().deadline
    }

    /// A per-request value, as stored by the filter.
    pub fn data(&self, key: &str) -> Option<String> {
        self.exchange.data(key)
    }

    /// The step's request after the filter ran. Panics if the namespace has none.
    pub fn request(&self) -> Request {
        self.view().request().expect("the step's namespace has a request")
    }

    /// The step's response, if a filter set one.
    pub fn response(&self) -> Option<Response> {
        self.view().response()
    }

    fn view(&self) -> Exchange<'_> {
        Exchange { inner: &self.exchange }
    }
}

/// Log lines the filter wrote on this thread, oldest first; clears them.
pub fn log_lines() -> Vec<(native::log::Level, String)> {
    native::log::LINES.with(|l| std::mem::take(&mut *l.borrow_mut()))
}

/// Answers the filter's outbound calls on this thread with `respond`.
pub fn respond_to_http(
    respond: impl Fn(&http_client::OutgoingRequest) -> Result<http_client::IncomingResponse, String> + 'static,
) {
    http_client::RESPONDER.with(|r| *r.borrow_mut() = Some(Box::new(respond)));
}

/// Forgets every shared-state counter on this thread, between tests on one thread.
pub fn reset_state() {
    native::state::COUNTERS.with(|c| c.borrow_mut().clear());
}

pub use native::log::Level;
