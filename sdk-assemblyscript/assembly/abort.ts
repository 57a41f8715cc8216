// AssemblyScript's `abort` (a failed assertion, an out-of-bounds access, an explicit
// `abort`) without an `env.abort` import: the message goes to the host's log, then the
// call traps, and the host fails the request as it does for any trap.

import * as abi from "./abi.generated";

export function weirAbort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  let text = message !== null ? changetype<string>(message) : "abort";
  if (fileName !== null) text += " at " + changetype<string>(fileName) + ":" + line.toString() + ":" + column.toString();
  abi.log_log(4, changetype<usize>(text) as i32, text.length);
  unreachable();
}
