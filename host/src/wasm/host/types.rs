//! `weir:filter/types`: the exchange, request and response handles. Each method looks
//! the handle up, checks that its call is still running, and works on the request held
//! in the store for that call.

use crate::http::raw_headers::{self, LineEdit};
use crate::http::{Body, Request, Response};
use crate::pipeline::NamespaceId;
use crate::wasm::bindings::weir::filter::types::{
    BuiltResponse, HeaderEdit, Host, HostExchange, HostRequest, HostResponse,
};
use crate::wasm::handles::{ExchangeHandle, RequestHandle, ResponseHandle};
use crate::wasm::store_state::{ActiveCall, HostState};
use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue, HOST};
use http::uri::{PathAndQuery, Uri};
use wasmtime::component::Resource;

type Outcome<T> = wasmtime::Result<T>;

impl Host for HostState {}

/// A header name and value, checked. The value's string, already copied out of the
/// guest's memory, becomes the header value as it is rather than being copied again.
fn header_pair(name: &str, value: String) -> Result<(HeaderName, HeaderValue), String> {
    let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| format!("invalid header name {name:?}"))?;
    let value =
        HeaderValue::from_maybe_shared(Bytes::from(value)).map_err(|_| format!("invalid value for header {name}"))?;
    Ok((name, value))
}

fn header_text(value: &HeaderValue) -> String {
    String::from_utf8_lossy(value.as_bytes()).into_owned()
}

fn first(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).map(header_text)
}

fn all(headers: &HeaderMap, name: &str) -> Vec<String> {
    headers.get_all(name).iter().map(header_text).collect()
}

fn list(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(n, v)| (n.as_str().to_string(), header_text(v)))
        .collect()
}

/// One edit, checked. Removing a name that is not valid removes nothing: `Ok(None)`.
fn checked(edit: HeaderEdit) -> Result<Option<LineEdit>, String> {
    Ok(match edit {
        HeaderEdit::Set((name, value)) => header_pair(&name, value).map(|(n, v)| Some(LineEdit::Set(n, v)))?,
        HeaderEdit::Add((name, value)) => header_pair(&name, value).map(|(n, v)| Some(LineEdit::Add(n, v)))?,
        HeaderEdit::Remove(name) => HeaderName::from_bytes(name.as_bytes()).ok().map(LineEdit::Remove),
    })
}

fn set(headers: &mut HeaderMap, name: &str, value: String) -> Result<(), String> {
    let (name, value) = header_pair(name, value)?;
    LineEdit::Set(name, value).apply_to(headers);
    Ok(())
}

fn add(headers: &mut HeaderMap, name: &str, value: String) -> Result<(), String> {
    let (name, value) = header_pair(name, value)?;
    LineEdit::Add(name, value).apply_to(headers);
    Ok(())
}

fn remove(headers: &mut HeaderMap, name: &str) {
    if let Ok(name) = HeaderName::from_bytes(name.as_bytes()) {
        LineEdit::Remove(name).apply_to(headers);
    }
}

/// Checks each edit and hands it to `apply`, in order. A refused edit is skipped and
/// the rest still apply, so one bad value in an operator's YAML does not undo the
/// others; each refusal is reported.
fn apply_edits(edits: Vec<HeaderEdit>, mut apply: impl FnMut(LineEdit)) -> Vec<String> {
    let mut refused = Vec::new();
    for edit in edits {
        match checked(edit) {
            Ok(Some(edit)) => apply(edit),
            Ok(None) => {}
            Err(e) => refused.push(e),
        }
    }
    refused
}

/// The request of the call's namespace, for a step that works on it. In a namespace
/// other than `DEFAULT` that has none yet, the step gets a new empty one (`GET /`, no
/// headers, no body) to fill in: that is how a builder creates the request a later
/// Proxy in that namespace sends.
fn step_request(active: &mut ActiveCall) -> Option<&mut Request> {
    let namespace = active.namespace;
    if namespace != NamespaceId::DEFAULT && active.context.request(namespace).is_none() {
        active.context.set_request(namespace, Request::default());
    }
    active.context.request_mut(namespace)
}

