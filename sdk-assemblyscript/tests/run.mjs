// Runs the SDK's unit tests (tests/index.ts, compiled by `npm test`) in Node and prints
// cargo-style lines, so `make unit` counts them with the Rust tests.

import { readFile } from "node:fs/promises";

const bytes = await readFile(new URL("../build/tests.wasm", import.meta.url));
let memory;
const utf16 = (ptr, units) => String.fromCharCode(...new Uint16Array(memory.buffer, ptr, units));
// AssemblyScript keeps a string's length in bytes just before its data.
const asString = (ptr) => utf16(ptr, new Uint32Array(memory.buffer, ptr - 4, 1)[0] >>> 1);
let passed = 0;
const failed = [];
const { instance } = await WebAssembly.instantiate(bytes, {
  test: {
    result(namePtr, ok) {
      const name = asString(namePtr);
      console.log(`test ${name} ... ${ok ? "ok" : "FAILED"}`);
      if (ok) passed++;
      else failed.push(name);
    },
  },
  // The abort handler logs through the host before trapping.
  "weir:filter/log@1.0.0": { log: (_level, ptr, units) => console.error(utf16(ptr, units)) },
});
memory = instance.exports.memory;
instance.exports._initialize?.();
instance.exports.run();
console.log(`test result: ${failed.length ? "FAILED" : "ok"}. ${passed} passed; ${failed.length} failed`);
process.exit(failed.length ? 1 : 0);
