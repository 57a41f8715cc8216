// A Weir filter in AssemblyScript that rewrites JSON bodies: on the way in it drops the
// request members listed in `redact` and sets those in `set`; on the way out it stamps
// JSON responses with a `stamp` member. Bodies that are not JSON objects pass as they
// are.

import {
  Config, Exchange, Filter, JsonValue, Outcome, Phases, log, register,
} from "@weir/filter-sdk/assembly";
export * from "@weir/filter-sdk/assembly/exports";

function isJson(contentType: string | null): bool {
  return contentType !== null && changetype<string>(contentType).toLowerCase().includes("json");
}

class JsonRewrite extends Filter {
  /** Request members to remove. */
  redact: string[] = [];
  /** Request members to set (any JSON). */
  set: JsonValue = JsonValue.object();
  /** Response member to add, with the name of this filter's pipeline step as value. */
  stamp: string = "";

  phases(): Phases {
    return Phases.Both;
  }

  init(config: Config): string | null {
    const settings = config.parse();
    if (settings === null || !settings.isObject()) return "bad config: expected a mapping";
    const redact = settings.get("redact");
    if (redact !== null) {
      if (!redact.isArray()) return "bad config: `redact` must list member names";
      for (let i = 0; i < redact.items.length; i++) {
        if (!redact.items[i].isString()) return "bad config: `redact` must list member names";
        this.redact.push(redact.items[i].string);
      }
    }
    const set = settings.get("set");
    if (set !== null) {
      if (!set.isObject()) return "bad config: `set` must be a mapping";
      this.set = set;
    }
    const stamp = settings.getString("stamp");
    if (stamp !== null) this.stamp = stamp;
    return null;
  }

  onRequest(exchange: Exchange): Outcome {
    const request = exchange.request();
    if (request === null || !isJson(request.header("content-type"))) return Outcome.continue();
    const text = request.text();
    if (text === null) return Outcome.continue();
    const body = JsonValue.parse(text);
    if (body === null || !body.isObject()) {
      log.debug("request body is not a JSON object: " + JsonValue.error);
      return Outcome.continue();
    }
    for (let i = 0; i < this.redact.length; i++) body.delete(this.redact[i]);
    for (let i = 0; i < this.set.keys.length; i++) {
      const key = this.set.keys[i];
      body.set(key, this.set.entries.get(key));
    }
    // The host fixes Content-Length from the new body.
    request.setText(body.toString());
    return Outcome.continue();
  }

  onResponse(exchange: Exchange): Outcome {
    const response = exchange.response();
    if (this.stamp.length == 0 || response === null || !isJson(response.header("content-type"))) {
      return Outcome.continue();
    }
    const text = response.text();
    if (text === null) return Outcome.continue();
    const body = JsonValue.parse(text);
    if (body === null || !body.isObject()) return Outcome.continue();
    body.set(this.stamp, JsonValue.fromBool(true));
    response.setText(body.toString());
    return Outcome.continue();
  }
}

register(new JsonRewrite());