/// Replaces the path and query of `uri`, keeping scheme and authority.
fn with_path_and_query(uri: &Uri, path_and_query: &str) -> Result<Uri, String> {
    let pq: PathAndQuery = path_and_query
        .parse()
        .map_err(|_| format!("invalid path or query {path_and_query:?}"))?;
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(pq);
    Uri::from_parts(parts).map_err(|e| e.to_string())
}

/// Builds the host response for a guest's `built-response`.
pub fn build_response(built: BuiltResponse) -> Result<Response, String> {
    let status = http::StatusCode::from_u16(built.status).map_err(|_| format!("invalid status {}", built.status))?;
    let mut response = http::Response::new(Body::from(Bytes::from(built.body)));
    *response.status_mut() = status;
    for (name, value) in built.headers {
        add(response.headers_mut(), &name, value)?;
    }
    Ok(response)
}

impl HostState {
    fn request_of(&mut self, handle: &Resource<RequestHandle>) -> Outcome<&mut Request> {
        let handle = *self.table.get(handle)?;
        let call = self.active(handle.call)?;
        // A handle is only given out for a request that exists, and guests cannot
        // remove one, so this holds; a trap beats a silent empty value if it breaks.
        call.context
            .request_mut(handle.namespace)
            .ok_or_else(|| wasmtime::format_err!("the namespace's request is gone"))
    }

    fn response_of(&mut self, handle: &Resource<ResponseHandle>) -> Outcome<&mut Response> {
        let handle = *self.table.get(handle)?;
        let call = self.active(handle.call)?;
        call.context
            .response_mut(handle.namespace)
            .ok_or_else(|| wasmtime::format_err!("the namespace's response is gone"))
    }

    /// Whether the handle's request body is in memory, so reading it cannot wait.
    pub(crate) fn request_body_in_memory(&mut self, handle: &Resource<RequestHandle>) -> Outcome<bool> {
        Ok(self.request_of(handle)?.body().as_bytes().is_some())
    }

    /// Whether the handle's response body is in memory, so reading it cannot wait.
    pub(crate) fn response_body_in_memory(&mut self, handle: &Resource<ResponseHandle>) -> Outcome<bool> {
        Ok(self.response_of(handle)?.body().as_bytes().is_some())
    }

    fn with_request<T>(
        &mut self,
        handle: &Resource<RequestHandle>,
        edit: impl FnOnce(&mut Request) -> T,
    ) -> Outcome<T> {
        Ok(edit(self.request_of(handle)?))
    }

    fn with_response<T>(
        &mut self,
        handle: &Resource<ResponseHandle>,
        edit: impl FnOnce(&mut Response) -> T,
    ) -> Outcome<T> {
        Ok(edit(self.response_of(handle)?))
    }

    /// The call in progress, which an `exchange` always stands for: the guest only ever
    /// borrows it, and a borrow cannot outlive its call.
    fn this_call(&mut self, exchange: &Resource<ExchangeHandle>) -> Outcome<&mut ActiveCall> {
        self.table.get(exchange)?;
        self.call
            .as_mut()
            .ok_or_else(|| wasmtime::format_err!("the exchange was used outside a phase call"))
    }

    fn request_handle(&mut self, call: u64, namespace: NamespaceId) -> Outcome<Option<Resource<RequestHandle>>> {
        if self.active(call)?.context.request(namespace).is_none() {
            return Ok(None);
        }
        Ok(Some(self.table.push(RequestHandle { call, namespace })?))
    }

    fn response_handle(&mut self, call: u64, namespace: NamespaceId) -> Outcome<Option<Resource<ResponseHandle>>> {
        if self.active(call)?.context.response(namespace).is_none() {
            return Ok(None);
        }
        Ok(Some(self.table.push(ResponseHandle { call, namespace })?))
    }
}

impl HostExchange for HostState {
    fn request(&mut self, this: Resource<ExchangeHandle>) -> Outcome<Option<Resource<RequestHandle>>> {
        let active = self.this_call(&this)?;
        let (call, namespace) = (active.id, active.namespace);
        step_request(active);
        self.request_handle(call, namespace)
    }

    fn response(&mut self, this: Resource<ExchangeHandle>) -> Outcome<Option<Resource<ResponseHandle>>> {
        let active = self.this_call(&this)?;
        let (call, namespace) = (active.id, active.namespace);
        self.response_handle(call, namespace)
    }

