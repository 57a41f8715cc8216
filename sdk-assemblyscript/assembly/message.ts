// Handles to the request and response of a namespace, and the exchange that gives them
// out. The host owns the HTTP messages; every method is one call into the host, so read
// only what you need. Handles are valid during the phase call that produced them.

import * as abi from "./abi.generated";
import {
  RET, Header, strPtr, strLen, liftStringAt, liftOptionStringAt, liftBytesAt,
  liftStringsAt, liftHeadersAt, liftUnitResultAt, lowerHeaders,
} from "./canonical";

// Owned handles the host gave out during the current call. The phase glue drops them
// all when the call returns: AssemblyScript has no destructors, and a handle is dead
// after its call anyway.
const openRequests = new Array<i32>();
const openResponses = new Array<i32>();

/** Drops every handle opened during the call that is ending. */
export function dropOpenHandles(): void {
  for (let i = 0; i < openRequests.length; i++) abi.request_drop(openRequests[i]);
  for (let i = 0; i < openResponses.length; i++) abi.response_drop(openResponses[i]);
  openRequests.length = 0;
  openResponses.length = 0;
}

function requestFrom(at: usize): Request | null {
  if (load<u8>(at) == 0) return null;
  const handle = load<i32>(at, 4);
  openRequests.push(handle);
  return new Request(handle);
}

function responseFrom(at: usize): Response | null {
  if (load<u8>(at) == 0) return null;
  const handle = load<i32>(at, 4);
  openResponses.push(handle);
  return new Response(handle);
}

/** A response a filter builds from scratch, for `Outcome.respond` and
 *  `Exchange.setResponse`. */
export class BuiltResponse {
  headers: Header[] = [];
  body: Uint8Array = new Uint8Array(0);

  constructor(public status: u16) {}

  /** Adds a header (chainable). */
  header(name: string, value: string): BuiltResponse {
    this.headers.push(new Header(name, value));
    return this;
  }

  /** Sets the body to the UTF-8 of `text` (chainable). */
  text(text: string): BuiltResponse {
    this.body = Uint8Array.wrap(String.UTF8.encode(text));
    return this;
  }

  /** Sets the body (chainable). */
  bytes(body: Uint8Array): BuiltResponse {
    this.body = body;
    return this;
  }
}

/** Writes `response` as the canonical `built-response` record at `at` (20 bytes);
 *  `keep` holds the blocks the record points into until the host has read them. */
export function lowerBuiltResponse(response: BuiltResponse, at: usize, keep: ArrayBuffer[]): void {
  store<u16>(at, response.status);
  store<u32>(at, lowerHeaders(response.headers, keep), 4);
  store<u32>(at, response.headers.length, 8);
  store<u32>(at, response.body.dataStart, 12);
  store<u32>(at, response.body.length, 16);
}

/** One request's journey, as seen from a filter's step. Valid during one phase call. */
export class Exchange {
  constructor(readonly handle: i32) {}

  /** The request of this step's namespace. */
  request(): Request | null {
    abi.exchange_request(this.handle, RET as i32);
    return requestFrom(RET);
  }

  /** The response of this step's namespace, once there is one (in `onResponse`, or
   *  after a Proxy or builder step in the same namespace). */
  response(): Response | null {
    abi.exchange_response(this.handle, RET as i32);
    return responseFrom(RET);
  }

  /** The request of a named namespace (`DEFAULT` holds the client's). */
  requestOf(namespace: string): Request | null {
    abi.exchange_request_of(this.handle, strPtr(namespace), strLen(namespace), RET as i32);
    return requestFrom(RET);
  }

  /** The response of a named namespace. */
  responseOf(namespace: string): Response | null {
    abi.exchange_response_of(this.handle, strPtr(namespace), strLen(namespace), RET as i32);
    return responseFrom(RET);
  }

  /** Puts a response in this step's namespace and goes on with the flow. Returns null,
   *  or the host's reason for refusing. */
  setResponse(response: BuiltResponse): string | null {
    const keep = new Array<ArrayBuffer>();
    const headers = lowerHeaders(response.headers, keep);
    abi.exchange_set_response(
      this.handle, response.status, headers as i32, response.headers.length,
      response.body.dataStart as i32, response.body.length, RET as i32,
    );
    return liftUnitResultAt(RET);
  }

  /** The client's address, `ip:port`. */
  clientAddr(): string {
    abi.exchange_client_addr(this.handle, RET as i32);
    return liftStringAt(RET);
  }
}

/** A namespace's request. Setters return null, or the host's reason for refusing (an
 *  invalid header name, say). */
export class Request {
  constructor(readonly handle: i32) {}

