//! HTTP pieces shared by the server, the pipeline and the proxy.

pub mod body;
pub mod h1_body;
pub mod h1_head;
pub mod hop_by_hop;
pub mod raw_headers;
pub mod responses;

pub use body::{Body, BodyError};

/// A request as the pipeline holds it.
pub type Request = http::Request<Body>;
/// A response as the pipeline holds it.
pub type Response = http::Response<Body>;