    fn request_of(
        &mut self,
        this: Resource<ExchangeHandle>,
        namespace: String,
    ) -> Outcome<Option<Resource<RequestHandle>>> {
        let active = self.this_call(&this)?;
        let call = active.id;
        match active.context.namespace(&namespace) {
            Some(ns) => self.request_handle(call, ns),
            None => Ok(None),
        }
    }

    fn response_of(
        &mut self,
        this: Resource<ExchangeHandle>,
        namespace: String,
    ) -> Outcome<Option<Resource<ResponseHandle>>> {
        let active = self.this_call(&this)?;
        let call = active.id;
        match active.context.namespace(&namespace) {
            Some(ns) => self.response_handle(call, ns),
            None => Ok(None),
        }
    }

    fn set_response(&mut self, this: Resource<ExchangeHandle>, response: BuiltResponse) -> Outcome<Result<(), String>> {
        let active = self.this_call(&this)?;
        let response = match build_response(response) {
            Ok(r) => r,
            Err(e) => return Ok(Err(e)),
        };
        active.context.set_response(active.namespace, response);
        Ok(Ok(()))
    }

    fn client_addr(&mut self, this: Resource<ExchangeHandle>) -> Outcome<String> {
        Ok(self.this_call(&this)?.context.client_addr().to_string())
    }

    fn namespace(&mut self, this: Resource<ExchangeHandle>) -> Outcome<String> {
        let active = self.this_call(&this)?;
        Ok(active.context.namespace_name(active.namespace).to_string())
    }

    fn data(&mut self, this: Resource<ExchangeHandle>, key: String) -> Outcome<Option<String>> {
        Ok(self.this_call(&this)?.context.data(&key).map(str::to_string))
    }

    fn set_data(&mut self, this: Resource<ExchangeHandle>, key: String, value: String) -> Outcome<()> {
        self.this_call(&this)?.context.set_data(key, value);
        Ok(())
    }

    fn data_all(&mut self, this: Resource<ExchangeHandle>) -> Outcome<Vec<(String, String)>> {
        Ok(self.this_call(&this)?.context.all_data().to_vec())
    }

    fn attempt(&mut self, this: Resource<ExchangeHandle>) -> Outcome<u32> {
        Ok(self.this_call(&this)?.context.guard.attempt.max(1))
    }

    fn guarded_result(&mut self, this: Resource<ExchangeHandle>) -> Outcome<Option<String>> {
        Ok(self.this_call(&this)?.context.guard.result.clone())
    }

    fn guarded_micros(&mut self, this: Resource<ExchangeHandle>) -> Outcome<Option<u64>> {
        let elapsed = self.this_call(&this)?.context.guard.elapsed;
        Ok(elapsed.map(|d| d.as_micros().min(u64::MAX as u128) as u64))
    }

    fn set_deadline(&mut self, this: Resource<ExchangeHandle>, millis: u32) -> Outcome<()> {
        let guard = &mut self.this_call(&this)?.context.guard;
        // Only a guard's on-request (attempt set, no result yet) sets a deadline.
        if guard.attempt > 0 && guard.result.is_none() {
            guard.deadline = Some(std::time::Duration::from_millis(millis.into()));
        }
        Ok(())
    }

    fn request_header_values(&mut self, this: Resource<ExchangeHandle>, name: String) -> Outcome<Option<Vec<String>>> {
        let active = self.this_call(&this)?;
        Ok(active
            .context
            .request(active.namespace)
            .map(|r| all(r.headers(), &name)))
    }

    fn request_method_path(&mut self, this: Resource<ExchangeHandle>) -> Outcome<Option<(String, String)>> {
        let active = self.this_call(&this)?;
        Ok(active
            .context
            .request(active.namespace)
            .map(|r| (r.method().as_str().to_string(), r.uri().path().to_string())))
    }

    fn edit_request_headers(&mut self, this: Resource<ExchangeHandle>, edits: Vec<HeaderEdit>) -> Outcome<Vec<String>> {
        let request = step_request(self.this_call(&this)?)
            .ok_or_else(|| wasmtime::format_err!("the client's request is gone"))?;
        let headers = request.headers_mut();
        Ok(apply_edits(edits, |edit| edit.apply_to(headers)))
    }

