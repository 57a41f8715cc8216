// The SDK's unit tests: the JSON tree and the canonical-ABI lifting the glue relies on,
// run in Node by run.mjs. Each `check` reports one named assertion.

import { JsonValue, JsonKind } from "../assembly/json";
import { cabi_realloc, liftStringAt, liftOptionStringAt, liftHeadersAt, liftBytesAt, lowerHeaders, Header, RET } from "../assembly/canonical";
import { BuiltResponse, lowerBuiltResponse } from "../assembly/message";
import { Config, Outcome, OutcomeKind } from "../assembly/filter";
// Compiled in for `--use abort=assembly/abort/weirAbort`.
export { weirAbort } from "../assembly/abort";

@external("test", "result")
declare function result(name: string, ok: bool): void;

function check(name: string, ok: bool): void {
  result(name, ok);
}

/** Writes `s` as the host would: UTF-16 into a block from `cabi_realloc`, then its
 *  (pointer, length) at `at`. */
function hostWrites(s: string, at: usize): void {
  const ptr = cabi_realloc(0, 0, 2, s.length << 1);
  for (let i = 0; i < s.length; i++) store<u16>(ptr + (i << 1), s.charCodeAt(i));
  store<u32>(at, ptr as u32);
  store<u32>(at, s.length, 4);
}

export function run(): void {
  // JSON
  const text = '{"a": [1, -2.5, 3e2, true, null], "s": "q\\"\\n\\u00e9", "o": {}}';
  const parsed = JsonValue.parse(text);
  check("json parses nested values", parsed !== null && parsed.isObject());
  const v = changetype<JsonValue>(parsed);
  check("json keeps member order and formats integers plainly",
    v.toString() == '{"a":[1,-2.5,300,true,null],"s":"q\\"\\né","o":{}}');
  check("json decodes escapes", v.getString("s") == "q\"\né");
  check("json set keeps the place of an existing key",
    v.set("a", JsonValue.fromString("x")).keys.join(",") == "a,s,o");
  check("json delete removes a member", v.delete("s") && v.toString() == '{"a":"x","o":{}}');
  check("json delete of a missing member is false", !v.delete("nope"));
  check("json refuses trailing text", JsonValue.parse("{} x") === null && JsonValue.error.includes("after the value"));
  check("json refuses an unterminated string", JsonValue.parse('"abc') === null);
  check("json refuses a bad literal", JsonValue.parse("[tru]") === null);
  check("json escapes control characters", JsonValue.fromString("\u0001").toString() == '"\\u0001"');
  const number = JsonValue.parse("0.5");
  check("json reads fractions", number !== null && number.kind == JsonKind.Number && number.number == 0.5);

  // Config: a missing config reads as an empty mapping.
  const empty = new Config("null").parse();
  check("config null reads as an empty object", empty !== null && empty.isObject() && empty.keys.length == 0);

  // Lifting what the host writes.
  const area = RET;
  hostWrites("héllo ✓", area);
  check("a host string is lifted from UTF-16", liftStringAt(area) == "héllo ✓");
  store<u8>(area, 0);
  check("option none lifts to null", liftOptionStringAt(area) === null);
  store<u8>(area, 1);
  hostWrites("", area + 4);
  const some = liftOptionStringAt(area);
  check("option some of an empty string lifts to an empty string", some !== null && some == "");

  // A list of headers as the host lays it out: (ptr, len) pairs of (ptr, len) strings.
  const list = cabi_realloc(0, 0, 4, 32);
  hostWrites("x-a", list);
  hostWrites("1", list + 8);
  hostWrites("x-b", list + 16);
  hostWrites("2", list + 24);
  store<u32>(area, list as u32);
  store<u32>(area, 2, 4);
  const headers = liftHeadersAt(area);
  check("headers lift in order", headers.length == 2 && headers[0].name == "x-a" && headers[1].value == "2");

  const bytes = cabi_realloc(0, 0, 1, 3);
  store<u8>(bytes, 7); store<u8>(bytes, 8, 1); store<u8>(bytes, 9, 2);
  store<u32>(area, bytes as u32);
  store<u32>(area, 3, 4);
  const body = liftBytesAt(area);
  check("bytes lift", body.length == 3 && body[0] == 7 && body[2] == 9);

  // Lowering: the host reads strings in place, as UTF-16.
  const keep = new Array<ArrayBuffer>();
  const lowered = lowerHeaders([new Header("k", "vé")], keep);
  const valuePtr = load<u32>(lowered, 8);
  check("a lowered header points at the string's own UTF-16",
    load<u32>(lowered, 12) == 2 && load<u16>(valuePtr) == 0x76 && load<u16>(valuePtr, 2) == 0xe9);
  const response = new BuiltResponse(418).header("a", "b").text("tea");
  const record = cabi_realloc(0, 0, 4, 20);
  lowerBuiltResponse(response, record, keep);
  check("a built response lowers to the WIT record layout",
    load<u16>(record) == 418 && load<u32>(record, 8) == 1 && load<u32>(record, 16) == 3 && load<u8>(load<u32>(record, 12)) == 0x74);

  check("continue is shared, results carry their name",
    Outcome.continue() === Outcome.continue() && Outcome.result("r").kind == OutcomeKind.Result && Outcome.result("r").result == "r");
  check("an empty realloc returns its alignment, not an allocation", cabi_realloc(0, 0, 4, 0) == 4);
}
