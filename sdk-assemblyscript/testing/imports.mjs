// The imports of weir:filter@1.0.0 at the core level, with the signatures
// `assembly/abi.generated.ts` declares (tests/harness.test.mjs checks that the two
// agree), served from a TestHost and the exchange of the running call.

import { GuestMemory, Trap } from "./canonical.mjs";
import { LEVELS, MAX_RANDOM_BYTES, MAX_SLEEP_MILLIS, OutgoingRequest } from "./host.mjs";
import { TestRequest, buildResponse, methodError, statusError } from "./messages.mjs";

/** One instance's side of the boundary: its memory, its handle table and the call it
 *  is in. */
export class Session {
  /** @type {GuestMemory} */
  memory = null;
  /** Handle → { kind, call, namespace }. Handles start at 1, as in wasmtime. */
  handles = new Map();
  nextHandle = 1;
  /** The running phase call: { id, exchange }, or null between calls. */
  call = null;
  calls = 0;

  constructor(host) {
    this.host = host;
  }

  bind(instance) {
    this.memory = new GuestMemory(instance);
  }

  /** Starts a phase call on `exchange`; returns the handle of its borrowed exchange. */
  begin(exchange) {
    this.call = { id: ++this.calls, exchange };
    return this.push("exchange", this.call.exchange.namespace);
  }

  /** Ends the call. Returns whether the guest gave back its borrow of the exchange,
   *  which the component model requires before an export returns. */
  end(exchangeHandle) {
    const returned = !this.handles.has(exchangeHandle);
    this.handles.delete(exchangeHandle);
    this.call = null;
    return returned;
  }

  push(kind, namespace) {
    const handle = this.nextHandle++;
    this.handles.set(handle, { kind, call: this.call.id, namespace });
    return handle;
  }

  entry(handle, kind) {
    const entry = this.handles.get(handle);
    if (entry === undefined) throw new Trap(`unknown ${kind} handle ${handle}`);
    if (entry.kind !== kind) throw new Trap(`handle ${handle} is a ${entry.kind}, used as a ${kind}`);
    if (this.call === null || entry.call !== this.call.id) {
      throw new Trap(`${kind} handle ${handle} used after the call that gave it out ended`);
    }
    return entry;
  }

  drop(handle, kind) {
    this.entry(handle, kind);
    this.handles.delete(handle);
  }

  request(handle) {
    const { namespace } = this.entry(handle, "request");
    const request = this.call.exchange.requestOf(namespace);
    if (request === null) throw new Trap("the namespace's request is gone");
    return request;
  }

  response(handle) {
    const { namespace } = this.entry(handle, "response");
    const response = this.call.exchange.responseOf(namespace);
    if (response === null) throw new Trap("the namespace's response is gone");
    return response;
  }

  /** Writes an `option<own<request>>` for the request of `namespace`. */
  giveRequest(namespace, ret) {
    const present = this.call.exchange.requestOf(namespace) !== null;
    this.memory.setU8(ret, present ? 1 : 0);
    if (present) this.memory.setI32(ret + 4, this.push("request", namespace));
  }

  giveResponse(namespace, ret) {
    const present = this.call.exchange.responseOf(namespace) !== null;
    this.memory.setU8(ret, present ? 1 : 0);
    if (present) this.memory.setI32(ret + 4, this.push("response", namespace));
  }
}

const ttl = (tag, millis) => (tag === 0 ? null : BigInt.asUintN(64, millis));

