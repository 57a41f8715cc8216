//! From the core module `asc` writes to a `weir:filter` component: the handler's
//! functions get the export names the component model expects, the WIT is embedded
//! (strings UTF-16), and `wit-component` wraps the module, checking every import and
//! export against the WIT.

use crate::glue::exports;
use anyhow::{bail, Context, Result};
use std::collections::HashMap;
use std::path::Path;
use wasm_encoder::{ExportKind, ExportSection, Module, RawSection};
use wasmparser::{ExternalKind, Parser, Payload};
use wit_component::{ComponentEncoder, StringEncoding};
use wit_parser::Resolve;

/// Core exports a component needs besides the handler: the memory the canonical ABI
/// uses, its allocator, and the initialiser that runs top-level statements.
const KEPT: &[&str] = &["memory", "cabi_realloc", "_initialize"];

/// The component for the core module `core`, against world `world` of `wit_dir`.
pub fn componentize(core: &[u8], wit_dir: &Path, world: &str) -> Result<Vec<u8>> {
    let mut resolve = Resolve::default();
    let (package, _) = resolve
        .push_dir(wit_dir)
        .with_context(|| format!("reading the WIT in {}", wit_dir.display()))?;
    let world = resolve.select_world(&[package], Some(world))?;
    let renames: HashMap<String, String> = exports(&resolve, world)?
        .into_iter()
        .map(|(ident, export, _)| (ident, export))
        .collect();
    let mut module = rename_exports(core, &renames)?;
    wit_component::embed_component_metadata(&mut module, &resolve, world, StringEncoding::UTF16)?;
    ComponentEncoder::default()
        .validate(true)
        .module(&module)?
        .encode()
        .context("the module does not fit the weir:filter world")
}

/// Rewrites the export section: handler functions get their component names, the
/// [`KEPT`] exports stay, everything else (`asc` helpers) goes, since `wit-component`
/// refuses exports the world does not know.
fn rename_exports(core: &[u8], renames: &HashMap<String, String>) -> Result<Vec<u8>> {
    let mut module = Module::new();
    let mut found = 0;
    for payload in Parser::new(0).parse_all(core) {
        let payload = payload.context("the input is not a WebAssembly module")?;
        if let Payload::ExportSection(reader) = &payload {
            let mut section = ExportSection::new();
            for export in reader.clone() {
                let export = export?;
                let kind = match export.kind {
                    ExternalKind::Func => ExportKind::Func,
                    ExternalKind::Memory => ExportKind::Memory,
                    ExternalKind::Global => ExportKind::Global,
                    ExternalKind::Table => ExportKind::Table,
                    ExternalKind::Tag | ExternalKind::FuncExact => continue,
                };
                if let Some(name) = renames.get(export.name) {
                    found += 1;
                    section.export(name, kind, export.index);
                } else if KEPT.contains(&export.name) {
                    section.export(export.name, kind, export.index);
                }
            }
            module.section(&section);
        } else if let Some((id, range)) = payload.as_section() {
            // wasmparser gives file offsets as u64; the module is in memory, so they fit.
            let range = usize::try_from(range.start)?..usize::try_from(range.end)?;
            module.section(&RawSection { id, data: &core[range] });
        }
    }
    if found != renames.len() {
        let mut missing: Vec<_> = renames.keys().collect();
        missing.sort();
        bail!(
            "the module exports {found} of the handler's {} functions ({}): is `export * from \"@weir/filter-sdk/assembly/exports\"` in the entry file?",
            renames.len(),
            missing.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        );
    }
    Ok(module.finish())
}
