// The test harness (testing/) against real compiled filters: the fixtures that the
// end-to-end tests load into weir (tests/tests/assemblyscript_imports.rs makes the same
// assertions there), built by `npm run fixtures`.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import {
  FilterTrap, ManualClock, TestExchange, TestHost, TestRequest, TestResponse, loadFilter,
} from "../testing/index.mjs";
import { Session, imports } from "../testing/imports.mjs";

const HOST_IMPORTS = new URL("../build/host-imports.core.wasm", import.meta.url);
const SET_HEADER = new URL("../build/set-header.core.wasm", import.meta.url);
const LITERAL = "ünïcødé ✓ 🦀";
const TEXT = "zoë – 東京 🦀";

/** Runs the host-imports probe on a request with `headers`; returns the response it
 *  built and the host. */
async function probe(headers, host = new TestHost()) {
  const filter = await loadFilter(HOST_IMPORTS, { host });
  const request = TestRequest.get("/probe");
  for (const [name, value] of Object.entries(headers)) request.withHeader(name, value);
  const outcome = filter.onRequest(new TestExchange(request));
  assert.equal(outcome.kind, "respond");
  return { response: outcome.response, host };
}

test("the harness provides exactly the imports the generated glue declares, with their arity", async () => {
  const glue = await readFile(new URL("../assembly/abi.generated.ts", import.meta.url), "utf8");
  const declared = [...glue.matchAll(/@external\("([^"]+)", "([^"]+)"\)\nexport declare function \w+\(([^)]*)\)/g)]
    .map(([, module, name, params]) => `${module} ${name} ${params === "" ? 0 : params.split(",").length}`);
  const provided = Object.entries(imports(new Session(null)))
    .flatMap(([module, functions]) => Object.entries(functions).map(([name, f]) => `${module} ${name} ${f.length}`));
  assert.ok(declared.length > 40, "the glue was read");
  assert.deepEqual(provided.sort(), declared.sort());
});

test("log lines are captured with their level, non-ASCII intact through headers and the log", async () => {
  const { response, host } = await probe({ "x-probe-log": TEXT });
  assert.equal(response.status, 200);
  assert.equal(response.header("x-probe-echo"), TEXT);
  assert.equal(response.header("x-probe-literal"), LITERAL);
  assert.deepEqual(host.takeLogs(), [
    { level: "info", message: `probe literal: ${LITERAL}` },
    { level: "warn", message: `probe log: ${TEXT}` },
  ]);
  assert.deepEqual(host.logs, [], "takeLogs clears them");
});

test("the system clock tells real time and sleep waits", async () => {
  const before = BigInt(Date.now());
  const started = process.hrtime.bigint();
  const { response, host } = await probe({ "x-probe-sleep-ms": "60" });
  const elapsed = process.hrtime.bigint() - started;
  const after = BigInt(Date.now());
  const now = BigInt(response.header("x-now-millis"));
  assert.ok(before <= now && now <= after, `${before} <= ${now} <= ${after}`);
  const slept = BigInt(response.header("x-monotonic-after")) - BigInt(response.header("x-monotonic-before"));
  assert.ok(slept >= 60_000_000n, `slept ${slept}ns`);
  assert.ok(elapsed >= 60_000_000n, `took ${elapsed}ns`);

  const { response: second } = await probe({}, host);
  assert.ok(BigInt(second.header("x-monotonic-before")) > BigInt(response.header("x-monotonic-after")));
});

test("a manual clock moves only when told, and a sleep advances it instead of waiting", async () => {
  const clock = new ManualClock(1_700_000_000_000);
  const host = new TestHost({ clock });
  const { response } = await probe({ "x-probe-sleep-ms": "250000" }, host);
  assert.equal(response.header("x-now-millis"), "1700000000000");
  assert.equal(BigInt(response.header("x-monotonic-after")) - BigInt(response.header("x-monotonic-before")), 250_000_000_000n);
  clock.advance(5);
  const { response: later } = await probe({}, host);
  assert.equal(later.header("x-now-millis"), "1700000250005");
});

test("random values differ, random bytes have the asked length, a seed repeats them", async () => {
  const { response } = await probe({ "x-probe-random-bytes": "32" });
  assert.notEqual(response.header("x-random-u64-1"), response.header("x-random-u64-2"));
  assert.equal(response.header("x-random-bytes-1").length, 64);
  assert.notEqual(response.header("x-random-bytes-1"), response.header("x-random-bytes-2"));
  const { response: none } = await probe({ "x-probe-random-bytes": "0" });
  assert.equal(none.header("x-random-bytes-1"), "");

  const seeded = async () => (await probe({ "x-probe-random-bytes": "4" }, new TestHost({ seed: 7 }))).response;
  const [a, b] = [await seeded(), await seeded()];
  for (const name of ["x-random-u64-1", "x-random-u64-2", "x-random-bytes-1"]) assert.equal(a.header(name), b.header(name));
  assert.notEqual(a.header("x-random-u64-1"), a.header("x-random-u64-2"));
});

