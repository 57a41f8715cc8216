//! Does nothing; measures the floor of a filter call.

use weir_sdk::{Config, Filter};

struct Noop;

impl Filter for Noop {
    fn new(_: Config) -> Result<Self, String> {
        Ok(Noop)
    }
}

weir_sdk::export_filter!(Noop);
