// The component's exports: the handler functions (weir-componentize gives them their
// component names) and the canonical ABI's allocator. A filter's entry file re-exports
// this module: `export * from "@weir/filter-sdk/assembly/exports";`.

import * as abi from "./abi.generated";
import { liftString } from "./canonical";
import { weirAbort } from "./abort";
import { Filter, Config, Outcome, OutcomeKind } from "./filter";
import { BuiltResponse, Exchange, dropOpenHandles, lowerBuiltResponse } from "./message";

export { cabi_realloc } from "./canonical";

let registered: Filter | null = null;

/** Makes `filter` this component's filter. Call it once, at the top level of the
 *  entry file. */
export function register(filter: Filter): void {
  registered = filter;
}

// What the host reads a phase's return value from. `keep` and `returned` hold the
// managed objects the return area points into until the next call, which is after the
// host has read them (so no post-return function is needed).
const RETURN: usize = memory.data(24, 4);
let keep = new Array<ArrayBuffer>();
let returned: Outcome | null = null;
let initError: string = "";

function filter(): Filter {
  if (registered === null) {
    // A filter that forgot `register` fails loudly at init, naming the fix.
    weirAbort("no filter registered: call register(new MyFilter()) in the entry file", null, 0, 0);
  }
  return changetype<Filter>(registered);
}

export function handler_init(ptr: i32, len: i32): i32 {
  const config = new Config(liftString(ptr, len));
  const error = filter().init(config);
  if (error !== null) {
    initError = changetype<string>(error);
    store<u8>(RETURN, 1);
    store<u32>(RETURN, changetype<usize>(initError), 4);
    store<u32>(RETURN, initError.length, 8);
  } else {
    store<u8>(RETURN, 0);
    store<u8>(RETURN, filter().phases() as u8, 4);
  }
  return RETURN as i32;
}

function finish(handle: i32, outcome: Outcome): i32 {
  dropOpenHandles();
  // The borrow of the exchange ends with the call; the component model wants it
  // given back before returning.
  abi.exchange_drop(handle);
  returned = outcome;
  keep = new Array<ArrayBuffer>();
  store<u8>(RETURN, outcome.kind as u8);
  if (outcome.kind == OutcomeKind.Result) {
    store<u32>(RETURN, changetype<usize>(outcome.result), 4);
    store<u32>(RETURN, outcome.result.length, 8);
  } else if (outcome.kind == OutcomeKind.Respond) {
    lowerBuiltResponse(changetype<BuiltResponse>(outcome.response), RETURN + 4, keep);
  }
  return RETURN as i32;
}

export function handler_on_request(handle: i32): i32 {
  return finish(handle, filter().onRequest(new Exchange(handle)));
}

export function handler_on_response(handle: i32): i32 {
  return finish(handle, filter().onResponse(new Exchange(handle)));
}
