//! Sets `x-guest: set` on the request: one header write through a handle.

use weir_sdk::{Config, Exchange, Filter, Outcome};

struct SetHeader;

impl Filter for SetHeader {
    fn new(_: Config) -> Result<Self, String> {
        Ok(SetHeader)
    }

    fn on_request(&self, exchange: &Exchange) -> Outcome {
        if let Some(request) = exchange.request() {
            let _ = request.set_header("x-guest", "set");
        }
        Outcome::Continue
    }
}

weir_sdk::export_filter!(SetHeader);
