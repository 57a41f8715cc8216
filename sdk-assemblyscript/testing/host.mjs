// The host services a filter imports (log, clock, random, state, http-client), in
// memory. One TestHost stands for one filter in one pipeline: every instance loaded
// with it shares its counters, as instances share them in weir.

import { randomBytes } from "node:crypto";
import { TestResponse } from "./messages.mjs";

/** The order of the WIT's `enum level`. */
export const LEVELS = ["trace", "debug", "info", "warn", "error"];

/** The longest one `sleep` may wait, and the most one `random-bytes` call returns:
 *  weir's limits; past them the call traps. */
export const MAX_SLEEP_MILLIS = 5 * 60 * 1000;
export const MAX_RANDOM_BYTES = 64 * 1024;

/** The machine's clocks; `sleep` really blocks. */
export class SystemClock {
  nowMillis() { return BigInt(Date.now()); }
  monotonicNanos() { return process.hrtime.bigint(); }
  sleep(millis) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, millis);
  }
}

/** A clock that moves only when told (or when the filter sleeps), for tests of TTLs
 *  and time windows that should not wait. */
export class ManualClock {
  #millis;
  #nanos = 0n;

  constructor(startMillis = Date.now()) {
    this.#millis = BigInt(startMillis);
  }

  /** Moves both clocks forward. */
  advance(millis) {
    this.#millis += BigInt(millis);
    this.#nanos += BigInt(millis) * 1_000_000n;
  }

  nowMillis() { return this.#millis; }
  monotonicNanos() { return this.#nanos; }
  sleep(millis) { this.advance(millis); }
}

/** Random numbers from node:crypto, or from a seed (xorshift64*) for tests that want
 *  the same numbers on every run. */
export class TestRandom {
  #seed;

  constructor(seed = null) {
    this.#seed = seed === null ? null : BigInt.asUintN(64, BigInt(seed)) || 1n;
  }

  u64() {
    if (this.#seed === null) return randomBytes(8).readBigUInt64LE();
    let x = this.#seed;
    x ^= x >> 12n;
    x = BigInt.asUintN(64, x ^ (x << 25n));
    x ^= x >> 27n;
    this.#seed = x;
    return BigInt.asUintN(64, x * 0x2545f4914f6cdd1dn);
  }

  bytes(len) {
    if (this.#seed === null) return new Uint8Array(randomBytes(len));
    return Uint8Array.from({ length: len }, () => Number(this.u64() & 0xffn));
  }
}

/** Shared counters: signed 64-bit values (BigInt), each with an optional expiry. */
export class TestState {
  /** @type {Map<string, {value: bigint, expires: bigint | null}>} */
  #counters = new Map();

  /** @param {() => bigint} now the host's monotonic clock, in nanoseconds */
  constructor(now) {
    this.now = now;
  }

  #expiry(ttlMillis) {
    return ttlMillis === null ? null : this.now() + BigInt(ttlMillis) * 1_000_000n;
  }

  #live(key) {
    const entry = this.#counters.get(key);
    if (entry === undefined) return null;
    if (entry.expires !== null && entry.expires <= this.now()) {
      this.#counters.delete(key);
      return null;
    }
    return entry.value;
  }

  /** The value of a counter, or undefined. */
  get(key) {
    return this.#live(key) ?? undefined;
  }

  /** Sets a counter, as if the filter had written it (`ttlMillis`: null for none). */
  set(key, value, ttlMillis = null) {
    this.#counters.set(key, { value: BigInt.asIntN(64, BigInt(value)), expires: this.#expiry(ttlMillis) });
  }

  /** Every live counter, as a plain object of BigInts. */
  entries() {
    const out = {};
    for (const key of [...this.#counters.keys()]) {
      const value = this.#live(key);
      if (value !== null) out[key] = value;
    }
    return out;
  }

  clear() { this.#counters.clear(); }

  // The WIT's operations.

  add(key, delta, ttlMillis) {
    const value = BigInt.asIntN(64, (this.#live(key) ?? 0n) + delta);
    this.set(key, value, ttlMillis);
    return value;
  }

  compareAndSwap(key, expected, value, ttlMillis) {
    if (this.#live(key) !== expected) return false;
    this.set(key, value, ttlMillis);
    return true;
  }

  remove(key) { this.#counters.delete(key); }
}

/** An outbound call as the filter made it. */
export class OutgoingRequest {
  constructor(method, url, headers, body, timeoutMillis) {
    this.method = method;
    this.url = url;
    /** @type {[string, string][]} */
    this.headers = headers;
    this.body = body;
    /** @type {number | null} */
    this.timeoutMillis = timeoutMillis;
  }

  header(name) {
    const found = this.headers.find(([n]) => n.toLowerCase() === name.toLowerCase());
    return found === undefined ? null : found[1];
  }

  text() { return new TextDecoder().decode(this.body); }
}

export class TestHost {
  /** Log lines, oldest first: `{ level: "info", message }`. */
  logs = [];
  /** Outbound calls that got past `allowedUrls` (refused ones never leave the filter). */
  httpRequests = [];
  #responder = null;

  /**
   * @param {object} [options]
   * @param {string[]} [options.allowedUrls] URL prefixes outbound calls may go to, as the
   *   filter's `allowedUrls` (none by default, as in weir)
   * @param {SystemClock | ManualClock} [options.clock]
   * @param {number | bigint | null} [options.seed] a seed for reproducible randomness
   */
  constructor({ allowedUrls = [], clock = new SystemClock(), seed = null } = {}) {
    this.allowedUrls = allowedUrls;
    this.clock = clock;
    this.random = new TestRandom(seed);
    this.state = new TestState(() => this.clock.monotonicNanos());
  }

  /** The log lines written since the last call, oldest first; clears them. */
  takeLogs() {
    return this.logs.splice(0);
  }

  /**
   * Answers the filter's outbound calls (those `allowedUrls` lets through). `respond`
   * gets an OutgoingRequest and returns a TestResponse (or `{status, headers, body}`),
   * or `{ error: "..." }` for a call that fails.
   */
  respondToHttp(respond) {
    this.#responder = respond;
  }

  /** What the filter's `http.call` returns: `{ response }` or `{ error }`. */
  call(request) {
    if (!this.allowedUrls.some((prefix) => request.url.startsWith(prefix))) {
      return { error: `${request.url} is not in this filter's allowedUrls; outbound calls go only there` };
    }
    this.httpRequests.push(request);
    if (this.#responder === null) {
      return { error: `${request.url}: the test set no responder (TestHost.respondToHttp)` };
    }
    const answer = this.#responder(request);
    if (answer && typeof answer.error === "string") return { error: answer.error };
    if (answer instanceof TestResponse) return { response: answer };
    const response = new TestResponse(answer?.status ?? 200);
    for (const [name, value] of answer?.headers ?? []) response.withHeader(name, value);
    if (answer?.body !== undefined) response.withBody(answer.body);
    return { response };
  }
}
