//! Per-request state that flows through a pipeline: one request and one response slot per
//! namespace. Namespace `DEFAULT` (id 0) holds the client's request and, at the end, the
//! response sent back.

use crate::http::{Request, Response};
use std::net::SocketAddr;
use std::sync::Arc;

/// Index of a namespace, resolved from its name when the pipeline is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NamespaceId(pub usize);

impl NamespaceId {
    pub const DEFAULT: NamespaceId = NamespaceId(0);
}

#[derive(Debug, Default)]
struct Slot {
    request: Option<Request>,
    response: Option<Response>,
}

/// What a guard learns about the step it guards, set by the orchestrator around the
/// guard's own calls (see [`super::guard`]).
#[derive(Debug, Default)]
pub struct GuardCall {
    /// Which attempt at the guarded step this is, from 1 (0: not in a guard's call).
    pub attempt: u32,
    /// In `on_response`: the result the guarded step ended with (`""` is success).
    pub result: Option<String>,
    /// In `on_response`: how long the last attempt took.
    pub elapsed: Option<std::time::Duration>,
    /// Set by the guard in `on_request`: the guarded step must end within this.
    pub deadline: Option<std::time::Duration>,
}

/// What a filter sees of one request's journey.
#[derive(Debug)]
pub struct Context {
    client_addr: SocketAddr,
    /// Everything else, boxed: a WASM call moves the context into its instance's store
    /// and back, several moves per call, and a pointer moves for far less than the
    /// half-kilobyte of request and response heads. `None` only in the stand-in left
    /// in its place meanwhile ([`Context::stand_in`]).
    inner: Option<Box<Inner>>,
    /// Filled in only while a guard's phase runs.
    pub guard: GuardCall,
}

#[derive(Debug)]
struct Inner {
    /// Namespace DEFAULT; most pipelines use no other.
    default: Slot,
    /// Namespaces 1.. (`NamespaceId(i)` is `others[i - 1]`).
    others: Vec<Slot>,
    /// The pipeline's namespace names, index = [`NamespaceId`], so that filters can
    /// reach another namespace by name.
    names: Arc<[String]>,
    /// Values kept for the rest of the request (`.data.KEY` in templates), in the order
    /// first stored. A few keys at most, so a list beats a map.
    data: Vec<(String, String)>,
}

impl Context {
    /// A context for the pipeline namespaces `names` (in [`NamespaceId`] order; DEFAULT
    /// exists even when `names` is empty), with `request` in DEFAULT.
    pub fn new(request: Request, client_addr: SocketAddr, names: Arc<[String]>) -> Self {
        Context {
            client_addr,
            inner: Some(Box::new(Inner {
                default: Slot {
                    request: Some(request),
                    response: None,
                },
                others: (1..names.len()).map(|_| Slot::default()).collect(),
                names,
                data: Vec::new(),
            })),
            guard: GuardCall::default(),
        }
    }

    /// An empty context that holds the place of one moved away for a moment (into a
    /// WASM call); it has no namespaces, so nothing can be stored in it.
    pub fn stand_in(client_addr: SocketAddr) -> Self {
        Context {
            client_addr,
            inner: None,
            guard: GuardCall::default(),
        }
    }

    fn names(&self) -> &[String] {
        self.inner.as_deref().map_or(&[], |inner| &inner.names)
    }

    /// The namespace called `name`; `DEFAULT` always exists.
    pub fn namespace(&self, name: &str) -> Option<NamespaceId> {
        if name == crate::config::pipeline::DEFAULT_NAMESPACE {
            return Some(NamespaceId::DEFAULT);
        }
        self.names().iter().position(|n| n == name).map(NamespaceId)
    }

    /// The name of namespace `ns`.
    pub fn namespace_name(&self, ns: NamespaceId) -> &str {
        match self.names().get(ns.0) {
            Some(name) => name,
            None => crate::config::pipeline::DEFAULT_NAMESPACE,
        }
    }

    /// The value stored under `key` for this request.
    pub fn data(&self, key: &str) -> Option<&str> {
        self.all_data().iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// Stores `value` under `key` for the rest of this request.
    pub fn set_data(&mut self, key: String, value: String) {
        let Some(inner) = &mut self.inner else { return };
        match inner.data.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = value,
            None => inner.data.push((key, value)),
        }
    }

    /// Every stored value, in the order first stored.
    pub fn all_data(&self) -> &[(String, String)] {
        self.inner.as_deref().map_or(&[], |inner| &inner.data)
    }

    fn slot(&self, ns: NamespaceId) -> Option<&Slot> {
        let inner = self.inner.as_deref()?;
        match ns.0 {
            0 => Some(&inner.default),
            i => inner.others.get(i - 1),
        }
    }

    fn slot_mut(&mut self, ns: NamespaceId) -> Option<&mut Slot> {
        let inner = self.inner.as_deref_mut()?;
        match ns.0 {
            0 => Some(&mut inner.default),
            i => inner.others.get_mut(i - 1),
        }
    }

    /// The address of the client that sent the request.
    pub fn client_addr(&self) -> SocketAddr {
        self.client_addr
    }

    pub fn request(&self, ns: NamespaceId) -> Option<&Request> {
        self.slot(ns)?.request.as_ref()
    }

    pub fn request_mut(&mut self, ns: NamespaceId) -> Option<&mut Request> {
        self.slot_mut(ns)?.request.as_mut()
    }

    pub fn set_request(&mut self, ns: NamespaceId, request: Request) {
        if let Some(slot) = self.slot_mut(ns) {
            slot.request = Some(request);
        }
    }

    /// The response of `ns`, to look at its status and body. Its headers may still be
    /// a backend's unparsed lines (see `http/raw_headers.rs`): read them through
    /// `raw_headers::each_value` or [`Context::response_mut`].
    pub fn response(&self, ns: NamespaceId) -> Option<&Response> {
        self.slot(ns)?.response.as_ref()
    }

    /// The response of `ns`, with all its headers in its header map.
    pub fn response_mut(&mut self, ns: NamespaceId) -> Option<&mut Response> {
        let response = self.slot_mut(ns)?.response.as_mut()?;
        crate::http::raw_headers::into_map(response);
        Some(response)
    }

    /// Applies `edit` to the headers of `ns`'s response, if it has one, leaving a
    /// backend's kept lines unparsed where the edit allows (`raw_headers::edit`).
    pub fn edit_response_header(&mut self, ns: NamespaceId, edit: crate::http::raw_headers::LineEdit) {
        if let Some(response) = self.slot_mut(ns).and_then(|slot| slot.response.as_mut()) {
            crate::http::raw_headers::edit(response, edit);
        }
    }

    pub fn set_response(&mut self, ns: NamespaceId, response: Response) {
        if let Some(slot) = self.slot_mut(ns) {
            slot.response = Some(response);
        }
    }

    pub fn take_response(&mut self, ns: NamespaceId) -> Option<Response> {
        self.slot_mut(ns)?.response.take()
    }

    pub fn take_request(&mut self, ns: NamespaceId) -> Option<Request> {
        self.slot_mut(ns)?.request.take()
    }
}
