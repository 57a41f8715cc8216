// A Weir filter in AssemblyScript, the twin of examples/api-key-filter (Rust).
// Requests without a known API key get 401; the others are tagged with the key's owner
// and a request number, counted per owner in shared state so the numbers hold across
// every instance and thread.

import {
  BuiltResponse, Config, Exchange, Filter, JsonKind, Outcome, log, register, state,
} from "@weir/filter-sdk/assembly";
export * from "@weir/filter-sdk/assembly/exports";

class ApiKey extends Filter {
  /** The header carrying the key. */
  header: string = "x-api-key";
  /** Key → owner. */
  keys: Map<string, string> = new Map();

  init(config: Config): string | null {
    const settings = config.parse();
    if (settings === null || !settings.isObject()) return "bad config: expected a mapping";
    for (let i = 0; i < settings.keys.length; i++) {
      const field = settings.keys[i];
      if (field != "header" && field != "keys") return "bad config: unknown field `" + field + "`";
    }
    const header = settings.get("header");
    if (header !== null) {
      if (!header.isString()) return "bad config: `header` must be a string";
      this.header = header.string;
    }
    const keys = settings.get("keys");
    if (keys === null) return "bad config: missing field `keys`";
    if (!keys.isObject()) return "bad config: `keys` must map keys to owners";
    for (let i = 0; i < keys.keys.length; i++) {
      const owner = keys.entries.get(keys.keys[i]);
      if (owner.kind != JsonKind.String) return "bad config: the owner of a key must be a string";
      this.keys.set(keys.keys[i], owner.string);
    }
    if (this.keys.size == 0) return "`keys` must list at least one key";
    return null;
  }

  onRequest(exchange: Exchange): Outcome {
    const request = exchange.request();
    if (request === null) return Outcome.continue();
    const key = request.header(this.header);
    if (key === null || !this.keys.has(key)) {
      const rejected = state.add("rejected", 1);
      log.info("rejected a request without a valid key (" + rejected.toString() + " so far)");
      return Outcome.respond(
        new BuiltResponse(401)
          .header("content-type", "text/plain")
          .header("www-authenticate", "ApiKey")
          .text("a valid API key is required\n"),
      );
    }
    const owner = this.keys.get(key);
    const number = state.add("accepted:" + owner, 1);
    // The key itself does not travel on: the backend learns who, not the secret.
    request.removeHeader(this.header);
    request.setHeader("x-api-owner", owner);
    request.setHeader("x-api-request-number", number.toString());
    return Outcome.continue();
  }
}

register(new ApiKey());
