//! Handles to the request and response of a namespace, and the exchange that gives
//! them out. The host owns the HTTP messages; every method is one call into the host,
//! so read only what you need.

#[cfg(target_arch = "wasm32")]
use crate::bindings::weir::filter::types as imp;
#[cfg(not(target_arch = "wasm32"))]
use crate::native as imp;

/// One request's journey, as seen from a filter's step. Valid during one phase call.
pub struct Exchange<'a> {
    pub(crate) inner: &'a imp::Exchange,
}

impl Exchange<'_> {
    /// The request of this step's namespace.
    pub fn request(&self) -> Option<Request> {
        self.inner.request().map(Request)
    }

    /// The response of this step's namespace, once there is one (in `on_response`, or
    /// after a Proxy or builder step in the same namespace).
    pub fn response(&self) -> Option<Response> {
        self.inner.response().map(Response)
    }

    /// The request of a named namespace (`DEFAULT` holds the client's).
    pub fn request_of(&self, namespace: &str) -> Option<Request> {
        self.inner.request_of(namespace).map(Request)
    }

    /// The response of a named namespace.
    pub fn response_of(&self, namespace: &str) -> Option<Response> {
        self.inner.response_of(namespace).map(Response)
    }

    /// Puts a response in this step's namespace and goes on with the flow.
    pub fn set_response(&self, response: BuiltResponse) -> Result<(), String> {
        self.inner.set_response(&response.into_imp())
    }

    /// The client's address, `ip:port`.
    pub fn client_addr(&self) -> String {
        self.inner.client_addr()
    }

    /// The name of this step's namespace (`DEFAULT` for the client's).
    pub fn namespace(&self) -> String {
        self.inner.namespace()
    }

    /// A value stored earlier in this request (by a DataBuilder, say), JSON text by
    /// convention.
    pub fn data(&self, key: &str) -> Option<String> {
        self.inner.data(key)
    }

    /// Stores a value for the rest of this request; templates read it as `.data.KEY`.
    pub fn set_data(&self, key: &str, value: &str) {
        self.inner.set_data(key, value)
    }

    /// Every value stored for this request, in the order first stored.
    pub fn all_data(&self) -> Vec<(String, String)> {
        self.inner.data_all()
    }

    /// In a guard: which attempt at the guarded step this is, from 1.
    pub fn attempt(&self) -> u32 {
        self.inner.attempt()
    }

    /// In a guard's `on_response`: the result the guarded step ended with (`""` is
    /// success).
    pub fn guarded_result(&self) -> Option<String> {
        self.inner.guarded_result()
    }

    /// In a guard's `on_response`: how long the guarded step's last attempt took, in
    /// microseconds.
    pub fn guarded_micros(&self) -> Option<u64> {
        self.inner.guarded_micros()
    }

    /// In a guard's `on_request`: every attempt at the guarded step together must end
    /// within `millis`, or the step is cut off with result `timeout`.
    pub fn set_deadline(&self, millis: u32) {
        self.inner.set_deadline(millis)
    }

    // Shortcuts to this step's own request and response (ABI 1.2.0). Each is one call
    // into the host; the same through `request()` costs three (get the handle, use it,
    // drop it), which shows when a filter runs on every request.

    /// Every value of a header of this step's request, in order (empty when absent);
    /// `None` when the namespace has no request.
    pub fn request_header_values(&self, name: &str) -> Option<Vec<String>> {
        self.inner.request_header_values(name)
    }

    /// The method and the path (without the query) of this step's request.
    pub fn request_method_path(&self) -> Option<(String, String)> {
        self.inner.request_method_path()
    }

    /// Applies `edits` to this step's request, in order. An edit the host refuses (a
    /// bad name or value) is skipped and the others still apply; the result holds one
    /// error per skipped edit. Like [`Exchange::request`], a namespace other than
    /// `DEFAULT` without a request gets an empty one first.
    pub fn edit_request_headers(&self, edits: &[HeaderEdit]) -> Vec<String> {
        self.inner.edit_request_headers(edits)
    }

    /// Every value of a header of this step's response; `None` when there is no
    /// response yet.
    pub fn response_header_values(&self, name: &str) -> Option<Vec<String>> {
        self.inner.response_header_values(name)
    }

    /// Applies `edits` to this step's response, as [`Exchange::edit_request_headers`]
    /// does; `None`, with nothing edited, when there is no response yet.
    pub fn edit_response_headers(&self, edits: &[HeaderEdit]) -> Option<Vec<String>> {
        self.inner.edit_response_headers(edits)
    }
}

