//! Live pipelines by name. Routes hold a slot per backend name rather than a pipeline,
//! so a pipeline can be defined, replaced or removed without rebuilding any router, and
//! a route whose pipeline does not exist (yet) answers 503.

use crate::pipeline::Pipeline;
use arc_swap::ArcSwapOption;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The current version of one named pipeline, if any. Loading it is lock-free.
pub type PipelineSlot = Arc<ArcSwapOption<Pipeline>>;

#[derive(Default)]
pub struct PipelineRegistry {
    slots: Mutex<HashMap<String, PipelineSlot>>,
}

impl PipelineRegistry {
    /// The slot for `name`, created empty if nobody asked for it before.
    pub fn slot(&self, name: &str) -> PipelineSlot {
        let mut slots = self.slots.lock().expect("pipeline registry lock");
        slots.entry(name.to_string()).or_default().clone()
    }

    /// Makes `pipeline` the live version of its name. Requests already running on the
    /// previous version finish on it; it is dropped when the last one ends.
    pub fn publish(&self, pipeline: Arc<Pipeline>) {
        self.slot(pipeline.name()).store(Some(pipeline));
    }

    /// Removes the live version of `name`; routes to it answer 503 from now on.
    pub fn remove(&self, name: &str) {
        self.slot(name).store(None);
    }
}
