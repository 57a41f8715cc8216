//! Weir's own HTTP/1.1 server side: each client connection is served by its task
//! directly, with no dispatcher between the socket and the pipeline.
//!
//! hyper's server ran every request through its dispatcher's state machine, body
//! channel and buffered IO: about a third of the proxy's instructions for a small
//! request (callgrind, benchmark scenario (a)). HTTP/2 stays with hyper.
//!
//! - [`request_head`]: parsing a request head, and how its body is framed.
//! - [`client_body`]: a request body read from the connection as it is asked for.
//! - [`response`]: writing a response head and body.
//! - [`connection`]: the loop over one connection's requests.

mod client_body;
mod connection;
mod request_head;
mod response;

pub use client_body::{ClientBody, ReadSide, Reader};
pub use connection::{serve, Settings};