    fn response_header_values(&mut self, this: Resource<ExchangeHandle>, name: String) -> Outcome<Option<Vec<String>>> {
        let active = self.this_call(&this)?;
        let namespace = active.namespace;
        Ok(active.context.response(namespace).map(|response| {
            let mut values = Vec::new();
            raw_headers::each_value(response, &name, |value| {
                values.push(String::from_utf8_lossy(value).into_owned())
            });
            values
        }))
    }

    fn edit_response_headers(
        &mut self,
        this: Resource<ExchangeHandle>,
        edits: Vec<HeaderEdit>,
    ) -> Outcome<Option<Vec<String>>> {
        let active = self.this_call(&this)?;
        let namespace = active.namespace;
        let context = &mut active.context;
        if context.response(namespace).is_none() {
            return Ok(None);
        }
        Ok(Some(apply_edits(edits, |edit| {
            context.edit_response_header(namespace, edit)
        })))
    }

    fn drop(&mut self, this: Resource<ExchangeHandle>) -> Outcome<()> {
        self.table.delete(this)?;
        Ok(())
    }
}

impl HostRequest for HostState {
    fn method(&mut self, this: Resource<RequestHandle>) -> Outcome<String> {
        self.with_request(&this, |r| r.method().as_str().to_string())
    }

    fn set_method(&mut self, this: Resource<RequestHandle>, method: String) -> Outcome<Result<(), String>> {
        let Ok(method) = http::Method::from_bytes(method.as_bytes()) else {
            return Ok(Err(format!("invalid method {method:?}")));
        };
        self.with_request(&this, |r| {
            *r.method_mut() = method;
            Ok(())
        })
    }

    fn path(&mut self, this: Resource<RequestHandle>) -> Outcome<String> {
        self.with_request(&this, |r| r.uri().path().to_string())
    }

    fn set_path(&mut self, this: Resource<RequestHandle>, path: String) -> Outcome<Result<(), String>> {
        if !path.starts_with('/') || path.contains('?') {
            return Ok(Err(format!("path {path:?} must start with / and hold no query")));
        }
        self.with_request(&this, |r| {
            let target = match r.uri().query() {
                Some(q) => format!("{path}?{q}"),
                None => path,
            };
            *r.uri_mut() = with_path_and_query(r.uri(), &target)?;
            Ok(())
        })
    }

    fn query(&mut self, this: Resource<RequestHandle>) -> Outcome<Option<String>> {
        self.with_request(&this, |r| r.uri().query().map(str::to_string))
    }

    fn set_query(&mut self, this: Resource<RequestHandle>, query: Option<String>) -> Outcome<Result<(), String>> {
        self.with_request(&this, |r| {
            let target = match &query {
                Some(q) => format!("{}?{q}", r.uri().path()),
                None => r.uri().path().to_string(),
            };
            *r.uri_mut() = with_path_and_query(r.uri(), &target)?;
            Ok(())
        })
    }

    fn host(&mut self, this: Resource<RequestHandle>) -> Outcome<Option<String>> {
        self.with_request(&this, |r| {
            first(r.headers(), HOST.as_str()).or_else(|| r.uri().authority().map(|a| a.to_string()))
        })
    }

    fn set_host(&mut self, this: Resource<RequestHandle>, host: String) -> Outcome<Result<(), String>> {
        self.with_request(&this, |r| {
            let value = HeaderValue::from_str(&host).map_err(|_| format!("invalid host {host:?}"))?;
            if r.uri().authority().is_some() {
                let mut parts = r.uri().clone().into_parts();
                parts.authority = Some(host.parse().map_err(|_| format!("invalid host {host:?}"))?);
                *r.uri_mut() = Uri::from_parts(parts).map_err(|e| e.to_string())?;
            }
            r.headers_mut().insert(HOST, value);
            Ok(())
        })
    }

    fn header(&mut self, this: Resource<RequestHandle>, name: String) -> Outcome<Option<String>> {
        self.with_request(&this, |r| first(r.headers(), &name))
    }

    fn header_all(&mut self, this: Resource<RequestHandle>, name: String) -> Outcome<Vec<String>> {
        self.with_request(&this, |r| all(r.headers(), &name))
    }

    fn set_header(
        &mut self,
        this: Resource<RequestHandle>,
        name: String,
        value: String,
    ) -> Outcome<Result<(), String>> {
        self.with_request(&this, |r| set(r.headers_mut(), &name, value))
    }

