/**
 * Runs the CLI in-process (`main(argv, output)`) with its output captured, as most CLI tests do;
 * tests/cli/spawn-cli.ts runs it as a child process for what only a process shows.
 */
import { Writable } from 'node:stream';
import { main } from '../../src/cli/main.js';
import type { Output } from '../../src/cli/output.js';

/** What one run of the CLI printed, and its exit code. */
export interface CliRun {
  code: number;
  /** Standard output as UTF-8. */
  out: string;
  /** Standard error as UTF-8. */
  err: string;
  /** Standard output's bytes (for `save -o -` and other binary output). */
  bytes: Buffer;
}

/** How the captured output presents itself to the CLI. */
export interface CaptureOptions {
  /** Colour on (default off, as with NO_COLOR). */
  color?: boolean;
  /** Standard output claims to be a terminal (`isTTY`). */
  outTty?: boolean;
  /** Standard error claims to be a 100×40 terminal (the live progress display). */
  errTty?: boolean;
}

/** An {@link Output} whose two streams are collected, with readers for what was written so far. */
export function captureOutput(options: CaptureOptions = {}): {
  output: Output;
  out: () => string;
  err: () => string;
  bytes: () => Buffer;
} {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const sink = (into: Buffer[]) =>
    new Writable({
      write(chunk, _enc, done) {
        into.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
        done();
      },
    });
  const output: Output = { out: sink(out), err: sink(err), color: options.color ?? false, debug: false };
  if (options.outTty) output.out.isTTY = true;
  if (options.errTty) Object.assign(output.err, { isTTY: true, columns: 100, rows: 40 });
  return {
    output,
    out: () => Buffer.concat(out).toString('utf8'),
    err: () => Buffer.concat(err).toString('utf8'),
    bytes: () => Buffer.concat(out),
  };
}

/** Runs `layerkit ARGV...` in this process and returns its exit code and output. */
export async function runCli(argv: string[], options: CaptureOptions = {}): Promise<CliRun> {
  const c = captureOutput(options);
  const code = await main(argv, c.output);
  return { code, out: c.out(), err: c.err(), bytes: c.bytes() };
}
