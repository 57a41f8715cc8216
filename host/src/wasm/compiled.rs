//! Compiling components, off the request path, and caching them by content hash; and
//! telling which ABI version a component implements from its exports.

use super::bindings::FilterPre;
use super::engine::engine;
use super::never_waits::{self, NeverWaitsPre};
use super::store_state::HostState;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use wasmtime::component::{Component, HasSelf, Linker};

/// A component compiled and linked against the host, ready to instantiate.
pub struct Compiled {
    pub pre: FilterPre<HostState>,
    /// The same, linked for instances that promised never to wait (`never_waits.rs`).
    pub never_waits_pre: NeverWaitsPre<HostState>,
    pub abi: &'static str,
    /// SHA-256 of the component bytes, shown in the filter's status.
    pub sha256: [u8; 32],
}

/// Why a module cannot be used as a filter.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("not a valid WebAssembly component: {0}")]
    Invalid(String),
    #[error("the component exports `{found}`, an ABI version this host does not know (it knows {known})")]
    UnknownVersion { found: String, known: String },
    #[error("the component is not a Weir filter: it exports no `weir:filter/handler@…` (this host knows {known})")]
    NotAFilter { known: String },
    #[error("the component needs an import the host does not provide: {0}")]
    Link(String),
}

fn known_versions() -> String {
    weir_abi::VERSIONS
        .iter()
        .map(|v| weir_abi::handler_export(v))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The ABI version named by the component's `weir:filter/handler@…` export.
fn abi_version(component: &Component) -> Result<&'static str, LoadError> {
    let exports: Vec<String> = component
        .component_type()
        .exports(engine())
        .map(|(name, _)| name.to_string())
        .collect();
    for version in weir_abi::VERSIONS {
        if exports.contains(&weir_abi::handler_export(version)) {
            return Ok(version);
        }
    }
    match exports.into_iter().find(|e| e.starts_with("weir:filter/handler")) {
        Some(found) => Err(LoadError::UnknownVersion {
            found,
            known: known_versions(),
        }),
        None => Err(LoadError::NotAFilter {
            known: known_versions(),
        }),
    }
}

/// The linker every filter shares: WASI (with an empty context) and the Weir imports.
fn linker() -> &'static Linker<HostState> {
    static LINKER: OnceLock<Linker<HostState>> = OnceLock::new();
    LINKER.get_or_init(|| {
        let mut linker = Linker::new(engine());
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).expect("WASI links once");
        super::bindings::Filter::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |state| state)
            .expect("the Weir imports link once");
        linker
    })
}

/// The linker of instances that never wait: the one above, its waiting imports replaced.
fn never_waits_linker() -> &'static Linker<HostState> {
    static LINKER: OnceLock<Linker<HostState>> = OnceLock::new();
    LINKER.get_or_init(|| never_waits::linker(linker()).expect("the imports that never wait link once"))
}

/// Compiles `bytes` (or finds them compiled) and links them. Slow the first time for
/// a given content: call it only when building a pipeline.
pub fn load(bytes: &[u8]) -> Result<Arc<Compiled>, LoadError> {
    // Entries are weak: a module stays compiled while some filter uses it, or while it
    // is among the last few compiled (`keep_recent`).
    static CACHE: OnceLock<Mutex<HashMap<[u8; 32], Weak<Compiled>>>> = OnceLock::new();
    let hash: [u8; 32] = Sha256::digest(bytes).into();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(found) = cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&hash)
        .and_then(Weak::upgrade)
    {
        return Ok(found);
    }
    let component = super::compiler::compile(bytes)?;
    let abi = abi_version(&component)?;
    let instance_pre = linker()
        .instantiate_pre(&component)
        .map_err(|e| LoadError::Link(format!("{e:#}")))?;
    let pre = FilterPre::new(instance_pre).map_err(|e| LoadError::Link(format!("{e:#}")))?;
    let never_waits_pre = never_waits_linker()
        .instantiate_pre(&component)
        .and_then(NeverWaitsPre::new)
        .map_err(|e| LoadError::Link(format!("{e:#}")))?;
    let compiled = Arc::new(Compiled {
        pre,
        never_waits_pre,
        abi,
        sha256: hash,
    });
    let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
    cache.retain(|_, c| c.strong_count() > 0);
    cache.insert(hash, Arc::downgrade(&compiled));
    keep_recent(&compiled);
    Ok(compiled)
}

/// How many recently compiled modules stay compiled after no filter uses them.
const KEPT: usize = 8;

/// Keeps the last few compiled modules alive: a module rolled back, or swapped back and
/// forth, goes live without compiling again. Bounded, so old versions do not pile up.
fn keep_recent(compiled: &Arc<Compiled>) {
    static RECENT: OnceLock<Mutex<std::collections::VecDeque<Arc<Compiled>>>> = OnceLock::new();
    let mut recent = RECENT
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    recent.retain(|c| c.sha256 != compiled.sha256);
    recent.push_back(compiled.clone());
    if recent.len() > KEPT {
        recent.pop_front();
    }
}
