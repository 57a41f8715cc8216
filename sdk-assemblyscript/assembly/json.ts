// A small JSON tree: enough to read a filter's config and to rewrite JSON bodies.
// AssemblyScript's standard library has none, and a filter should not need a second
// package for its own config.

export enum JsonKind { Null, Bool, Number, String, Array, Object }

export class JsonValue {
  kind: JsonKind = JsonKind.Null;
  bool: bool = false;
  number: f64 = 0;
  string: string = "";
  items: JsonValue[] = [];
  /** Object keys in document order; `entries` holds their values. */
  keys: string[] = [];
  entries: Map<string, JsonValue> = new Map();

  static null(): JsonValue { return new JsonValue(); }
  static fromBool(b: bool): JsonValue { const v = new JsonValue(); v.kind = JsonKind.Bool; v.bool = b; return v; }
  static fromNumber(n: f64): JsonValue { const v = new JsonValue(); v.kind = JsonKind.Number; v.number = n; return v; }
  static fromString(s: string): JsonValue { const v = new JsonValue(); v.kind = JsonKind.String; v.string = s; return v; }
  static array(): JsonValue { const v = new JsonValue(); v.kind = JsonKind.Array; return v; }
  static object(): JsonValue { const v = new JsonValue(); v.kind = JsonKind.Object; return v; }

  /** Parses `text`; null if it is not JSON (the reason is in `JsonValue.error`). */
  static parse(text: string): JsonValue | null {
    const parser = new Parser(text);
    const value = parser.value();
    if (value !== null) {
      parser.space();
      if (parser.at < text.length) return parser.fail("unexpected text after the value");
    }
    return value;
  }

  /** Why the last `parse` returned null, with the offset. */
  static error: string = "";

  isNull(): bool { return this.kind == JsonKind.Null; }
  isObject(): bool { return this.kind == JsonKind.Object; }
  isArray(): bool { return this.kind == JsonKind.Array; }
  isString(): bool { return this.kind == JsonKind.String; }

  /** A member of an object; null if absent or this is not an object. */
  get(key: string): JsonValue | null {
    return this.entries.has(key) ? this.entries.get(key) : null;
  }
  /** A member's string value; null if absent or not a string. */
  getString(key: string): string | null {
    const v = this.get(key);
    return v !== null && v.kind == JsonKind.String ? v.string : null;
  }
  /** Sets a member of an object, keeping its place if it exists. */
  set(key: string, value: JsonValue): JsonValue {
    if (!this.entries.has(key)) this.keys.push(key);
    this.entries.set(key, value);
    return this;
  }
  /** Removes a member; returns whether it was there. */
  delete(key: string): bool {
    if (!this.entries.has(key)) return false;
    this.entries.delete(key);
    this.keys.splice(this.keys.indexOf(key), 1);
    return true;
  }
  push(value: JsonValue): JsonValue {
    this.items.push(value);
    return this;
  }

  /** Compact JSON text. */
  toString(): string {
    switch (this.kind) {
      case JsonKind.Null: return "null";
      case JsonKind.Bool: return this.bool ? "true" : "false";
      case JsonKind.Number: return numberText(this.number);
      case JsonKind.String: return quote(this.string);
      case JsonKind.Array: {
        const parts = new Array<string>(this.items.length);
        for (let i = 0; i < this.items.length; i++) parts[i] = this.items[i].toString();
        return "[" + parts.join(",") + "]";
      }
      default: {
        const parts = new Array<string>(this.keys.length);
        for (let i = 0; i < this.keys.length; i++) {
          const key = this.keys[i];
          parts[i] = quote(key) + ":" + this.entries.get(key).toString();
        }
        return "{" + parts.join(",") + "}";
      }
    }
  }
}

function numberText(n: f64): string {
  // Integers print without the `.0` AssemblyScript's f64 formatting adds.
  if (isFinite(n) && n == Math.floor(n) && Math.abs(n) < 9007199254740992) return (n as i64).toString();
  return isFinite(n) ? n.toString() : "null";
}

