//! Where the Weir filter WIT packages live, and which versions exist.

use std::path::{Path, PathBuf};

/// The newest ABI version: what new filters should target.
pub const CURRENT: &str = "1.3.0";

/// Every released ABI version, oldest first. A released version is never edited; the
/// host serves all of them.
pub const VERSIONS: &[&str] = &["1.0.0", "1.1.0", "1.2.0", "1.3.0"];

/// The name of the interface a filter of ABI `version` exports, e.g.
/// `weir:filter/handler@1.0.0`. The host reads the version from this export.
pub fn handler_export(version: &str) -> String {
    format!("weir:filter/handler@{version}")
}

/// The folder holding every WIT package (`filter@1.0.0/`, …).
pub fn wit_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("wit")
}

/// The folder of one version's WIT package.
pub fn wit_dir(version: &str) -> PathBuf {
    wit_root().join(format!("filter@{version}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_version_has_its_wit_folder() {
        for version in VERSIONS {
            let world = wit_dir(version).join("world.wit");
            let text = std::fs::read_to_string(&world).unwrap();
            assert!(
                text.contains(&format!("package weir:filter@{version};")),
                "{} does not declare its version",
                world.display()
            );
        }
        assert_eq!(VERSIONS.last(), Some(&CURRENT));
    }
}
