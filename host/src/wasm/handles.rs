//! What the guest's `exchange`, `request` and `response` handles stand for on the host:
//! a namespace of the request being handled, tagged with the call that gave them out.

use crate::pipeline::NamespaceId;

/// The `exchange`: the call in progress. An instance has one, which every phase call
/// lends the guest; a borrow cannot outlive its call, so it needs no call id.
#[derive(Debug, Clone, Copy)]
pub struct ExchangeHandle;

/// A namespace's request, as of one call.
#[derive(Debug, Clone, Copy)]
pub struct RequestHandle {
    pub call: u64,
    pub namespace: NamespaceId,
}

/// A namespace's response, as of one call.
#[derive(Debug, Clone, Copy)]
pub struct ResponseHandle {
    pub call: u64,
    pub namespace: NamespaceId,
}
