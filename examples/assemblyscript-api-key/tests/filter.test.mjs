// Unit tests of the filter, run in Node by `npm test` against the module `npm run
// asbuild` compiles, with the SDK's test harness as the host. They make the assertions
// the end-to-end test makes in the real weir (tests/tests/assemblyscript_filters.rs).

import { test } from "node:test";
import assert from "node:assert/strict";
import { InitError, TestExchange, TestHost, TestRequest, loadFilter } from "@weir/filter-sdk/testing";

const FILTER = new URL("../build/core.wasm", import.meta.url);
const config = { keys: { "k-alice": "alice", "k-bob": "bob" } };

function get(key) {
  const request = TestRequest.get("/api/hello");
  if (key !== null) request.withHeader("x-api-key", key);
  return new TestExchange(request);
}

test("a missing or unknown key gets 401, counted and logged", async () => {
  const filter = await loadFilter(FILTER, { config });
  for (const key of [null, "nope"]) {
    const outcome = filter.onRequest(get(key));
    assert.equal(outcome.kind, "respond", "the flow ends here: nothing reaches the backend");
    assert.equal(outcome.response.status, 401);
    assert.equal(outcome.response.header("www-authenticate"), "ApiKey");
    assert.equal(outcome.response.header("content-type"), "text/plain");
    assert.equal(outcome.response.text(), "a valid API key is required\n");
  }
  assert.equal(filter.host.state.get("rejected"), 2n);
  assert.deepEqual(filter.host.takeLogs().map((l) => `${l.level}: ${l.message}`), [
    "info: rejected a request without a valid key (1 so far)",
    "info: rejected a request without a valid key (2 so far)",
  ]);
});

test("a known key is replaced by its owner, and each owner's requests are numbered", async () => {
  const filter = await loadFilter(FILTER, { config });
  for (const [key, owner, number] of [["k-alice", "alice", "1"], ["k-alice", "alice", "2"], ["k-bob", "bob", "1"], ["k-alice", "alice", "3"]]) {
    const exchange = get(key);
    assert.equal(filter.onRequest(exchange).kind, "continue");
    const request = exchange.request();
    assert.equal(request.header("x-api-key"), null, "the key does not travel on");
    assert.equal(request.header("x-api-owner"), owner);
    assert.equal(request.header("x-api-request-number"), number);
  }
});

test("the numbers hold across instances, which share the host's state", async () => {
  const host = new TestHost();
  const [one, two] = [await loadFilter(FILTER, { config, host }), await loadFilter(FILTER, { config, host })];
  for (const [filter, number] of [[one, "1"], [two, "2"], [one, "3"]]) {
    const exchange = get("k-alice");
    filter.onRequest(exchange);
    assert.equal(exchange.request().header("x-api-request-number"), number);
  }
  assert.equal(host.state.get("accepted:alice"), 3n);
});

test("a custom header name is read instead of x-api-key", async () => {
  const filter = await loadFilter(FILTER, { config: { header: "authorization", keys: { secret: "carol" } } });
  const exchange = new TestExchange(TestRequest.get("/").withHeader("Authorization", "secret"));
  assert.equal(filter.onRequest(exchange).kind, "continue");
  assert.equal(exchange.request().header("x-api-owner"), "carol");
  assert.equal(exchange.request().header("authorization"), null);
  assert.equal(filter.onRequest(get("secret")).response.status, 401, "x-api-key is not read any more");
});

test("a config without keys is refused with the filter's message", async () => {
  await assert.rejects(loadFilter(FILTER, { config: { keys: {} } }), (e) => e instanceof InitError && e.message === "`keys` must list at least one key");
  await assert.rejects(loadFilter(FILTER), { message: "bad config: missing field `keys`" });
  await assert.rejects(loadFilter(FILTER, { config: { keys: { k: 1 } } }), { message: "bad config: the owner of a key must be a string" });
  await assert.rejects(loadFilter(FILTER, { config: { keys: { k: "o" }, header: "h", extra: 1 } }), { message: "bad config: unknown field `extra`" });
});
