// Unit-test AssemblyScript filters in Node: load the core module `asc` wrote, run its
// init and phases against an in-memory host of weir:filter@1.0.0, and look at what it
// did. The counterpart of the Rust SDK's `weir_sdk::testing`; see the SDK's README.

export { loadFilter, TestFilter, Outcome, InitError, FilterTrap } from "./filter.mjs";
export { TestRequest, TestResponse, TestExchange } from "./messages.mjs";
export { TestHost, SystemClock, ManualClock, OutgoingRequest } from "./host.mjs";
export { Trap } from "./canonical.mjs";