  method(): string {
    abi.request_method(this.handle, RET as i32);
    return liftStringAt(RET);
  }
  setMethod(method: string): string | null {
    abi.request_set_method(this.handle, strPtr(method), strLen(method), RET as i32);
    return liftUnitResultAt(RET);
  }
  /** The path without the query: `/api/users`. */
  path(): string {
    abi.request_path(this.handle, RET as i32);
    return liftStringAt(RET);
  }
  setPath(path: string): string | null {
    abi.request_set_path(this.handle, strPtr(path), strLen(path), RET as i32);
    return liftUnitResultAt(RET);
  }
  /** The raw query without `?`, if there is one. */
  query(): string | null {
    abi.request_query(this.handle, RET as i32);
    return liftOptionStringAt(RET);
  }
  setQuery(query: string | null): string | null {
    if (query === null) {
      abi.request_set_query(this.handle, 0, 0, 0, RET as i32);
    } else {
      const q = changetype<string>(query);
      abi.request_set_query(this.handle, 1, strPtr(q), strLen(q), RET as i32);
    }
    return liftUnitResultAt(RET);
  }
  /** The host the client addressed. */
  host(): string | null {
    abi.request_host(this.handle, RET as i32);
    return liftOptionStringAt(RET);
  }
  setHost(host: string): string | null {
    abi.request_set_host(this.handle, strPtr(host), strLen(host), RET as i32);
    return liftUnitResultAt(RET);
  }
  /** The first value of a header (names are case-insensitive). */
  header(name: string): string | null {
    abi.request_header(this.handle, strPtr(name), strLen(name), RET as i32);
    return liftOptionStringAt(RET);
  }
  /** Every value of a header, in order. */
  headerAll(name: string): string[] {
    abi.request_header_all(this.handle, strPtr(name), strLen(name), RET as i32);
    return liftStringsAt(RET);
  }
  /** Replaces every value of a header with one. */
  setHeader(name: string, value: string): string | null {
    abi.request_set_header(this.handle, strPtr(name), strLen(name), strPtr(value), strLen(value), RET as i32);
    return liftUnitResultAt(RET);
  }
  /** Adds a value, keeping those already there. */
  addHeader(name: string, value: string): string | null {
    abi.request_add_header(this.handle, strPtr(name), strLen(name), strPtr(value), strLen(value), RET as i32);
    return liftUnitResultAt(RET);
  }
  removeHeader(name: string): void {
    abi.request_remove_header(this.handle, strPtr(name), strLen(name));
  }
  /** Every header, in order. */
  headers(): Header[] {
    abi.request_headers(this.handle, RET as i32);
    return liftHeadersAt(RET);
  }
  /** The body (a streamed body is buffered first). Null, with the reason logged by the
   *  host, if it could not be read; see `bodyError`. */
  body(): Uint8Array | null {
    abi.request_body(this.handle, RET as i32);
    if (load<u8>(RET) != 0) {
      lastBodyError = liftStringAt(RET + 4);
      return null;
    }
    return liftBytesAt(RET + 4);
  }
  /** The body as UTF-8 text. */
  text(): string | null {
    const body = this.body();
    return body === null ? null : String.UTF8.decode(body.buffer);
  }
  setBody(body: Uint8Array): void {
    abi.request_set_body(this.handle, body.dataStart as i32, body.length);
  }
  /** Sets the body to the UTF-8 of `text`. */
  setText(text: string): void {
    this.setBody(Uint8Array.wrap(String.UTF8.encode(text)));
  }
}

/** A namespace's response. */
export class Response {
  constructor(readonly handle: i32) {}

  status(): u16 {
    return abi.response_status(this.handle) as u16;
  }
  setStatus(status: u16): string | null {
    abi.response_set_status(this.handle, status, RET as i32);
    return liftUnitResultAt(RET);
  }
  header(name: string): string | null {
    abi.response_header(this.handle, strPtr(name), strLen(name), RET as i32);
    return liftOptionStringAt(RET);
  }
  headerAll(name: string): string[] {
    abi.response_header_all(this.handle, strPtr(name), strLen(name), RET as i32);
    return liftStringsAt(RET);
  }
  setHeader(name: string, value: string): string | null {
    abi.response_set_header(this.handle, strPtr(name), strLen(name), strPtr(value), strLen(value), RET as i32);
    return liftUnitResultAt(RET);
  }
  addHeader(name: string, value: string): string | null {
    abi.response_add_header(this.handle, strPtr(name), strLen(name), strPtr(value), strLen(value), RET as i32);
    return liftUnitResultAt(RET);
  }
  removeHeader(name: string): void {
    abi.response_remove_header(this.handle, strPtr(name), strLen(name));
  }
  headers(): Header[] {
    abi.response_headers(this.handle, RET as i32);
    return liftHeadersAt(RET);
  }
  body(): Uint8Array | null {
    abi.response_body(this.handle, RET as i32);
    if (load<u8>(RET) != 0) {
      lastBodyError = liftStringAt(RET + 4);
      return null;
    }
    return liftBytesAt(RET + 4);
  }
  text(): string | null {
    const body = this.body();
    return body === null ? null : String.UTF8.decode(body.buffer);
  }
  setBody(body: Uint8Array): void {
    abi.response_set_body(this.handle, body.dataStart as i32, body.length);
  }
  setText(text: string): void {
    this.setBody(Uint8Array.wrap(String.UTF8.encode(text)));
  }
}

let lastBodyError: string = "";

/** Why the last `body()` or `text()` returned null. */
export function bodyError(): string {
  return lastBodyError;
}
