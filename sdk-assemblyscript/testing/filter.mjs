// A compiled filter run as weir runs it: `_initialize`, `init(config)` once, then one
// phase call at a time, each given an exchange and returning an outcome.

import { readFile } from "node:fs/promises";
import { Trap } from "./canonical.mjs";
import { TestHost } from "./host.mjs";
import { Session, imports } from "./imports.mjs";
import { buildResponse } from "./messages.mjs";

/** What a phase told the pipeline. */
export class Outcome {
  /** @param {"continue" | "result" | "respond"} kind */
  constructor(kind, result = null, response = null) {
    this.kind = kind;
    /** The result's name, for `kind: "result"`. */
    this.result = result;
    /** The response, a TestResponse, for `kind: "respond"`. */
    this.response = response;
  }

  toString() {
    if (this.kind === "result") return `result(${this.result})`;
    if (this.kind === "respond") return `respond(${this.response.status})`;
    return this.kind;
  }
}

const CONTINUE = new Outcome("continue");

/** `init` returned an error: weir would refuse the pipeline with this message. */
export class InitError extends Error {
  constructor(message) {
    super(message);
    this.name = "InitError";
  }
}

/** The filter trapped (a failed assertion, an `abort`, a bad handle): weir would fail
 *  the request (500, or the flow goes on with `failurePolicy: open`) and throw the
 *  instance away. `logs` holds what it logged during the call, the abort message
 *  among them. */
export class FilterTrap extends Error {
  constructor(phase, cause, logs) {
    const said = logs.filter((l) => l.level === "error").map((l) => l.message);
    super(`the filter trapped in ${phase}: ${cause.message}${said.length ? ` (it logged: ${said.join("; ")})` : ""}`, { cause });
    this.name = "FilterTrap";
    this.logs = logs;
  }
}

// Compiled modules by path, so that many tests load a filter for the price of one
// compilation.
const compiled = new Map();

function compile(wasm) {
  if (wasm instanceof WebAssembly.Module) return checked(wasm, "the module");
  if (wasm instanceof ArrayBuffer) return fromBytes(new Uint8Array(wasm), "the module");
  if (wasm instanceof Uint8Array) return fromBytes(wasm, "the module");
  const key = wasm instanceof URL ? wasm.href : String(wasm);
  if (!compiled.has(key)) compiled.set(key, readFile(wasm).then((bytes) => fromBytes(bytes, key)));
  return compiled.get(key);
}

async function fromBytes(bytes, where) {
  // The preamble's layer field (bytes 6-7) is 1 in a component, 0 in a core module.
  if (bytes.length >= 8 && bytes[6] === 1) {
    throw new Error(`${where} is a component; the harness runs the core module \`asc\` writes (build/core.wasm), before weir-componentize`);
  }
  return checked(await WebAssembly.compile(bytes), where);
}

/** The module, once it is known to import nothing weir would not give it. */
function checked(module, where) {
  const provided = imports(new Session(null));
  for (const { module: from, name } of WebAssembly.Module.imports(module)) {
    if (typeof provided[from]?.[name] !== "function") {
      throw new Error(`${where} imports ${from} ${name}, which weir:filter@1.0.0 does not provide (is it built with --use abort=~lib/@weir/filter-sdk/assembly/abort/weirAbort?)`);
    }
  }
  return module;
}

export class TestFilter {
  #session;
  #exports;
  #broken = null;
  /** Which phases `init` declared: weir calls only those. */
  phases = { request: false, response: false };

  constructor(instance, session) {
    this.#session = session;
    this.#exports = instance.exports;
  }

  /** The host this instance imports from (its logs, state, clock, outbound calls). */
  get host() {
    return this.#session.host;
  }

  #guard(phase, run) {
    if (this.#broken !== null) {
      throw new Error(`this instance trapped before (${this.#broken.message}); weir would have replaced it: load a new one`);
    }
    const logged = this.#session.host.logs.length;
    try {
      return run();
    } catch (error) {
      if (!(error instanceof WebAssembly.RuntimeError) && !(error instanceof Trap)) throw error;
      this.#broken = new FilterTrap(phase, error, this.#session.host.logs.slice(logged));
      throw this.#broken;
    }
  }

  /** Runs `init` with `config` (any JSON value); throws InitError when it refuses. */
  init(config) {
    const json = JSON.stringify(config ?? null);
    const memory = this.#session.memory;
    // The config is a string the host lowers into the guest's memory, as weir does.
    const ret = this.#guard("init", () => this.#exports.handler_init(memory.lowerString(json), json.length) >>> 0);
    if (memory.u8(ret) !== 0) throw new InitError(memory.string(memory.u32(ret + 4), memory.u32(ret + 8)));
    const flags = memory.u8(ret + 4);
    this.phases = { request: (flags & 1) !== 0, response: (flags & 2) !== 0 };
  }

  /** Runs `onRequest` if the filter declared the request phase (as weir does). */
  onRequest(exchange) {
    return this.phases.request ? this.#phase("on-request", this.#exports.handler_on_request, exchange) : CONTINUE;
  }

  /** Runs `onResponse` if the filter declared the response phase (as weir does). */
  onResponse(exchange) {
    return this.phases.response ? this.#phase("on-response", this.#exports.handler_on_response, exchange) : CONTINUE;
  }

  #phase(name, handler, exchange) {
    const session = this.#session;
    const memory = session.memory;
    return this.#guard(name, () => {
      const handle = session.begin(exchange);
      let ret;
      try {
        ret = handler(handle) >>> 0;
      } finally {
        if (!session.end(handle) && ret !== undefined) {
          throw new Trap("the filter returned without dropping its borrow of the exchange");
        }
      }
      switch (memory.u8(ret)) {
        case 0:
          return CONTINUE;
        case 1:
          return new Outcome("result", memory.string(memory.u32(ret + 4), memory.u32(ret + 8)));
        case 2: {
          const built = buildResponse(
            memory.u16(ret + 4),
            memory.headers(memory.u32(ret + 8), memory.u32(ret + 12)),
            memory.bytes(memory.u32(ret + 16), memory.u32(ret + 20)),
          );
          if (built.error) throw new Trap(`the filter responded with a response weir refuses: ${built.error}`);
          return new Outcome("respond", null, built.response);
        }
        default:
          throw new Trap(`outcome tag ${memory.u8(ret)} is not in the WIT`);
      }
    });
  }
}

/**
 * Loads a filter's core module (`build/core.wasm`, what `asc` writes), runs its top
 * level and `init(config)`, and returns it ready for phase calls. Every call makes a
 * new instance, with memory of its own; instances given the same `host` share its
 * state, as instances of one filter do in weir.
 *
 * @param {string | URL | Uint8Array | WebAssembly.Module} wasm
 * @param {{ config?: unknown, host?: TestHost }} [options]
 * @returns {Promise<TestFilter>}
 */
export async function loadFilter(wasm, { config = null, host = new TestHost() } = {}) {
  const module = await compile(wasm);
  const session = new Session(host);
  const instance = await WebAssembly.instantiate(module, imports(session));
  session.bind(instance);
  const filter = new TestFilter(instance, session);
  if (typeof instance.exports._initialize === "function") {
    try {
      instance.exports._initialize();
    } catch (error) {
      throw new FilterTrap("the module's top level", error, host.logs);
    }
  }
  filter.init(config);
  return filter;
}
