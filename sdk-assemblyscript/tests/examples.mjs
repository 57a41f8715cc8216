// Runs the AssemblyScript examples' own unit tests (`npm test` in each, which compiles
// the filter and runs it on the test harness), so that the SDK's `npm test`, and with
// it `make test`, covers them. Each prints its own `test result:` line.

import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const EXAMPLES = ["assemblyscript-api-key", "assemblyscript-json-rewrite"];

let failed = false;
for (const name of EXAMPLES) {
  const cwd = fileURLToPath(new URL(`../../examples/${name}/`, import.meta.url));
  for (const args of [["ci", "--no-audit", "--no-fund"], ["test"]]) {
    const { status, error } = spawnSync("npm", args, { cwd, stdio: "inherit" });
    if (status !== 0) {
      console.error(`examples/${name}: \`npm ${args.join(" ")}\` failed${error ? `: ${error.message}` : ""}`);
      failed = true;
      break;
    }
  }
}
process.exit(failed ? 1 : 0);
