//! Where the WIT lives and how WIT names become AssemblyScript identifiers.

use std::path::PathBuf;
use wit_parser::{Function, FunctionKind, Resolve};

/// The world every filter implements.
pub const WORLD: &str = "filter";

/// The WIT folder of the ABI version the SDK targets, found from this crate's source
/// (the SDK and the ABI live in one repository).
pub fn abi_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../abi/wit/filter@1.0.0")
}

pub(crate) fn snake(name: &str) -> String {
    name.replace('-', "_")
}

/// `log` + `log` → `log_log`; `[method]request.set-header` → `request_set_header`:
/// the identifier of a WIT function in the generated glue and in the core exports.
pub(crate) fn function_ident(resolve: &Resolve, interface: &str, func: &Function) -> String {
    let owner = match func.kind {
        FunctionKind::Method(ty)
        | FunctionKind::Static(ty)
        | FunctionKind::Constructor(ty)
        | FunctionKind::AsyncMethod(ty)
        | FunctionKind::AsyncStatic(ty) => resolve.types[ty].name.clone().unwrap_or_default(),
        FunctionKind::Freestanding | FunctionKind::AsyncFreestanding => interface.to_string(),
    };
    format!("{}_{}", snake(&owner), snake(func.item_name()))
}
