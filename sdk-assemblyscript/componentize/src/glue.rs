//! Generates `sdk-assemblyscript/assembly/abi.generated.ts`: one `@external`
//! declaration per function and resource destructor the world imports, with the core
//! signature the canonical ABI gives it, and the names the handler exports must have.
//! The SDK's hand-written glue calls these, so a WIT change that alters a signature
//! breaks the generated file's check (a test) and then the SDK's compilation.

use crate::names::{function_ident, snake};
use anyhow::{Context, Result};
use std::fmt::Write;
use std::path::Path;
use wit_parser::abi::{AbiVariant, WasmType};
use wit_parser::{
    LiftLowerAbi, ManglingAndAbi, Resolve, ResourceIntrinsic, TypeDefKind, TypeOwner, WasmExport, WasmExportKind,
    WasmImport, WorldItem,
};

const MANGLING: ManglingAndAbi = ManglingAndAbi::Legacy(LiftLowerAbi::Sync);

/// The generated AssemblyScript for the world `world` of the WIT package in `wit_dir`.
pub fn generate(wit_dir: &Path, world: &str) -> Result<String> {
    let mut resolve = Resolve::default();
    let (package, _) = resolve
        .push_dir(wit_dir)
        .with_context(|| format!("reading the WIT in {}", wit_dir.display()))?;
    let world = resolve.select_world(&[package], Some(world))?;
    let mut out = format!(
        "// Generated from abi/wit/{} by `cargo run -p weir-componentize -- glue`. Do not\n\
         // edit: a test compares this file with the WIT.\n//\n\
         // Core signatures of the canonical ABI (strings are UTF-16: pointer and length in\n\
         // code units). A function whose results do not fit one core value takes a last\n\
         // pointer where the host writes them.\n",
        wit_dir.file_name().unwrap_or_default().to_string_lossy()
    );
    for (key, item) in &resolve.worlds[world].imports {
        let WorldItem::Interface { id, .. } = item else {
            continue;
        };
        let interface = &resolve.interfaces[*id];
        let name = interface.name.clone().unwrap_or_default();
        writeln!(out, "\n// {}", resolve.name_world_key(key))?;
        for func in interface.functions.values() {
            let (module, field) = resolve.wasm_import_name(
                MANGLING,
                WasmImport::Func {
                    interface: Some(key),
                    func,
                },
            );
            let signature = resolve.wasm_signature(AbiVariant::GuestImport, func);
            let params = signature
                .params
                .iter()
                .enumerate()
                .map(|(i, ty)| format!("p{i}: {}", as_type(ty)))
                .collect::<Vec<_>>()
                .join(", ");
            let result = match signature.results.as_slice() {
                [] => "void".to_string(),
                [one] => as_type(one).to_string(),
                more => anyhow::bail!("{}: {} core results", func.name, more.len()),
            };
            writeln!(
                out,
                "@external({module:?}, {field:?})\nexport declare function {}({params}): {result};",
                function_ident(&resolve, &name, func)
            )?;
        }
        for (type_name, ty) in &interface.types {
            if !matches!(resolve.types[*ty].kind, TypeDefKind::Resource)
                || resolve.types[*ty].owner != TypeOwner::Interface(*id)
            {
                continue;
            }
            let (module, field) = resolve.wasm_import_name(
                MANGLING,
                WasmImport::ResourceIntrinsic {
                    interface: Some(key),
                    resource: *ty,
                    intrinsic: ResourceIntrinsic::ImportedDrop,
                },
            );
            writeln!(
                out,
                "@external({module:?}, {field:?})\nexport declare function {}_drop(handle: i32): void;",
                snake(type_name)
            )?;
        }
    }
    writeln!(
        out,
        "\n// Exports: the SDK's `exports.ts` defines these (core name: component name), and\n\
         // weir-componentize renames them."
    )?;
    for (ident, export, signature) in exports(&resolve, world)? {
        writeln!(out, "// {ident}{signature}: {export}")?;
    }
    Ok(out)
}

/// The handler functions the world exports: core identifier, component export name and
/// core signature, as `(i32, i32) => i32`.
pub(crate) fn exports(resolve: &Resolve, world: wit_parser::WorldId) -> Result<Vec<(String, String, String)>> {
    let mut exports = Vec::new();
    for (key, item) in &resolve.worlds[world].exports {
        let WorldItem::Interface { id, .. } = item else {
            anyhow::bail!("the world exports {}, not an interface", resolve.name_world_key(key));
        };
        let name = resolve.interfaces[*id].name.clone().unwrap_or_default();
        for func in resolve.interfaces[*id].functions.values() {
            let export = resolve.wasm_export_name(
                MANGLING,
                WasmExport::Func {
                    interface: Some(key),
                    func,
                    kind: WasmExportKind::Normal,
                },
            );
            let signature = resolve.wasm_signature(AbiVariant::GuestExport, func);
            let params: Vec<_> = signature.params.iter().map(as_type).collect();
            let results: Vec<_> = signature.results.iter().map(as_type).collect();
            let signature = format!("({}) => {}", params.join(", "), results.join(", "));
            exports.push((function_ident(resolve, &name, func), export, signature));
        }
    }
    Ok(exports)
}

fn as_type(ty: &WasmType) -> &'static str {
    match ty {
        WasmType::I64 => "i64",
        WasmType::F32 => "f32",
        WasmType::F64 => "f64",
        // wasm32: pointers and lengths are 32 bits.
        WasmType::I32 | WasmType::Pointer | WasmType::Length => "i32",
        WasmType::PointerOrI64 => "i64",
    }
}