    fn add_header(
        &mut self,
        this: Resource<RequestHandle>,
        name: String,
        value: String,
    ) -> Outcome<Result<(), String>> {
        self.with_request(&this, |r| add(r.headers_mut(), &name, value))
    }

    fn remove_header(&mut self, this: Resource<RequestHandle>, name: String) -> Outcome<()> {
        self.with_request(&this, |r| remove(r.headers_mut(), &name))
    }

    fn headers(&mut self, this: Resource<RequestHandle>) -> Outcome<Vec<(String, String)>> {
        self.with_request(&this, |r| list(r.headers()))
    }

    async fn body(&mut self, this: Resource<RequestHandle>) -> Outcome<Result<Vec<u8>, String>> {
        let started = std::time::Instant::now();
        let request = self.request_of(&this)?;
        let result = request
            .body_mut()
            .buffer()
            .await
            .map(|b| b.to_vec())
            .map_err(|e| e.to_string());
        self.waited += started.elapsed();
        Ok(result)
    }

    fn set_body(&mut self, this: Resource<RequestHandle>, body: Vec<u8>) -> Outcome<()> {
        self.with_request(&this, |r| {
            // The length changed: a stale Content-Length would corrupt the exchange.
            r.headers_mut().remove(http::header::CONTENT_LENGTH);
            *r.body_mut() = Body::from(Bytes::from(body));
        })
    }

    fn drop(&mut self, this: Resource<RequestHandle>) -> Outcome<()> {
        self.table.delete(this)?;
        Ok(())
    }
}

impl HostResponse for HostState {
    fn status(&mut self, this: Resource<ResponseHandle>) -> Outcome<u16> {
        self.with_response(&this, |r| r.status().as_u16())
    }

    fn set_status(&mut self, this: Resource<ResponseHandle>, status: u16) -> Outcome<Result<(), String>> {
        let Ok(status) = http::StatusCode::from_u16(status) else {
            return Ok(Err(format!("invalid status {status}")));
        };
        self.with_response(&this, |r| {
            *r.status_mut() = status;
            Ok(())
        })
    }

    fn header(&mut self, this: Resource<ResponseHandle>, name: String) -> Outcome<Option<String>> {
        self.with_response(&this, |r| first(r.headers(), &name))
    }

    fn header_all(&mut self, this: Resource<ResponseHandle>, name: String) -> Outcome<Vec<String>> {
        self.with_response(&this, |r| all(r.headers(), &name))
    }

    fn set_header(
        &mut self,
        this: Resource<ResponseHandle>,
        name: String,
        value: String,
    ) -> Outcome<Result<(), String>> {
        self.with_response(&this, |r| set(r.headers_mut(), &name, value))
    }

    fn add_header(
        &mut self,
        this: Resource<ResponseHandle>,
        name: String,
        value: String,
    ) -> Outcome<Result<(), String>> {
        self.with_response(&this, |r| add(r.headers_mut(), &name, value))
    }

    fn remove_header(&mut self, this: Resource<ResponseHandle>, name: String) -> Outcome<()> {
        self.with_response(&this, |r| remove(r.headers_mut(), &name))
    }

    fn headers(&mut self, this: Resource<ResponseHandle>) -> Outcome<Vec<(String, String)>> {
        self.with_response(&this, |r| list(r.headers()))
    }

    async fn body(&mut self, this: Resource<ResponseHandle>) -> Outcome<Result<Vec<u8>, String>> {
        let started = std::time::Instant::now();
        let response = self.response_of(&this)?;
        let result = response
            .body_mut()
            .buffer()
            .await
            .map(|b| b.to_vec())
            .map_err(|e| e.to_string());
        self.waited += started.elapsed();
        Ok(result)
    }

    fn set_body(&mut self, this: Resource<ResponseHandle>, body: Vec<u8>) -> Outcome<()> {
        self.with_response(&this, |r| {
            r.headers_mut().remove(http::header::CONTENT_LENGTH);
            *r.body_mut() = Body::from(Bytes::from(body));
        })
    }

    fn drop(&mut self, this: Resource<ResponseHandle>) -> Outcome<()> {
        self.table.delete(this)?;
        Ok(())
    }
}
