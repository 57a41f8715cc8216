// Services the host provides: logging, time, randomness, shared state and outbound
// HTTP.

import * as abi from "./abi.generated";
import { RET, Header, strPtr, strLen, liftBytesAt, liftStringAt, liftHeadersAt, lowerHeaders } from "./canonical";

/** Logging to the host's log, tagged with the pipeline and the filter. */
export namespace log {
  // The order of `enum level` in the WIT.
  export function trace(message: string): void { abi.log_log(0, strPtr(message), strLen(message)); }
  export function debug(message: string): void { abi.log_log(1, strPtr(message), strLen(message)); }
  export function info(message: string): void { abi.log_log(2, strPtr(message), strLen(message)); }
  export function warn(message: string): void { abi.log_log(3, strPtr(message), strLen(message)); }
  export function error(message: string): void { abi.log_log(4, strPtr(message), strLen(message)); }
}

/** The host's clocks. */
export namespace clock {
  /** Milliseconds since the Unix epoch. */
  export function nowMillis(): u64 { return abi.clock_now_millis() as u64; }
  /** A monotonic clock in nanoseconds, for measuring intervals. */
  export function monotonicNanos(): u64 { return abi.clock_monotonic_nanos() as u64; }
  /** Waits without holding a host thread (at most 5 minutes); waiting does not count
   *  against the filter's `timeout`. */
  export function sleep(millis: u32): void { abi.clock_sleep(millis); }
}

// Inside `random`, `u64` names the function below, so its type needs another name.
type Unsigned64 = u64;

/** Randomness from the host (not for keys or secrets). */
export namespace random {
  export function u64(): Unsigned64 { return abi.random_random_u64() as Unsigned64; }
  export function bytes(len: u32): Uint8Array {
    abi.random_random_bytes(len, RET as i32);
    return liftBytesAt(RET);
  }
}

/** Atomic counters shared by every instance of this filter in this pipeline, on every
 *  thread. Instance memory is not shared, so anything counted across requests lives
 *  here. `ttlMillis` (0: none) makes a key disappear that long after its last write. */
export namespace state {
  /** Adds `delta` to a counter (created at 0) and returns the new value. */
  export function add(key: string, delta: i64, ttlMillis: u64 = 0): i64 {
    return abi.state_add(strPtr(key), strLen(key), delta, ttlMillis != 0 ? 1 : 0, ttlMillis as i64);
  }
  /** Whether the counter exists. */
  export function has(key: string): bool {
    abi.state_get(strPtr(key), strLen(key), RET as i32);
    return load<u8>(RET) != 0;
  }
  /** The counter's value, or `absent` if it does not exist. */
  export function get(key: string, absent: i64 = 0): i64 {
    abi.state_get(strPtr(key), strLen(key), RET as i32);
    return load<u8>(RET) != 0 ? load<i64>(RET, 8) : absent;
  }
  /** Sets `key` to `value` if it holds `expected`; returns whether it did. */
  export function compareAndSwap(key: string, expected: i64, value: i64, ttlMillis: u64 = 0): bool {
    return abi.state_compare_and_swap(strPtr(key), strLen(key), 1, expected, value, ttlMillis != 0 ? 1 : 0, ttlMillis as i64) != 0;
  }
  /** Creates `key` at `value` if it does not exist; returns whether it did. */
  export function insertIfAbsent(key: string, value: i64, ttlMillis: u64 = 0): bool {
    return abi.state_compare_and_swap(strPtr(key), strLen(key), 0, 0, value, ttlMillis != 0 ? 1 : 0, ttlMillis as i64) != 0;
  }
  export function remove(key: string): void {
    abi.state_remove(strPtr(key), strLen(key));
  }
}

/** Outbound HTTP, limited to the URL prefixes in the filter's `allowedUrls`. */
export namespace http {
  export class OutgoingRequest {
    headers: Header[] = [];
    body: Uint8Array = new Uint8Array(0);
    /** 0: the host's own cap only. */
    timeoutMillis: u32 = 0;
    constructor(public method: string, public url: string) {}
  }

  export class IncomingResponse {
    constructor(public status: u16, public headers: Header[], public body: Uint8Array) {}
  }

  /** A response, or why there is none. */
  export class CallResult {
    constructor(public response: IncomingResponse | null, public error: string) {}
  }

  export function call(request: OutgoingRequest): CallResult {
    const keep = new Array<ArrayBuffer>();
    const headers = lowerHeaders(request.headers, keep);
    abi.http_client_call(
      strPtr(request.method), strLen(request.method), strPtr(request.url), strLen(request.url),
      headers as i32, request.headers.length, request.body.dataStart as i32, request.body.length,
      request.timeoutMillis != 0 ? 1 : 0, request.timeoutMillis, RET as i32,
    );
    if (load<u8>(RET) != 0) return new CallResult(null, liftStringAt(RET + 4));
    const status = load<u16>(RET, 4);
    const responseHeaders = liftHeadersAt(RET + 8);
    return new CallResult(new IncomingResponse(status, responseHeaders, liftBytesAt(RET + 16)), "");
  }
}
