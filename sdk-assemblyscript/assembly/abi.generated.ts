// Generated from abi/wit/filter@1.0.0 by `cargo run -p weir-componentize -- glue`. Do not
// edit: a test compares this file with the WIT.
//
// Core signatures of the canonical ABI (strings are UTF-16: pointer and length in
// code units). A function whose results do not fit one core value takes a last
// pointer where the host writes them.

// weir:filter/log@1.0.0
@external("weir:filter/log@1.0.0", "log")
export declare function log_log(p0: i32, p1: i32, p2: i32): void;

// weir:filter/clock@1.0.0
@external("weir:filter/clock@1.0.0", "now-millis")
export declare function clock_now_millis(): i64;
@external("weir:filter/clock@1.0.0", "monotonic-nanos")
export declare function clock_monotonic_nanos(): i64;
@external("weir:filter/clock@1.0.0", "sleep")
export declare function clock_sleep(p0: i32): void;

// weir:filter/random@1.0.0
@external("weir:filter/random@1.0.0", "random-u64")
export declare function random_random_u64(): i64;
@external("weir:filter/random@1.0.0", "random-bytes")
export declare function random_random_bytes(p0: i32, p1: i32): void;

// weir:filter/state@1.0.0
@external("weir:filter/state@1.0.0", "add")
export declare function state_add(p0: i32, p1: i32, p2: i64, p3: i32, p4: i64): i64;
@external("weir:filter/state@1.0.0", "get")
export declare function state_get(p0: i32, p1: i32, p2: i32): void;
@external("weir:filter/state@1.0.0", "compare-and-swap")
export declare function state_compare_and_swap(p0: i32, p1: i32, p2: i32, p3: i64, p4: i64, p5: i32, p6: i64): i32;
@external("weir:filter/state@1.0.0", "remove")
export declare function state_remove(p0: i32, p1: i32): void;

