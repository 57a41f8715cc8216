//! Counts requests in shared state and tells the backend which number each one got
//! (`x-count`), so a test can check that counts are exact under concurrency.

use weir_sdk::{state, Config, Exchange, Filter, Outcome};

struct Counter;

impl Filter for Counter {
    fn new(_: Config) -> Result<Self, String> {
        Ok(Counter)
    }

    fn on_request(&self, exchange: &Exchange) -> Outcome {
        let n = state::add("requests", 1, None);
        // Compare-and-swap too, so both atomic operations are exercised: the highest
        // number seen so far.
        loop {
            let seen = state::get("highest");
            if seen.is_some_and(|h| h >= n) || state::compare_and_swap("highest", seen, n, None) {
                break;
            }
        }
        if let Some(request) = exchange.request() {
            let _ = request.set_header("x-count", &n.to_string());
            let _ = request.set_header("x-highest", &state::get("highest").unwrap_or(0).to_string());
        }
        Outcome::Continue
    }
}

weir_sdk::export_filter!(Counter);
