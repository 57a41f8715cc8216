// Write Weir filters in AssemblyScript: extend `Filter`, `register` an instance, and
// re-export "./exports" from the entry file. Built by `asc` and `weir-componentize`
// into a component for `kind: Wasm`.

export { Filter, Config, Outcome, OutcomeKind, Phases } from "./filter";
export { Exchange, Request, Response, BuiltResponse, bodyError } from "./message";
export { Header } from "./canonical";
export { log, clock, random, state, http } from "./host";
export { JsonValue, JsonKind } from "./json";
export { register } from "./exports";
