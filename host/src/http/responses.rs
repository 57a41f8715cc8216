//! Responses Weir makes itself (routing refusals, proxy failures, filter failures).

use super::{Body, Response};
use http::{header, HeaderValue, StatusCode};

/// A response with no body, as Easegress sends for its own statuses.
pub fn empty(status: StatusCode) -> Response {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = status;
    response
}

/// A short plain-text response, for failures where the reason helps the client.
pub fn text(status: StatusCode, message: impl Into<String>) -> Response {
    let mut message = message.into();
    message.push('\n');
    let mut response = Response::new(Body::from(message));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