function quote(s: string): string {
  let out = "\"";
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let escape: string | null = null;
    if (c == 0x22) escape = "\\\"";
    else if (c == 0x5c) escape = "\\\\";
    else if (c == 0x0a) escape = "\\n";
    else if (c == 0x0d) escape = "\\r";
    else if (c == 0x09) escape = "\\t";
    else if (c < 0x20) escape = "\\u00" + (c < 0x10 ? "0" : "") + c.toString(16);
    if (escape !== null) {
      out += s.substring(start, i) + escape;
      start = i + 1;
    }
  }
  return out + s.substring(start) + "\"";
}

class Parser {
  at: i32 = 0;
  constructor(public text: string) {}

  fail(message: string): JsonValue | null {
    JsonValue.error = message + " at offset " + this.at.toString();
    return null;
  }

  space(): void {
    while (this.at < this.text.length) {
      const c = this.text.charCodeAt(this.at);
      if (c != 0x20 && c != 0x0a && c != 0x0d && c != 0x09) break;
      this.at++;
    }
  }

  literal(word: string): bool {
    if (this.text.substr(this.at, word.length) != word) return false;
    this.at += word.length;
    return true;
  }

  value(): JsonValue | null {
    this.space();
    if (this.at >= this.text.length) return this.fail("unexpected end");
    const c = this.text.charCodeAt(this.at);
    if (c == 0x7b) return this.object();
    if (c == 0x5b) return this.array();
    if (c == 0x22) {
      const s = this.string();
      return s === null ? null : JsonValue.fromString(s);
    }
    if (this.literal("true")) return JsonValue.fromBool(true);
    if (this.literal("false")) return JsonValue.fromBool(false);
    if (this.literal("null")) return JsonValue.null();
    return this.number();
  }

  number(): JsonValue | null {
    const start = this.at;
    while (this.at < this.text.length) {
      const c = this.text.charCodeAt(this.at);
      const numeric = (c >= 0x30 && c <= 0x39) || c == 0x2d || c == 0x2b || c == 0x2e || c == 0x65 || c == 0x45;
      if (!numeric) break;
      this.at++;
    }
    if (start == this.at) return this.fail("unexpected character");
    const n = parseFloat(this.text.substring(start, this.at));
    if (isNaN(n)) return this.fail("bad number");
    return JsonValue.fromNumber(n);
  }

  string(): string | null {
    this.at++; // the opening quote
    let out = "";
    let start = this.at;
    while (this.at < this.text.length) {
      const c = this.text.charCodeAt(this.at);
      if (c == 0x22) {
        out += this.text.substring(start, this.at);
        this.at++;
        return out;
      }
      if (c == 0x5c) {
        out += this.text.substring(start, this.at);
        this.at++;
        if (this.at >= this.text.length) break;
        const e = this.text.charCodeAt(this.at);
        if (e == 0x75) {
          const code = I32.parseInt(this.text.substr(this.at + 1, 4), 16);
          out += String.fromCharCode(code);
          this.at += 4;
        } else if (e == 0x6e) out += "\n";
        else if (e == 0x72) out += "\r";
        else if (e == 0x74) out += "\t";
        else if (e == 0x62) out += "\b";
        else if (e == 0x66) out += "\f";
        else out += String.fromCharCode(e);
        this.at++;
        start = this.at;
        continue;
      }
      this.at++;
    }
    this.fail("unterminated string");
    return null;
  }

  array(): JsonValue | null {
    this.at++;
    const result = JsonValue.array();
    this.space();
    if (this.literal("]")) return result;
    while (true) {
      const item = this.value();
      if (item === null) return null;
      result.items.push(item);
      this.space();
      if (this.literal(",")) continue;
      if (this.literal("]")) return result;
      return this.fail("expected , or ]");
    }
  }

  object(): JsonValue | null {
    this.at++;
    const result = JsonValue.object();
    this.space();
    if (this.literal("}")) return result;
    while (true) {
      this.space();
      if (this.at >= this.text.length || this.text.charCodeAt(this.at) != 0x22) return this.fail("expected a key");
      const key = this.string();
      if (key === null) return null;
      this.space();
      if (!this.literal(":")) return this.fail("expected :");
      const item = this.value();
      if (item === null) return null;
      result.set(key, item);
      this.space();
      if (this.literal(",")) continue;
      if (this.literal("}")) return result;
      return this.fail("expected , or }");
    }
  }
}
