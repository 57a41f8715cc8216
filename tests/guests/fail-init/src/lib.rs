//! Refuses every config, to show how an `init` error reaches the operator.

use weir_sdk::{Config, Filter};

struct FailInit;

impl Filter for FailInit {
    fn new(config: Config) -> Result<Self, String> {
        Err(format!("refusing config {}: `required` is missing", config.json()))
    }
}

weir_sdk::export_filter!(FailInit);
