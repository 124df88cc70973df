/**
 * Standard input is opened only by the commands that read it: `process.stdin` is a getter that
 * creates a stream (about 4 ms of every short command's start), so the CLI's Output defers it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { processOutput, withDebug } from '../../src/cli/output.js';

const original = Object.getOwnPropertyDescriptor(process, 'stdin')!;
let reads = 0;

afterEach(() => {
  Object.defineProperty(process, 'stdin', original);
});

function countStdinReads(): void {
  reads = 0;
  Object.defineProperty(process, 'stdin', {
    configurable: true,
    enumerable: original.enumerable === true,
    get() {
      reads++;
      return original.get ? original.get.call(process) : original.value;
    },
  });
}

describe('the CLI output', () => {
  it('opens standard input only when a command reads it, also through withDebug', () => {
    countStdinReads();
    const o = processOutput();
    const d = withDebug(o, true);
    expect([reads, d.debug, d.out, d.err, d.color]).toEqual([0, true, process.stdout, process.stderr, o.color]);
    expect(d.in).toBe(original.get ? original.get.call(process) : original.value);
    expect(reads).toBe(1);
    expect(Object.keys(d)).toContain('in');
  });
});
