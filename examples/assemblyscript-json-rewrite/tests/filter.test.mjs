// Unit tests of the filter, run in Node by `npm test` against the module `npm run
// asbuild` compiles, with the SDK's test harness as the host. They make the assertions
// the end-to-end test makes in the real weir (tests/tests/assemblyscript_filters.rs).

import { test } from "node:test";
import assert from "node:assert/strict";
import { TestExchange, TestRequest, TestResponse, loadFilter } from "@weir/filter-sdk/testing";

const FILTER = new URL("../build/core.wasm", import.meta.url);
const config = { redact: ["password"], set: { source: "weir", 'quote"d': [1, 2.5, null] }, stamp: "rewritten" };

function post(contentType, body) {
  return new TestExchange(
    TestRequest.post("/login")
      .withHeader("content-type", contentType)
      .withHeader("content-length", String(new TextEncoder().encode(body).length))
      .withBody(body),
  );
}

test("the filter declares both phases", async () => {
  const filter = await loadFilter(FILTER, { config });
  assert.deepEqual(filter.phases, { request: true, response: true });
});

test("a JSON request loses the redacted members and gains the set ones, in order", async () => {
  const filter = await loadFilter(FILTER, { config });
  const exchange = post("application/json", '{"user": "zoë", "password": "hunter2", "nested": {"n": -3e2}}');
  assert.equal(filter.onRequest(exchange).kind, "continue");
  const request = exchange.request();
  assert.equal(request.text(), '{"user":"zoë","nested":{"n":-300},"source":"weir","quote\\"d":[1,2.5,null]}');
  assert.equal(request.header("content-length"), null, "the stale length is dropped; weir frames the new body");
});

test("a JSON response is stamped and otherwise untouched", async () => {
  const filter = await loadFilter(FILTER, { config });
  const answer = { backend: "b", body: '{"user":"zoë"}', headers: ["a: 1"] };
  const exchange = post("application/json", "{}")
    .withResponse(new TestResponse(200).withHeader("content-type", "application/json").withBody(JSON.stringify(answer)));
  assert.equal(filter.onResponse(exchange).kind, "continue");
  assert.deepEqual(exchange.response().json(), { ...answer, rewritten: true });
});

test("bodies that are not JSON objects pass as they are", async () => {
  const filter = await loadFilter(FILTER, { config });
  for (const [type, body] of [["text/plain", "password=1"], ["application/json", "[1, 2]"], ["application/json", "{broken"]]) {
    const exchange = post(type, body);
    assert.equal(filter.onRequest(exchange).kind, "continue");
    assert.equal(exchange.request().text(), body);
  }
  assert.ok(filter.host.takeLogs().some((l) => l.level === "debug" && l.message.startsWith("request body is not a JSON object")));
  const plain = post("text/plain", "x").withResponse(new TestResponse(200).withHeader("content-type", "text/plain").withBody("x"));
  filter.onResponse(plain);
  assert.equal(plain.response().text(), "x");
});

test("a bad config is refused with the filter's message", async () => {
  await assert.rejects(loadFilter(FILTER, { config: { redact: "password" } }), { message: "bad config: `redact` must list member names" });
  await assert.rejects(loadFilter(FILTER, { config: { set: [1] } }), { message: "bad config: `set` must be a mapping" });
});