test("an allowed call reaches the responder and round-trips status, headers and body", async () => {
  const host = new TestHost({ allowedUrls: ["http://auth.internal/allowed/"] });
  host.respondToHttp((request) =>
    new TestResponse(203).withHeader("x-backend", "called").withHeader("x-said", TEXT).withBody(`{"echo":${JSON.stringify(request.text())}}`));
  const { response } = await probe({ "x-probe-call": "http://auth.internal/allowed/echo?q=1", "x-probe-call-status": "203" }, host);

  assert.equal(host.httpRequests.length, 1);
  const [sent] = host.httpRequests;
  assert.equal(sent.method, "PUT");
  assert.equal(sent.url, "http://auth.internal/allowed/echo?q=1");
  assert.equal(sent.header("x-from-filter"), LITERAL);
  assert.equal(sent.header("x-backend-status"), "203");
  assert.equal(sent.text(), `ping from the filter: ${LITERAL}`);
  assert.equal(sent.timeoutMillis, 10_000);

  assert.equal(response.status, 203);
  assert.equal(response.header("x-call-x-backend"), "called");
  assert.equal(response.header("x-call-x-said"), TEXT);
  assert.deepEqual(response.json(), { echo: `ping from the filter: ${LITERAL}` });
});

test("a call outside allowedUrls is refused before the responder, and a failed call is an error", async () => {
  const host = new TestHost({ allowedUrls: ["http://auth.internal/allowed/"] });
  host.respondToHttp(() => ({ error: "connection refused" }));
  for (const url of ["http://auth.internal/denied", "http://auth.internal/allowed-not/x"]) {
    const { response } = await probe({ "x-probe-call": url }, host);
    assert.equal(response.status, 502);
    assert.equal(response.text(), `${url} is not in this filter's allowedUrls; outbound calls go only there`);
  }
  assert.equal(host.httpRequests.length, 0);

  const { response } = await probe({ "x-probe-call": "http://auth.internal/allowed/down" }, host);
  assert.equal(response.status, 502);
  assert.equal(response.text(), "connection refused");
});

test("a trap fails the call with weir's reason, and the instance is not used again", async () => {
  const filter = await loadFilter(HOST_IMPORTS);
  const asks = (headers) => {
    const request = TestRequest.get("/");
    for (const [n, v] of Object.entries(headers)) request.withHeader(n, v);
    return new TestExchange(request);
  };
  assert.throws(() => filter.onRequest(asks({ "x-probe-sleep-ms": "300001" })), (error) =>
    error instanceof FilterTrap && /sleep of 300001ms asked for; the limit is 300000ms/.test(error.message));
  assert.throws(() => filter.onRequest(asks({})), /trapped before/);
  const fresh = await loadFilter(HOST_IMPORTS);
  assert.throws(() => fresh.onRequest(asks({ "x-probe-random-bytes": "65537" })), /random-bytes asked for 65537 bytes/);
});

test("a filter runs only the phases it declared, and edits the request in place", async () => {
  const filter = await loadFilter(SET_HEADER);
  assert.deepEqual(filter.phases, { request: true, response: false });
  const exchange = new TestExchange(TestRequest.get("/a?b=c").withHeader("x-guest", "old").withHeader("x-guest", "older"));
  assert.equal(filter.onRequest(exchange).kind, "continue");
  assert.deepEqual(exchange.request().headerAll("x-guest"), ["set"]);
  assert.equal(exchange.request().target, "/a?b=c");
  exchange.withResponse(new TestResponse(200));
  assert.equal(filter.onResponse(exchange).kind, "continue");
});

test("a component is refused with a pointer to the core module", async () => {
  const preamble = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00]);
  await assert.rejects(loadFilter(preamble), /is a component; the harness runs the core module/);
});

test("state counters take signed 64-bit values and expire after their TTL on the host's clock", () => {
  const clock = new ManualClock(0);
  const host = new TestHost({ clock });
  assert.equal(host.state.add("k", 5n, 1000n), 5n);
  assert.equal(host.state.add("k", -7n, 1000n), -2n);
  assert.equal(host.state.compareAndSwap("k", 3n, 9n, null), false);
  assert.equal(host.state.compareAndSwap("missing", null, 1n, null), true);
  clock.advance(999);
  assert.equal(host.state.get("k"), -2n);
  clock.advance(1);
  assert.equal(host.state.get("k"), undefined);
  assert.deepEqual(host.state.entries(), { missing: 1n });
  assert.equal(host.state.add("max", 2n ** 63n - 1n, null) + 0n, 2n ** 63n - 1n);
  assert.equal(host.state.add("max", 1n, null), -(2n ** 63n), "wraps as an s64 does");
});

test("a handle kept past its call traps, as in weir", async () => {
  const filter = await loadFilter(new URL("../build/stale-handle.core.wasm", import.meta.url));
  assert.equal(filter.onRequest(new TestExchange(TestRequest.get("/"))).kind, "continue");
  assert.throws(() => filter.onRequest(new TestExchange(TestRequest.get("/"))), (error) =>
    error instanceof FilterTrap && /request handle \d+/.test(error.message));
});
