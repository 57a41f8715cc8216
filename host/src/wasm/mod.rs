//! WebAssembly filters: the wasmtime engine, compiled components cached by content,
//! pools of initialised instances, deadlines and memory caps, the host side of the
//! `weir:filter` ABI, and the filter kinds backed by components.

mod bindings;
mod builtins;
mod compiled;
mod compiler;
mod engine;
mod epoch;
mod filter;
mod handles;
mod host;
mod http_policy;
mod instance;
mod instance_pool;
mod kind;
mod limits;
mod never_waits;
mod shared_state;
mod spec;
mod store_state;

pub use builtins::{Builtin, BUILTINS};
pub use compiled::LoadError;
pub use compiler::{
    child_main as compiler_child_main, this_program, use_child_process, SUBCOMMAND as COMPILER_SUBCOMMAND,
};
pub use engine::{perf_map_requested, PERF_MAP_VARIABLE};
pub use kind::{BuiltinKind, WasmKind};
pub use spec::{FailurePolicy, Isolation, DEFAULT_MAX_MEMORY, DEFAULT_TIMEOUT};
