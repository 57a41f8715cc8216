// Requests, responses and exchanges held in memory, checked as weir checks them, so a
// test fails where production would.

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// An HTTP token (RFC 9110): what a header name or a method may be made of.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Why weir refuses this header, or null. */
export function headerError(name, value) {
  if (!TOKEN.test(name)) return `invalid header name ${JSON.stringify(name)}`;
  // Any byte but controls (tab is fine) and DEL; UTF-8 above ASCII passes, as in weir.
  for (const b of encoder.encode(value)) {
    if ((b < 0x20 && b !== 0x09) || b === 0x7f) return `invalid value for header ${name.toLowerCase()}`;
  }
  return null;
}

/** Why weir refuses this method, or null. */
export function methodError(method) {
  return TOKEN.test(method) ? null : `invalid method ${JSON.stringify(method)}`;
}

/** Why weir refuses this status, or null. */
export function statusError(status) {
  return status >= 100 && status <= 999 ? null : `invalid status ${status}`;
}

function asBytes(body) {
  if (typeof body === "string") return encoder.encode(body);
  if (body instanceof Uint8Array) return body.slice();
  throw new TypeError("a body is a string or a Uint8Array");
}

/** Headers and a body: what requests and responses share. Names are kept in lower
 *  case and compared without case, as in weir. */
class TestMessage {
  /** @type {[string, string][]} */
  headers = [];
  body = new Uint8Array(0);

  /** Adds a header (chainable), checked as weir checks it. */
  withHeader(name, value) {
    const error = this.addHeader(name, value);
    if (error !== null) throw new Error(error);
    return this;
  }

  /** Sets the body (chainable): a string is sent as UTF-8. */
  withBody(body) {
    this.body = asBytes(body);
    return this;
  }

  /** The first value of a header, or null. */
  header(name) {
    const key = name.toLowerCase();
    const found = this.headers.find(([n]) => n === key);
    return found === undefined ? null : found[1];
  }

  /** Every value of a header, in order. */
  headerAll(name) {
    const key = name.toLowerCase();
    return this.headers.filter(([n]) => n === key).map(([, v]) => v);
  }

  /** The body as UTF-8 text. */
  text() {
    return decoder.decode(this.body);
  }

  /** The body parsed as JSON. */
  json() {
    return JSON.parse(this.text());
  }

  // What the host functions do; each returns null or the reason for refusing.

  /** Replaces every value of a header with one, where the first one was. */
  setHeader(name, value) {
    const error = headerError(name, value);
    if (error !== null) return error;
    const key = name.toLowerCase();
    const at = this.headers.findIndex(([n]) => n === key);
    if (at < 0) {
      this.headers.push([key, value]);
    } else {
      this.headers = this.headers.filter(([n], i) => n !== key || i === at);
      this.headers[at] = [key, value];
    }
    return null;
  }

  addHeader(name, value) {
    const error = headerError(name, value);
    if (error !== null) return error;
    this.headers.push([name.toLowerCase(), value]);
    return null;
  }

  removeHeader(name) {
    const key = name.toLowerCase();
    this.headers = this.headers.filter(([n]) => n !== key);
  }

  /** A new body drops the Content-Length that described the old one (weir, and the
   *  Proxy after it, frame the new body themselves). */
  setBody(bytes) {
    this.body = bytes;
    this.removeHeader("content-length");
  }
}

/** A request to give a filter, and to inspect after it ran. */
export class TestRequest extends TestMessage {
  /** @param {string} method @param {string} target a path, maybe with a query: `/a?b=c` */
  constructor(method = "GET", target = "/") {
    super();
    const q = target.indexOf("?");
    this.method = method;
    this.path = q < 0 ? target : target.slice(0, q);
    /** @type {string | null} */
    this.query = q < 0 ? null : target.slice(q + 1);
  }

  static get(target = "/") { return new TestRequest("GET", target); }
  static post(target = "/") { return new TestRequest("POST", target); }

  /** The `Host` header, as the filter's `host()` reads it. */
  host() {
    return this.header("host");
  }

  /** `path?query`, as a server would see it. */
  get target() {
    return this.query === null ? this.path : `${this.path}?${this.query}`;
  }
}

/** A response to put in a namespace (for `onResponse`), or the one a filter built. */
export class TestResponse extends TestMessage {
  constructor(status = 200) {
    super();
    this.status = status;
  }
}

/** The namespaces of one request, as a filter's step sees them. */
export class TestExchange {
  /** @type {Map<string, {request: TestRequest | null, response: TestResponse | null}>} */
  slots = new Map();

  /**
   * An exchange with `request` in `DEFAULT`, for a step in `DEFAULT`.
   * @param {TestRequest} request
   */
  constructor(request, { namespace = "DEFAULT", clientAddr = "127.0.0.1:40000" } = {}) {
    this.slots.set("DEFAULT", { request, response: null });
    this.namespace = namespace;
    this.clientAddr = clientAddr;
  }

  #slot(namespace) {
    if (!this.slots.has(namespace)) this.slots.set(namespace, { request: null, response: null });
    return this.slots.get(namespace);
  }

  /** Moves the step to another namespace (chainable). */
  inNamespace(namespace) {
    this.namespace = namespace;
    this.#slot(namespace);
    return this;
  }

  /** Puts a request in a namespace (chainable). */
  withRequestIn(namespace, request) {
    this.#slot(namespace).request = request;
    return this;
  }

  /** Puts a response in the step's namespace (chainable). */
  withResponse(response) {
    return this.withResponseIn(this.namespace, response);
  }

  withResponseIn(namespace, response) {
    this.#slot(namespace).response = response;
    return this;
  }

  withClientAddr(addr) {
    this.clientAddr = addr;
    return this;
  }

  /** The step's request (after the filter ran: as the filter left it), or null. */
  request() { return this.requestOf(this.namespace); }
  /** The step's response, or null. */
  response() { return this.responseOf(this.namespace); }
  requestOf(namespace) { return this.slots.get(namespace)?.request ?? null; }
  responseOf(namespace) { return this.slots.get(namespace)?.response ?? null; }
}

/** The response a `built-response` record describes, or the error weir gives for it. */
export function buildResponse(status, headers, body) {
  const error = statusError(status);
  if (error !== null) return { error };
  const response = new TestResponse(status);
  for (const [name, value] of headers) {
    const refused = response.addHeader(name, value);
    if (refused !== null) return { error: refused };
  }
  response.body = body;
  return { response };
}
