//! The trait a filter implements, and what its phases return.

use crate::message::{BuiltResponse, Exchange};

/// A Weir filter.
///
/// Lifecycle: the host creates instances of the component as it needs them (a pool of
/// them, or one per request in isolated mode). In each instance [`Filter::new`] runs
/// once, before any request; then the phases run, one call at a time. Memory is not
/// shared between instances: keep anything that must count across requests in
/// [`crate::state`].
pub trait Filter: Sized + 'static {
    /// The phases this filter implements. The host skips the others, so a filter
    /// without a response phase costs nothing after the flow ends. Set it to
    /// [`Phases::BOTH`] when you implement [`Filter::on_response`].
    const PHASES: Phases = Phases::REQUEST;

    /// Builds the filter from its YAML `config:` (as JSON). An error rejects the
    /// pipeline, and the message is shown to the operator with the filter's name.
    fn new(config: Config) -> Result<Self, String>;

    /// Called when the flow reaches this filter's step, once per visit.
    fn on_request(&self, _exchange: &Exchange) -> Outcome {
        Outcome::Continue
    }

    /// Called after the flow has ended, in reverse order of the steps that ran. A
    /// [`Outcome::Result`] is ignored here (the flow is over); [`Outcome::Respond`]
    /// replaces the step's response.
    fn on_response(&self, _exchange: &Exchange) -> Outcome {
        Outcome::Continue
    }
}

/// Which phases a filter implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Phases {
    pub request: bool,
    pub response: bool,
}

impl Phases {
    pub const REQUEST: Phases = Phases {
        request: true,
        response: false,
    };
    pub const RESPONSE: Phases = Phases {
        request: false,
        response: true,
    };
    pub const BOTH: Phases = Phases {
        request: true,
        response: true,
    };
}

/// What a phase tells the pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Go on with the flow.
    Continue,
    /// A named result for the step's `jumpIf`. A result with no jump ends the flow.
    Result(String),
    /// Answer now with this response; the flow ends.
    Respond(BuiltResponse),
}

impl Outcome {
    pub fn result(name: impl Into<String>) -> Outcome {
        Outcome::Result(name.into())
    }
}

/// The filter's `config:` from the pipeline YAML, as JSON text (`null` when absent).
#[derive(Debug, Clone)]
pub struct Config(String);

impl Config {
    pub fn from_json(json: impl Into<String>) -> Config {
        Config(json.into())
    }

    /// The raw JSON.
    pub fn json(&self) -> &str {
        &self.0
    }

    /// Deserialises the config. A missing config (`null`) is read as an empty mapping,
    /// so a struct whose fields all have defaults needs no `config:` at all. The error
    /// is ready to return from [`Filter::new`].
    pub fn parse<T: serde::de::DeserializeOwned>(&self) -> Result<T, String> {
        let text = if self.0.trim() == "null" { "{}" } else { &self.0 };
        serde_json::from_str(text).map_err(|e| format!("bad config: {e}"))
    }
}
