//! The host side of each imported WIT interface, one file per interface.

mod clock;
mod http_client;
mod log;
mod random;
mod runtime;
mod state;
mod types;

pub use types::build_response;
