//! Builds Weir filter components from AssemblyScript: generates the SDK's canonical-ABI
//! import declarations from the WIT ([`glue`]) and turns a core module into a component
//! ([`componentize`]).

mod component;
mod glue;
mod names;

pub use component::componentize;
pub use glue::generate as glue;
pub use names::{abi_dir, WORLD};
