//! Write Weir filters in Rust: implement [`Filter`], export it with [`export_filter!`],
//! build for `wasm32-wasip2`, and unit-test it natively with [`testing`].
#![doc = include_str!("../README.md")]

// Lets the generated bindings and the export macro name this crate the same way from
// inside it and from a filter crate.
extern crate self as weir_sdk;

#[cfg(target_arch = "wasm32")]
pub mod bindings;
mod export;
mod filter;
pub mod host;
mod message;
#[cfg(not(target_arch = "wasm32"))]
mod native;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;

pub use filter::{Config, Filter, Outcome, Phases};
pub use host::{clock, http, log, random, runtime, state};
pub use message::{BuiltResponse, Exchange, HeaderEdit, Request, Response};

#[doc(hidden)]
pub mod __private {
    #[cfg(target_arch = "wasm32")]
    pub use crate::export::*;
    #[cfg(target_arch = "wasm32")]
    pub use wit_bindgen;
}
