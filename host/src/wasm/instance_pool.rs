//! Idle initialised instances of one filter, reused across requests.
//!
//! Instances are boxed: one moves out of the pool and back on every call, and a box
//! moves as a pointer, where the instance itself is near 200 bytes copied each way.

use super::instance::Instance;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Mutex;

/// Idle instances kept per filter. More may exist while requests run; past this, a
/// returned instance is dropped, freeing its pooled slot for other filters.
const MAX_IDLE: usize = 64;

pub struct InstancePool {
    // Boxed on purpose (see above): the Vec is on the heap, but taking an instance out
    // of it moves the instance, and it is the move that costs.
    #[allow(clippy::vec_box)]
    idle: Mutex<Vec<Box<Instance>>>,
    /// `idle.len()`, readable without the lock (for the metrics).
    count: AtomicUsize,
}

impl InstancePool {
    pub fn new() -> Self {
        InstancePool {
            idle: Mutex::new(Vec::new()),
            count: AtomicUsize::new(0),
        }
    }

    /// An idle instance, most recently used first (its memory is warm in cache).
    pub fn take(&self) -> Option<Box<Instance>> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        let taken = idle.pop();
        self.count.store(idle.len(), Relaxed);
        taken
    }

    /// Returns a healthy instance after a call. Only instances whose call succeeded
    /// come back: a trapped one may be in any state.
    pub fn put(&self, instance: Box<Instance>) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(instance);
        }
        self.count.store(idle.len(), Relaxed);
    }

    /// How many instances are idle.
    pub fn idle(&self) -> usize {
        self.count.load(Relaxed)
    }
}
