//! The SDK's generated glue is the glue the WIT gives today: a WIT change that the
//! checked-in `assembly/abi.generated.ts` does not follow fails here.

use std::path::Path;
use weir_componentize::{abi_dir, glue, WORLD};

fn checked_in() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../assembly/abi.generated.ts");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_checked_in_glue_matches_the_wit() {
    let generated = glue(&abi_dir(), WORLD).unwrap();
    assert!(
        generated == checked_in(),
        "sdk-assemblyscript/assembly/abi.generated.ts is stale: regenerate it with \
         `cargo run -p weir-componentize -- glue > sdk-assemblyscript/assembly/abi.generated.ts` \
         and fix the SDK where it no longer compiles"
    );
}

/// The check above has teeth: a changed signature in a copy of the WIT yields
/// different glue.
#[test]
fn a_changed_wit_signature_changes_the_glue() {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(abi_dir()).unwrap() {
        let entry = entry.unwrap();
        let mut text = std::fs::read_to_string(entry.path()).unwrap();
        text = text.replace(
            "add: func(key: string, delta: s64, ttl-millis: option<u64>) -> s64;",
            "add: func(key: string, delta: s32, ttl-millis: option<u64>) -> s64;",
        );
        std::fs::write(dir.path().join(entry.file_name()), text).unwrap();
    }
    let changed = glue(dir.path(), WORLD).unwrap();
    assert_ne!(changed, checked_in());
    assert!(changed.contains("state_add(p0: i32, p1: i32, p2: i32, p3: i32, p4: i64): i64"));
}
