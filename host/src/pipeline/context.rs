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

/// What a filter sees of one request's journey.
#[derive(Debug)]
pub struct Context {
    client_addr: SocketAddr,
    slots: Vec<Slot>,
    /// The pipeline's namespace names, index = [`NamespaceId`], so that filters can
    /// reach another namespace by name.
    names: Arc<[String]>,
}

impl Context {
    /// A context for `namespace_count` namespaces, with `request` in DEFAULT.
    pub fn new(request: Request, client_addr: SocketAddr, namespace_count: usize) -> Self {
        let mut slots: Vec<Slot> = (0..namespace_count.max(1)).map(|_| Slot::default()).collect();
        slots[0].request = Some(request);
        Context {
            client_addr,
            slots,
            names: Arc::from([]),
        }
    }

    /// Names the namespaces (the pipeline's, in [`NamespaceId`] order).
    pub fn with_names(mut self, names: Arc<[String]>) -> Self {
        self.names = names;
        self
    }

    /// The namespace called `name`; `DEFAULT` always exists.
    pub fn namespace(&self, name: &str) -> Option<NamespaceId> {
        if name == crate::config::pipeline::DEFAULT_NAMESPACE {
            return Some(NamespaceId::DEFAULT);
        }
        self.names.iter().position(|n| n == name).map(NamespaceId)
    }

    /// The address of the client that sent the request.
    pub fn client_addr(&self) -> SocketAddr {
        self.client_addr
    }

    pub fn request(&self, ns: NamespaceId) -> Option<&Request> {
        self.slots.get(ns.0)?.request.as_ref()
    }

    pub fn request_mut(&mut self, ns: NamespaceId) -> Option<&mut Request> {
        self.slots.get_mut(ns.0)?.request.as_mut()
    }

    pub fn set_request(&mut self, ns: NamespaceId, request: Request) {
        if let Some(slot) = self.slots.get_mut(ns.0) {
            slot.request = Some(request);
        }
    }

    pub fn response(&self, ns: NamespaceId) -> Option<&Response> {
        self.slots.get(ns.0)?.response.as_ref()
    }

    pub fn response_mut(&mut self, ns: NamespaceId) -> Option<&mut Response> {
        self.slots.get_mut(ns.0)?.response.as_mut()
    }

    pub fn set_response(&mut self, ns: NamespaceId, response: Response) {
        if let Some(slot) = self.slots.get_mut(ns.0) {
            slot.response = Some(response);
        }
    }

    pub fn take_response(&mut self, ns: NamespaceId) -> Option<Response> {
        self.slots.get_mut(ns.0)?.response.take()
    }
}
