//! Write Weir filters in Rust (the guest SDK is filled in by the WASM filter work).