/** The import object for one instance. */
export function imports(session) {
  const host = session.host;
  const m = () => session.memory;
  const str = (ptr, units) => m().string(ptr >>> 0, units >>> 0);
  const exchangeOf = (handle) => {
    session.entry(handle, "exchange");
    return session.call.exchange;
  };

  // The methods requests and responses share.
  const message = (get) => ({
    header(h, p, l, ret) { m().writeOptionString(ret, get(h).header(str(p, l))); },
    headerAll(h, p, l, ret) { m().writeStrings(ret, get(h).headerAll(str(p, l))); },
    setHeader(h, np, nl, vp, vl, ret) { m().writeUnitResult(ret, get(h).setHeader(str(np, nl), str(vp, vl))); },
    addHeader(h, np, nl, vp, vl, ret) { m().writeUnitResult(ret, get(h).addHeader(str(np, nl), str(vp, vl))); },
    removeHeader(h, p, l) { get(h).removeHeader(str(p, l)); },
    headers(h, ret) { m().writeHeaders(ret, get(h).headers); },
    // Bodies are in memory here, so reading one cannot fail.
    body(h, ret) { m().setU8(ret, 0); m().writeBytes(ret + 4, get(h).body); },
    setBody(h, p, l) { get(h).setBody(m().bytes(p >>> 0, l >>> 0)); },
  });
  const request = message((h) => session.request(h));
  const response = message((h) => session.response(h));

  return {
    "weir:filter/log@1.0.0": {
      log(level, ptr, units) {
        host.logs.push({ level: LEVELS[level], message: str(ptr, units) });
      },
    },

    "weir:filter/clock@1.0.0": {
      "now-millis"() { return host.clock.nowMillis(); },
      "monotonic-nanos"() { return host.clock.monotonicNanos(); },
      sleep(millis) {
        const ms = millis >>> 0;
        if (ms > MAX_SLEEP_MILLIS) throw new Trap(`sleep of ${ms}ms asked for; the limit is ${MAX_SLEEP_MILLIS}ms`);
        host.clock.sleep(ms);
      },
    },

    "weir:filter/random@1.0.0": {
      "random-u64"() { return host.random.u64(); },
      "random-bytes"(len, ret) {
        const n = len >>> 0;
        if (n > MAX_RANDOM_BYTES) throw new Trap(`random-bytes asked for ${n} bytes; the limit is ${MAX_RANDOM_BYTES}`);
        m().writeBytes(ret, host.random.bytes(n));
      },
    },

    "weir:filter/state@1.0.0": {
      add(p, l, delta, ttlTag, ttlMillis) {
        return host.state.add(str(p, l), delta, ttl(ttlTag, ttlMillis));
      },
      get(p, l, ret) {
        const value = host.state.get(str(p, l));
        m().setU8(ret, value === undefined ? 0 : 1);
        if (value !== undefined) m().setI64(ret + 8, value);
      },
      "compare-and-swap"(p, l, expectedTag, expected, value, ttlTag, ttlMillis) {
        const swapped = host.state.compareAndSwap(str(p, l), expectedTag === 0 ? null : expected, value, ttl(ttlTag, ttlMillis));
        return swapped ? 1 : 0;
      },
      remove(p, l) { host.state.remove(str(p, l)); },
    },

    "weir:filter/types@1.0.0": {
      "[method]request.method"(h, ret) { m().writeString(ret, session.request(h).method); },
      "[method]request.set-method"(h, p, l, ret) {
        const method = str(p, l);
        const error = methodError(method);
        if (error === null) session.request(h).method = method;
        m().writeUnitResult(ret, error);
      },
      "[method]request.path"(h, ret) { m().writeString(ret, session.request(h).path); },
      "[method]request.set-path"(h, p, l, ret) {
        const path = str(p, l);
        const ok = path.startsWith("/") && !path.includes("?") && !/[\s\x00-\x1f\x7f]/.test(path);
        if (ok) session.request(h).path = path;
        m().writeUnitResult(ret, ok ? null : `path ${JSON.stringify(path)} must start with / and hold no query`);
      },
      "[method]request.query"(h, ret) { m().writeOptionString(ret, session.request(h).query); },
      "[method]request.set-query"(h, tag, p, l, ret) {
        session.request(h).query = tag === 0 ? null : str(p, l);
        m().writeUnitResult(ret, null);
      },
      "[method]request.host"(h, ret) { m().writeOptionString(ret, session.request(h).host()); },
      "[method]request.set-host"(h, p, l, ret) {
        const error = session.request(h).setHeader("host", str(p, l));
        m().writeUnitResult(ret, error === null ? null : `invalid host ${JSON.stringify(str(p, l))}`);
      },
      "[method]request.header": request.header,
      "[method]request.header-all": request.headerAll,
      "[method]request.set-header": request.setHeader,
      "[method]request.add-header": request.addHeader,
      "[method]request.remove-header": request.removeHeader,
      "[method]request.headers": request.headers,
      "[method]request.body": request.body,
      "[method]request.set-body": request.setBody,

      "[method]response.status"(h) { return session.response(h).status; },
      "[method]response.set-status"(h, status, ret) {
        const error = statusError(status);
        if (error === null) session.response(h).status = status;
        m().writeUnitResult(ret, error);
      },
      "[method]response.header": response.header,
      "[method]response.header-all": response.headerAll,
      "[method]response.set-header": response.setHeader,
      "[method]response.add-header": response.addHeader,
      "[method]response.remove-header": response.removeHeader,
      "[method]response.headers": response.headers,
      "[method]response.body": response.body,
      "[method]response.set-body": response.setBody,

      "[method]exchange.request"(h, ret) {
        const exchange = exchangeOf(h);
        // As in weir: a step in a namespace other than DEFAULT that has no request yet
        // gets an empty one to fill in (how a builder makes a request for a Proxy).
        if (exchange.namespace !== "DEFAULT" && exchange.request() === null) {
          exchange.withRequestIn(exchange.namespace, new TestRequest("GET", "/"));
        }
        session.giveRequest(exchange.namespace, ret);
      },
      "[method]exchange.response"(h, ret) { session.giveResponse(exchangeOf(h).namespace, ret); },
      "[method]exchange.request-of"(h, p, l, ret) { exchangeOf(h); session.giveRequest(str(p, l), ret); },
      "[method]exchange.response-of"(h, p, l, ret) { exchangeOf(h); session.giveResponse(str(p, l), ret); },
      "[method]exchange.set-response"(h, status, hp, hl, bp, bl, ret) {
        const exchange = exchangeOf(h);
        const built = buildResponse(status, m().headers(hp >>> 0, hl >>> 0), m().bytes(bp >>> 0, bl >>> 0));
        if (built.response) exchange.withResponse(built.response);
        m().writeUnitResult(ret, built.error ?? null);
      },
      "[method]exchange.client-addr"(h, ret) { m().writeString(ret, exchangeOf(h).clientAddr); },
      "[resource-drop]request"(h) { session.drop(h, "request"); },
      "[resource-drop]response"(h) { session.drop(h, "response"); },
      "[resource-drop]exchange"(h) { session.drop(h, "exchange"); },
    },

    "weir:filter/http-client@1.0.0": {
      call(mp, ml, up, ul, hp, hl, bp, bl, timeoutTag, timeoutMillis, ret) {
        const outgoing = new OutgoingRequest(
          str(mp, ml),
          str(up, ul),
          m().headers(hp >>> 0, hl >>> 0),
          m().bytes(bp >>> 0, bl >>> 0),
          timeoutTag === 0 ? null : timeoutMillis >>> 0,
        );
        const { response, error } = host.call(outgoing);
        const memory = m();
        if (response === undefined) {
          memory.setU8(ret, 1);
          memory.writeString(ret + 4, error);
          return;
        }
        memory.setU8(ret, 0);
        memory.setU16(ret + 4, response.status);
        memory.writeHeaders(ret + 8, response.headers);
        memory.writeBytes(ret + 16, response.body);
      },
    },
  };
}
