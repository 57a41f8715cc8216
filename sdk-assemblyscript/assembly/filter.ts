// The class a filter extends, and what its phases return.

import { Exchange, BuiltResponse } from "./message";
import { JsonValue } from "./json";

/** Which phases a filter implements (the WIT's `phases` flags). The host skips the
 *  others, so a filter without a response phase costs nothing after the flow ends. */
export enum Phases {
  Request = 1,
  Response = 2,
  Both = 3,
}

export enum OutcomeKind { Continue, Result, Respond }

/** What a phase tells the pipeline. */
export class Outcome {
  constructor(
    public kind: OutcomeKind,
    public result: string = "",
    public response: BuiltResponse | null = null,
  ) {}

  /** Go on with the flow. */
  static continue(): Outcome { return CONTINUE; }
  /** A named result for the step's `jumpIf`; a result with no jump ends the flow. */
  static result(name: string): Outcome { return new Outcome(OutcomeKind.Result, name); }
  /** Answer now with this response; the flow ends. */
  static respond(response: BuiltResponse): Outcome { return new Outcome(OutcomeKind.Respond, "", response); }
}

// Continuing is the common case: one shared value, no allocation per call.
const CONTINUE = new Outcome(OutcomeKind.Continue);

/** The filter's `config:` from the pipeline YAML, as JSON text (`null` when absent). */
export class Config {
  constructor(public json: string) {}

  /** The config as a JSON tree. A missing config (`null`) reads as an empty object,
   *  so a filter whose settings all have defaults needs no `config:`. Null if the text
   *  is not JSON (the host never sends such text). */
  parse(): JsonValue | null {
    return this.json.trim() == "null" ? JsonValue.object() : JsonValue.parse(this.json);
  }
}

/**
 * A Weir filter. Extend it, override what you need, and hand one instance to
 * `register` in the entry file.
 *
 * Lifecycle: the host creates instances of the component as it needs them (a pool, or
 * one per request in isolated mode). In each, `init` runs once, before any request;
 * then the phases run, one call at a time. Memory is not shared between instances:
 * keep anything that must count across requests in `state`.
 */
export abstract class Filter {
  /** The phases this filter implements. Return `Phases.Both` when you override
   *  `onResponse`. */
  phases(): Phases {
    return Phases.Request;
  }

  /** Reads the config. Returns null when it is fine, or a message that rejects the
   *  pipeline (shown to the operator with the filter's name). */
  init(config: Config): string | null {
    return null;
  }

  /** Called when the flow reaches this filter's step, once per visit. */
  onRequest(exchange: Exchange): Outcome {
    return Outcome.continue();
  }

  /** Called after the flow has ended, in reverse order of the steps that ran. A result
   *  is ignored here (the flow is over); `respond` replaces the step's response. */
  onResponse(exchange: Exchange): Outcome {
    return Outcome.continue();
  }
}
