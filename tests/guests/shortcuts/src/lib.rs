//! Uses every ABI 1.2.0 shortcut on the exchange and writes what it saw into headers,
//! so that a test can check each one through the real host.
//!
//! Request: copies the values of `x-multi` into `x-seen`, the method and path into
//! `x-route`, removes `x-drop`, tries a header name the host must refuse, and reports
//! the refusals in `x-refused` and whether a response existed yet in
//! `x-response-before`. Response: copies `x-backend` into `x-echo` and removes it.

use weir_sdk::{Config, Exchange, Filter, HeaderEdit, Outcome, Phases};

struct Shortcuts;

impl Filter for Shortcuts {
    const PHASES: Phases = Phases::BOTH;

    fn new(_: Config) -> Result<Self, String> {
        Ok(Shortcuts)
    }

    fn on_request(&self, exchange: &Exchange) -> Outcome {
        let seen = exchange.request_header_values("x-multi").unwrap_or_default();
        let (method, path) = exchange.request_method_path().unwrap_or_default();
        let refused = exchange.edit_request_headers(&[
            HeaderEdit::remove("x-drop"),
            HeaderEdit::set("x-seen", seen.join("|")),
            HeaderEdit::set("bad name", "refused"),
            HeaderEdit::add("x-route", format!("{method} {path}")),
            HeaderEdit::add("x-route", "again"),
        ]);
        // Before the Proxy there is no response: reads and edits both say so.
        let response_before = match (
            exchange.response_header_values("x-backend"),
            exchange.edit_response_headers(&[HeaderEdit::set("x-never", "set")]),
        ) {
            (None, None) => "none",
            _ => "some",
        };
        let report = exchange.edit_request_headers(&[
            HeaderEdit::set("x-refused", format!("{}: {}", refused.len(), refused.join("; "))),
            HeaderEdit::set("x-response-before", response_before),
        ]);
        assert!(report.is_empty(), "{report:?}");
        Outcome::Continue
    }

    fn on_response(&self, exchange: &Exchange) -> Outcome {
        let backend = exchange.response_header_values("x-backend").unwrap_or_default();
        let refused = exchange.edit_response_headers(&[
            HeaderEdit::set("x-echo", backend.join("|")),
            HeaderEdit::remove("x-backend"),
        ]);
        match refused {
            Some(refused) if refused.is_empty() => Outcome::Continue,
            other => Outcome::Result(format!("unexpected: {other:?}")),
        }
    }
}

weir_sdk::export_filter!(Shortcuts);
