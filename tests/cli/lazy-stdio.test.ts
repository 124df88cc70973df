/**
 * The CLI writes its lines straight to file descriptors 1 and 2 and opens `process.stdout` or
 * `process.stderr` only when a command needs the stream (src/cli/stdio.ts): about 3 ms of every
 * short command's start. Shown in child processes whose standard streams are pipes, as a script
 * or `| less` gives them: nothing is opened for lines, the order of lines survives the switch to
 * the stream, and a reader that went away is `OutputClosedError`.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * A script run with the CLI's output module; it counts how often that module asks for the process
 * streams (tsx's own sockets ask too, as they close: those are not counted).
 */
const SCRIPT = `
let opened = 0;
for (const name of ['stdout', 'stderr']) {
  const d = Object.getOwnPropertyDescriptor(process, name);
  Object.defineProperty(process, name, {
    configurable: true,
    get() {
      if (new Error().stack.includes('/src/cli/stdio.ts')) opened++;
      return d.get.call(process);
    },
  });
}
const { isTerminal, println, processOutput, writeText } = await import('./src/cli/output.ts');
const o = processOutput();
const report = (line) => require('node:fs').writeSync(2, line + '\\n');
globalThis.require = (await import('node:module')).createRequire(import.meta.url);
try {
  for (let i = 0; i < Number(process.env.LINES); i++) println(o, 'line ' + i);
  writeText(o, 'err', 'to stderr\\n');
  const tty = isTerminal(o, 'out') || isTerminal(o, 'err');
  report('opened before the stream was asked for: ' + opened + ', terminal: ' + tty);
  o.out.write('through the stream\\n');
  println(o, 'after the stream');
  report('opened at the end: ' + opened);
} catch (err) {
  report('caught ' + err.name);
}
`;

function run(
  lines: number,
  closeStdout = false,
  stdout: 'pipe' | 'ignore' = 'pipe',
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SCRIPT], {
      cwd: ROOT,
      env: { ...process.env, LINES: String(lines) },
      // 'ignore' is /dev/null.
      stdio: ['ignore', stdout, 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    if (closeStdout) child.stdout?.destroy();
    else child.stdout?.on('data', (c: Buffer) => out.push(c));
    child.stderr?.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out: Buffer.concat(out).toString(), err: Buffer.concat(err).toString() });
    });
  });
}

describe('standard output and error, opened lazily', () => {
  it('writes lines without opening a stream, then keeps their order through the stream', async () => {
    const r = await run(3);
    expect(r.out).toBe('line 0\nline 1\nline 2\nthrough the stream\nafter the stream\n');
    expect(r.err).toContain('to stderr\n');
    expect(r.err).toContain('opened before the stream was asked for: 0, terminal: false');
    expect(r.err).toContain('opened at the end: 1');
    expect(r.code).toBe(0);
  });

  it('hands over to the stream, in order, when a non-blocking pipe is full (EAGAIN)', async () => {
    // Node gives a child non-blocking pipes: 100,000 lines (1.1 MB) fill one long before the reader
    // drains it, and the rest is queued on the stream; a blocking pipe simply waits. Either way every
    // line arrives once and in order.
    const lines = 100_000;
    const r = await run(lines);
    const expected = [
      ...Array.from({ length: lines }, (_, i) => `line ${i}`),
      'through the stream',
      'after the stream',
    ];
    expect(r.out.split('\n').slice(0, -1)).toEqual(expected);
    expect(r.err).toContain('opened at the end: 1');
    expect(r.code).toBe(0);
  });

  it('writes to /dev/null without opening a stream: a memory device is no terminal', async () => {
    const r = await run(3, false, 'ignore');
    expect(r.err).toContain('opened before the stream was asked for: 0, terminal: false');
    expect(r.code).toBe(0);
  });

  it('tells /dev/null, /dev/zero and /dev/full from terminals by their device numbers', async () => {
    const { isMemoryDevice } = await import('../../src/cli/stdio.js');
    const { statSync } = await import('node:fs');
    for (const path of ['/dev/null', '/dev/zero', '/dev/full']) expect(isMemoryDevice(statSync(path)), path).toBe(true);
    // /dev/tty (5,0) and /dev/ptmx (5,2) are terminal devices; a regular file is no device at all.
    for (const path of ['/dev/tty', '/dev/ptmx', '/etc/hostname'])
      expect(isMemoryDevice(statSync(path)), path).toBe(false);
  });

  it('a closed reader is OutputClosedError at the first line that cannot be written', async () => {
    const r = await run(100_000, true);
    expect(r.err).toContain('caught OutputClosedError');
    expect(r.code).toBe(0);
  });
});
