//! Idle initialised instances of one filter, reused across requests.

use super::instance::Instance;
use std::sync::Mutex;

/// Idle instances kept per filter. More may exist while requests run; past this, a
/// returned instance is dropped, freeing its pooled slot for other filters.
const MAX_IDLE: usize = 64;

pub struct InstancePool {
    idle: Mutex<Vec<Instance>>,
}

impl InstancePool {
    pub fn new() -> Self {
        InstancePool {
            idle: Mutex::new(Vec::new()),
        }
    }

    /// An idle instance, most recently used first (its memory is warm in cache).
    pub fn take(&self) -> Option<Instance> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop()
    }

    /// Returns a healthy instance after a call. Only instances whose call succeeded
    /// come back: a trapped one may be in any state.
    pub fn put(&self, instance: Instance) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(instance);
        }
    }
}
