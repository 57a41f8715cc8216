//! The generated host bindings for `weir:filter@1.3.0`. Components built against 1.0.0,
//! 1.1.0 and 1.2.0 link to them too: each later version only adds methods, a type or an
//! interface, and wasmtime matches imports and exports of semver-compatible versions.

wasmtime::component::bindgen!({
    path: "../abi/wit/filter@1.3.0",
    world: "filter",
    imports: {
        // Reading a body may wait for the client; an outbound call waits for the network.
        "weir:filter/types.[method]request.body": async | trappable,
        "weir:filter/types.[method]response.body": async | trappable,
        "weir:filter/http-client.call": async | trappable,
        "weir:filter/clock.sleep": async | trappable,
        // Every other import can trap: a handle used after its call ended is a guest bug.
        default: trappable,
    },
    exports: { default: async },
    with: {
        "weir:filter/types.exchange": super::handles::ExchangeHandle,
        "weir:filter/types.request": super::handles::RequestHandle,
        "weir:filter/types.response": super::handles::ResponseHandle,
    },
});
