//! Weir: a programmable HTTP proxy. A native core (listeners, routing, the pipeline
//! orchestrator and the Proxy filter) runs pipelines of filters described in
//! Easegress-style YAML.

pub mod access_log;
pub mod admin;
pub mod app;
pub mod cli;
pub mod config;
pub mod http;
pub mod metrics;
pub mod pipeline;
pub mod proxy;
pub mod registry;
pub mod reload;
pub mod router;
pub mod server;
pub mod store;
pub mod timestamp;
pub mod wasm;
pub mod watch;
