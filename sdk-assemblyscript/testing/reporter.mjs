// A node:test reporter that prints what cargo test prints: one `test NAME ... ok` line
// per test and a `test result:` summary, so that a run of filter tests is counted with
// the Rust tests (`make test` adds up the summaries).
//
//   node --test --test-reporter=@weir/filter-sdk/testing/reporter tests/filter.test.mjs

export default async function* cargoStyle(source) {
  let passed = 0;
  const failed = [];
  for await (const event of source) {
    // Suites only group tests; a file that fails to load reports as a failed test.
    if (event.data?.details?.type === "suite") continue;
    if (event.type === "test:pass") {
      passed++;
      yield `test ${event.data.name} ... ok\n`;
    } else if (event.type === "test:fail") {
      failed.push(event.data);
      yield `test ${event.data.name} ... FAILED\n`;
    } else if (event.type === "test:stdout" || event.type === "test:stderr") {
      yield event.data.message;
    }
  }
  for (const test of failed) {
    const error = test.details?.error;
    yield `\n---- ${test.name} (${test.file ?? "?"}) ----\n${error?.cause?.stack ?? error?.stack ?? error?.message ?? error}\n`;
  }
  yield `\ntest result: ${failed.length ? "FAILED" : "ok"}. ${passed} passed; ${failed.length} failed\n`;
}
