// Types of `@weir/filter-sdk/testing`: unit-test AssemblyScript filters in Node against
// an in-memory host of weir:filter@1.0.0. See the SDK's README.

export type Header = [name: string, value: string];
export type Body = string | Uint8Array;

/** Headers and a body. Names are kept in lower case and compared without case. */
declare class TestMessage {
  headers: Header[];
  body: Uint8Array;
  /** Adds a header (chainable); throws if weir would refuse it. */
  withHeader(name: string, value: string): this;
  /** Sets the body (chainable); a string is sent as UTF-8. */
  withBody(body: Body): this;
  /** The first value of a header, or null. */
  header(name: string): string | null;
  headerAll(name: string): string[];
  /** The body as UTF-8. */
  text(): string;
  json(): unknown;
}

export class TestRequest extends TestMessage {
  /** `target` is a path, maybe with a query: `/a?b=c`. */
  constructor(method?: string, target?: string);
  static get(target?: string): TestRequest;
  static post(target?: string): TestRequest;
  method: string;
  path: string;
  query: string | null;
  /** `path?query`. */
  readonly target: string;
  /** The `Host` header. */
  host(): string | null;
}

export class TestResponse extends TestMessage {
  constructor(status?: number);
  status: number;
}

/** The namespaces of one request, as a filter's step sees them. After a phase call
 *  they hold what the filter left there. */
export class TestExchange {
  /** `request` goes in `DEFAULT`; the step runs in `namespace` (default `DEFAULT`). */
  constructor(request: TestRequest, options?: { namespace?: string; clientAddr?: string });
  namespace: string;
  clientAddr: string;
  inNamespace(namespace: string): this;
  withRequestIn(namespace: string, request: TestRequest): this;
  /** Puts a response in the step's namespace, for `onResponse`. */
  withResponse(response: TestResponse): this;
  withResponseIn(namespace: string, response: TestResponse): this;
  withClientAddr(addr: string): this;
  request(): TestRequest | null;
  response(): TestResponse | null;
  requestOf(namespace: string): TestRequest | null;
  responseOf(namespace: string): TestResponse | null;
}

/** What a phase told the pipeline. */
export class Outcome {
  kind: "continue" | "result" | "respond";
  /** For `result`: its name. */
  result: string | null;
  /** For `respond`: the response the filter built. */
  response: TestResponse | null;
}

export type Level = "trace" | "debug" | "info" | "warn" | "error";
export interface LogLine {
  level: Level;
  message: string;
}

/** The machine's clocks; `sleep` blocks for real. The default. */
export class SystemClock {
  nowMillis(): bigint;
  monotonicNanos(): bigint;
  sleep(millis: number): void;
}

/** A clock that moves only when told, or when the filter sleeps (instantly). */
export class ManualClock {
  constructor(startMillis?: number);
  advance(millis: number): void;
  nowMillis(): bigint;
  monotonicNanos(): bigint;
  sleep(millis: number): void;
}

/** An outbound call as the filter made it. */
export class OutgoingRequest {
  method: string;
  url: string;
  headers: Header[];
  body: Uint8Array;
  timeoutMillis: number | null;
  header(name: string): string | null;
  text(): string;
}

export type HttpAnswer =
  | TestResponse
  | { status?: number; headers?: Header[]; body?: Body }
  | { error: string };

/** Shared counters (s64, as BigInt). */
export interface TestState {
  get(key: string): bigint | undefined;
  set(key: string, value: bigint | number, ttlMillis?: bigint | number | null): void;
  entries(): Record<string, bigint>;
  clear(): void;
}

/** The host services of one filter in one pipeline; instances loaded with the same
 *  host share its state, as in weir. */
export class TestHost {
  constructor(options?: {
    /** URL prefixes outbound calls may go to (none by default, as in weir). */
    allowedUrls?: string[];
    clock?: SystemClock | ManualClock;
    /** A seed for reproducible random numbers (default: node:crypto). */
    seed?: number | bigint | null;
  });
  allowedUrls: string[];
  clock: SystemClock | ManualClock;
  state: TestState;
  /** Every line logged, oldest first. */
  logs: LogLine[];
  /** Outbound calls that passed `allowedUrls` and reached the responder. */
  httpRequests: OutgoingRequest[];
  /** The lines logged since the last call; clears them. */
  takeLogs(): LogLine[];
  /** Answers outbound calls; without one, an allowed call fails with an error. */
  respondToHttp(respond: (request: OutgoingRequest) => HttpAnswer): void;
}

/** A loaded, initialised filter instance. */
export class TestFilter {
  /** The phases `init` declared; the others are not called, as in weir. */
  phases: { request: boolean; response: boolean };
  readonly host: TestHost;
  onRequest(exchange: TestExchange): Outcome;
  onResponse(exchange: TestExchange): Outcome;
}

/** `init` refused the config; `message` is the filter's. */
export class InitError extends Error {}

/** The filter trapped; weir would fail the request and drop the instance. */
export class FilterTrap extends Error {
  /** What the filter logged during the call (an abort's message among them). */
  logs: LogLine[];
}

/** A fault the component model traps on (a bad handle, invalid UTF-16, a limit). */
export class Trap extends Error {}

/**
 * Instantiates the core module `asc` wrote (`build/core.wasm`), runs its top level and
 * `init(config)`. Each call is a fresh instance with its own memory.
 */
export function loadFilter(
  wasm: string | URL | Uint8Array | ArrayBuffer | WebAssembly.Module,
  options?: { config?: unknown; host?: TestHost },
): Promise<TestFilter>;