// weir:filter/types@1.0.0
@external("weir:filter/types@1.0.0", "[method]request.method")
export declare function request_method(p0: i32, p1: i32): void;
@external("weir:filter/types@1.0.0", "[method]request.set-method")
export declare function request_set_method(p0: i32, p1: i32, p2: i32, p3: i32): void;
@external("weir:filter/types@1.0.0", "[method]request.path")
export declare function request_path(p0: i32, p1: i32): void;
@external("weir:filter/types@1.0.0", "[method]request.set-path")
export declare function request_set_path(p0: i32, p1: i32, p2: i32, p3: i32): void;
@external("weir:filter/types@1.0.0", "[method]request.query")
export declare function request_query(p0: i32, p1: i32): void;
@external("weir:filter/types@1.0.0", "[method]request.set-query")
export declare function request_set_query(p0: i32, p1: i32, p2: i32, p3: i32, p4: i32): void;
@external("weir:filter/types@1.0.0", "[method]request.host")
export declare function request_host(p0: i32, p1: i32): void;
@external("weir:filter/types@1.0.0", "[method]request.set-host")
export declare function request_set_host(p0: i32, p1: i32, p2: i32, p3: i32): void;
@external("weir:filter/types@1.0.0", "[method]request.header")
export declare function request_header(p0: i32, p1: i32, p2: i32, p3: i32): void;
@external("weir:filter/types@1.0.0", "[method]request.header-all")
export declare function request_header_all(p0: i32, p1: i32, p2: i32, p3: i32): void;
@external("weir:filter/types@1.0.0", "[method]request.set-header")
export declare function request_set_header(p0: i32, p1: i32, p2: i32, p3: i32, p4: i32, p5: i32): void;
@external("weir:filter/types@1.0.0", "[method]request.add-header")
export declare function request_add_header(p0: i32, p1: i32, p2: i32, p3: i32, p4: i32, p5: i32): void;
@external("weir:filter/types@1.0.0", "[method]request.remove-header")
export declare function request_remove_header(p0: i32, p1: i32, p2: i32): void;
@external("weir:filter/types@1.0.0", "[method]request.headers")
export declare function request_headers(p0: i32, p1: i32): void;
@external("weir:filter/types@1.0.0", "[method]request.body")
export declare function request_body(p0: i32, p1: i32): void;
@external("weir:filter/types@1.0.0", "[method]request.set-body")
export declare function request_set_body(p0: i32, p1: i32, p2: i32): void;
@external("weir:filter/types@1.0.0", "[method]response.status")
export declare function response_status(p0: i32): i32;
@external("weir:filter/types@1.0.0", "[method]response.set-status")
export declare function response_set_status(p0: i32, p1: i32, p2: i32): void;
@external("weir:filter/types@1.0.0", "[method]response.header")
export declare function response_header(p0: i32, p1: i32, p2: i32, p3: i32): void;
@external("weir:filter/types@1.0.0", "[method]response.header-all")
export declare function response_header_all(p0: i32, p1: i32, p2: i32, p3: i32): void;
@external("weir:filter/types@1.0.0", "[method]response.set-header")
export declare function response_set_header(p0: i32, p1: i32, p2: i32, p3: i32, p4: i32, p5: i32): void;
@external("weir:filter/types@1.0.0", "[method]response.add-header")
export declare function response_add_header(p0: i32, p1: i32, p2: i32, p3: i32, p4: i32, p5: i32): void;
@external("weir:filter/types@1.0.0", "[method]response.remove-header")
export declare function response_remove_header(p0: i32, p1: i32, p2: i32): void;
@external("weir:filter/types@1.0.0", "[method]response.headers")
export declare function response_headers(p0: i32, p1: i32): void;
@external("weir:filter/types@1.0.0", "[method]response.body")
export declare function response_body(p0: i32, p1: i32): void;
@external("weir:filter/types@1.0.0", "[method]response.set-body")
export declare function response_set_body(p0: i32, p1: i32, p2: i32): void;
@external("weir:filter/types@1.0.0", "[method]exchange.request")
export declare function exchange_request(p0: i32, p1: i32): void;
@external("weir:filter/types@1.0.0", "[method]exchange.response")
export declare function exchange_response(p0: i32, p1: i32): void;
@external("weir:filter/types@1.0.0", "[method]exchange.request-of")
export declare function exchange_request_of(p0: i32, p1: i32, p2: i32, p3: i32): void;
@external("weir:filter/types@1.0.0", "[method]exchange.response-of")
export declare function exchange_response_of(p0: i32, p1: i32, p2: i32, p3: i32): void;
@external("weir:filter/types@1.0.0", "[method]exchange.set-response")
export declare function exchange_set_response(p0: i32, p1: i32, p2: i32, p3: i32, p4: i32, p5: i32, p6: i32): void;
@external("weir:filter/types@1.0.0", "[method]exchange.client-addr")
export declare function exchange_client_addr(p0: i32, p1: i32): void;
@external("weir:filter/types@1.0.0", "[resource-drop]request")
export declare function request_drop(handle: i32): void;
@external("weir:filter/types@1.0.0", "[resource-drop]response")
export declare function response_drop(handle: i32): void;
@external("weir:filter/types@1.0.0", "[resource-drop]exchange")
export declare function exchange_drop(handle: i32): void;

// weir:filter/http-client@1.0.0
@external("weir:filter/http-client@1.0.0", "call")
export declare function http_client_call(p0: i32, p1: i32, p2: i32, p3: i32, p4: i32, p5: i32, p6: i32, p7: i32, p8: i32, p9: i32, p10: i32): void;

// Exports: the SDK's `exports.ts` defines these (core name: component name), and
// weir-componentize renames them.
// handler_init(i32, i32) => i32: weir:filter/handler@1.0.0#init
// handler_on_request(i32) => i32: weir:filter/handler@1.0.0#on-request
// handler_on_response(i32) => i32: weir:filter/handler@1.0.0#on-response
