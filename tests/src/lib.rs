//! Support for Weir's end-to-end tests: real backends, the real `weir` binary, a test
//! certificate authority, and small network helpers.

pub mod backend;
pub mod certs;
pub mod load;
pub mod net;
pub mod raw_front;
pub mod weir;
pub mod yaml;

pub use backend::{Backend, BackendOptions};
pub use weir::Weir;
