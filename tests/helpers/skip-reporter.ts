/**
 * A vitest reporter that lists what was skipped and why, after the default reporter's summary.
 * Tests that need a real peer skip with a reason naming the Debian package that provides it (in
 * the suite's name or through `ctx.skip(reason)`); the default reporter only counts them.
 *
 * A whole skipped suite is listed once, by its name; a test skipped on its own is listed by its
 * full name and the note given to `ctx.skip(note)`. With a name filter (`-t`) nothing is listed:
 * there the filter is the reason.
 */
import type { Reporter, TestCase, TestModule, TestSuite, Vitest } from 'vitest/node';

/** Lists skipped suites and tests with their reasons. */
export default class SkipReporter implements Reporter {
  #vitest: Vitest | undefined;

  onInit(vitest: Vitest): void {
    this.#vitest = vitest;
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    if (this.#vitest?.config.testNamePattern) return;
    const lines = new Map<string, string>();
    for (const module of testModules) {
      for (const test of module.children.allTests('skipped')) {
        const { label, note } = skippedUnit(test);
        const key = `${module.relativeModuleId} > ${label}`;
        if (!lines.has(key)) lines.set(key, note ? `${key}: ${note}` : key);
      }
    }
    if (lines.size === 0) return;
    const log = (s: string) => (this.#vitest ? this.#vitest.logger.log(s) : console.log(s));
    log(`\n Skipped (${lines.size}):`);
    for (const line of [...lines.values()].sort()) log(`   ↓ ${line}`);
  }
}

/** The outermost skipped suite holding `test`, or the test itself, and the skip note if any. */
function skippedUnit(test: TestCase): { label: string; note: string | undefined } {
  let unit: TestCase | TestSuite = test;
  let parent = test.parent;
  while (parent.type === 'suite' && parent.state() === 'skipped') {
    unit = parent;
    parent = parent.parent;
  }
  const result = test.result();
  const note = unit === test && result.state === 'skipped' ? result.note : undefined;
  return { label: unit.fullName, note };
}
