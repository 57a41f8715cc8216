//! HTTP/1.1 to plain-HTTP backends, spoken directly on a pooled connection by the
//! request's own task.
//!
//! hyper's client runs every connection as a task of its own and passes requests,
//! responses and body chunks to it over channels. For a small proxied exchange that
//! machinery was about a third of the proxy's instructions (callgrind, benchmark
//! scenario (a)). Here the request's task writes the request, reads the response head
//! and, when the whole body arrived with it (the usual case for small responses), hands
//! the connection straight back to the pool. A longer body is read from the socket as
//! the client side asks for it, and the connection goes back after its last byte.
//!
//! - [`request_head`]: writing a request head, and how its body is framed.
//! - [`response_head`]: parsing a response head, and how its body is framed.
//! - [`connection`]: one connection and one exchange on it.
//! - [`body`]: a response body still arriving.

mod body;
mod connection;
mod request_head;
mod response_head;

pub use body::{BackendBody, GiveBack};
pub use connection::{Connection, ExchangeError};
pub use response_head::ResponseHead;
