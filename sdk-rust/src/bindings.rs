//! The generated guest bindings for `weir:filter@1.3.0`. Filter authors use the types in
//! the crate root instead; these are public for the export macro.

wit_bindgen::generate!({
    path: "../abi/wit/filter@1.3.0",
    world: "filter",
    pub_export_macro: true,
    export_macro_name: "__export_filter_world",
    default_bindings_module: "weir_sdk::bindings",
    runtime_path: "weir_sdk::__private::wit_bindgen::rt",
    bitflags_path: "weir_sdk::__private::wit_bindgen::rt::bitflags",
});
