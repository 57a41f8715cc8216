//! The table of filter kinds a pipeline may use.

use super::filter::FilterKind;
use std::collections::HashMap;
use std::sync::Arc;

/// Filter kinds by their `kind:` name.
#[derive(Clone, Default)]
pub struct FilterKinds {
    kinds: HashMap<&'static str, Arc<dyn FilterKind>>,
}

impl FilterKinds {
    /// Every kind Weir ships.
    pub fn builtin() -> Self {
        let mut kinds = FilterKinds::default();
        kinds.add(Arc::new(crate::proxy::ProxyKind));
        kinds.add(Arc::new(crate::wasm::WasmKind));
        for builtin in crate::wasm::BUILTINS {
            kinds.add(Arc::new(crate::wasm::BuiltinKind(builtin)));
        }
        kinds
    }

    pub fn add(&mut self, kind: Arc<dyn FilterKind>) {
        self.kinds.insert(kind.name(), kind);
    }

    pub fn get(&self, name: &str) -> Option<&Arc<dyn FilterKind>> {
        self.kinds.get(name)
    }

    /// Known kind names, sorted, for error messages.
    pub fn names(&self) -> Vec<&'static str> {
        let mut names: Vec<_> = self.kinds.keys().copied().collect();
        names.sort_unstable();
        names
    }
}