/// One change to a message's headers, for [`Exchange::edit_request_headers`] and
/// [`Exchange::edit_response_headers`]. Build the list once (in [`crate::Filter::new`])
/// when it does not depend on the request.
pub use imp::HeaderEdit;

impl HeaderEdit {
    /// Replaces every value of `name` with `value`.
    pub fn set(name: impl Into<String>, value: impl Into<String>) -> HeaderEdit {
        HeaderEdit::Set((name.into(), value.into()))
    }

    /// Adds a value to `name`, keeping those already there.
    pub fn add(name: impl Into<String>, value: impl Into<String>) -> HeaderEdit {
        HeaderEdit::Add((name.into(), value.into()))
    }

    /// Removes every value of `name`.
    pub fn remove(name: impl Into<String>) -> HeaderEdit {
        HeaderEdit::Remove(name.into())
    }
}

/// A namespace's request.
pub struct Request(imp::Request);

impl Request {
    pub fn method(&self) -> String {
        self.0.method()
    }
    pub fn set_method(&self, method: &str) -> Result<(), String> {
        self.0.set_method(method)
    }
    /// The path without the query.
    pub fn path(&self) -> String {
        self.0.path()
    }
    pub fn set_path(&self, path: &str) -> Result<(), String> {
        self.0.set_path(path)
    }
    /// The raw query string, without `?`.
    pub fn query(&self) -> Option<String> {
        self.0.query()
    }
    pub fn set_query(&self, query: Option<&str>) -> Result<(), String> {
        self.0.set_query(query)
    }
    /// The host the client addressed.
    pub fn host(&self) -> Option<String> {
        self.0.host()
    }
    pub fn set_host(&self, host: &str) -> Result<(), String> {
        self.0.set_host(host)
    }
    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<String> {
        self.0.header(name)
    }
    pub fn header_all(&self, name: &str) -> Vec<String> {
        self.0.header_all(name)
    }
    pub fn set_header(&self, name: &str, value: &str) -> Result<(), String> {
        self.0.set_header(name, value)
    }
    pub fn add_header(&self, name: &str, value: &str) -> Result<(), String> {
        self.0.add_header(name, value)
    }
    pub fn remove_header(&self, name: &str) {
        self.0.remove_header(name)
    }
    pub fn headers(&self) -> Vec<(String, String)> {
        self.0.headers()
    }
    /// The body; the host reads a streamed body into memory first.
    pub fn body(&self) -> Result<Vec<u8>, String> {
        self.0.body()
    }
    pub fn set_body(&self, body: &[u8]) {
        self.0.set_body(body)
    }
}

/// A namespace's response.
pub struct Response(imp::Response);

impl Response {
    pub fn status(&self) -> u16 {
        self.0.status()
    }
    pub fn set_status(&self, status: u16) -> Result<(), String> {
        self.0.set_status(status)
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.0.header(name)
    }
    pub fn header_all(&self, name: &str) -> Vec<String> {
        self.0.header_all(name)
    }
    pub fn set_header(&self, name: &str, value: &str) -> Result<(), String> {
        self.0.set_header(name, value)
    }
    pub fn add_header(&self, name: &str, value: &str) -> Result<(), String> {
        self.0.add_header(name, value)
    }
    pub fn remove_header(&self, name: &str) {
        self.0.remove_header(name)
    }
    pub fn headers(&self) -> Vec<(String, String)> {
        self.0.headers()
    }
    pub fn body(&self) -> Result<Vec<u8>, String> {
        self.0.body()
    }
    pub fn set_body(&self, body: &[u8]) {
        self.0.set_body(body)
    }
}

/// A response built by a filter, for [`crate::Outcome::Respond`] or
/// [`Exchange::set_response`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl BuiltResponse {
    pub fn new(status: u16) -> BuiltResponse {
        BuiltResponse {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> BuiltResponse {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> BuiltResponse {
        self.body = body.into();
        self
    }

    pub(crate) fn into_imp(self) -> imp::BuiltResponse {
        imp::BuiltResponse {
            status: self.status,
            headers: self.headers,
            body: self.body,
        }
    }
}
