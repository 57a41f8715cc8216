//! The `header` block of the adaptors (`del`, `set`, `add`), turned once into the list
//! of edits applied to every request or response.

use serde::Deserialize;
use std::collections::BTreeMap;
use weir_sdk::HeaderEdit;

/// Header edits, applied in the order `del`, `set`, `add`, as Easegress's adaptors do.
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HeaderSpec {
    #[serde(default)]
    pub del: Vec<String>,
    #[serde(default)]
    pub set: BTreeMap<String, String>,
    #[serde(default)]
    pub add: BTreeMap<String, String>,
}

impl HeaderSpec {
    /// The edits in the order they apply. The adaptors build this in `new`, so a
    /// request costs one host call for all of its header edits.
    pub fn edits(&self) -> Vec<HeaderEdit> {
        let removals = self.del.iter().map(HeaderEdit::remove);
        let sets = self.set.iter().map(|(name, value)| HeaderEdit::set(name, value));
        let adds = self.add.iter().map(|(name, value)| HeaderEdit::add(name, value));
        removals.chain(sets).chain(adds).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_come_in_del_set_add_order() {
        let spec: HeaderSpec = serde_json::from_str(r#"{"add":{"X-A":"1"},"set":{"X-S":"2"},"del":["X-D"]}"#).unwrap();
        assert_eq!(
            spec.edits(),
            vec![
                HeaderEdit::remove("X-D"),
                HeaderEdit::set("X-S", "2"),
                HeaderEdit::add("X-A", "1")
            ]
        );
    }
}
