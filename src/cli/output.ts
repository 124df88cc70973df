/**
 * How the CLI talks: plain lines on stdout, one-line errors with a code and a hint on stderr,
 * colours only on a terminal and never with NO_COLOR, progress bars only on a terminal.
 */
import { formatSize } from '../report/format.js';
import { isFsError, isLayerkitError } from '../errors.js';
import { helpHint, hintFor, type HintContext } from './hints.js';

/** Exit statuses (documented in the README). */
export const ExitCodes = {
  ok: 0,
  /** The operation failed (a LayerkitError or fs error). */
  failed: 1,
  /** Bad usage: unknown command or option, missing argument. */
  usage: 2,
  /** `verify` found problems. */
  problems: 3,
  /** Interrupted (SIGINT). */
  interrupted: 130,
} as const;

/** Where the CLI writes, and whether it may decorate. */
export interface Output {
  out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  err: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Standard input, for commands that pass it on (`exec -i`); none when absent. */
  in?: NodeJS.ReadableStream & { isTTY?: boolean };
  color: boolean;
  debug: boolean;
}

/**
 * Thrown by {@link println} once standard output is closed (the reader went away, as in
 * `layerkit history IMG | head -1`): the command stops, and the CLI exits 0 without a word.
 */
export class OutputClosedError extends Error {
  override readonly name = 'OutputClosedError';
  constructor() {
    super('standard output was closed');
  }
}

/** True for the errors a write to a closed pipe or a destroyed stream gives. */
export function isClosedOutputError(err: unknown): boolean {
  if (err instanceof OutputClosedError) return true;
  const code = (err as { code?: unknown } | undefined)?.code;
  return code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED' || code === 'ERR_STREAM_WRITE_AFTER_END';
}

/** True when a stream can no longer be written (its reader closed it). */
export function isClosed(stream: NodeJS.WritableStream): boolean {
  const s = stream as { destroyed?: boolean; writableEnded?: boolean };
  return s.destroyed === true || s.writableEnded === true;
}

let swallowing = false;
/**
 * A closed stdout or stderr must not crash the process with an unhandled 'error' event (the
 * write that finds the pipe closed reports it asynchronously, possibly after the command ended):
 * such errors are dropped here, once per process; any other stream error is still thrown.
 */
function swallowClosedPipes(): void {
  if (swallowing) return;
  swallowing = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err) => {
      if (!isClosedOutputError(err)) throw err;
    });
  }
}

/** Makes an Output for the process streams, honouring NO_COLOR / FORCE_COLOR and terminals. */
export function processOutput(options: { debug?: boolean; env?: NodeJS.ProcessEnv } = {}): Output {
  swallowClosedPipes();
  const env = options.env ?? process.env;
  const tty = process.stdout.isTTY === true;
  // no-color.org: NO_COLOR set to a non-empty value turns colour off.
  const color = !env.NO_COLOR && (env.FORCE_COLOR !== undefined ? env.FORCE_COLOR !== '0' : tty);
  const o: Output = { out: process.stdout, err: process.stderr, color, debug: options.debug ?? false };
  // process.stdin is a getter that opens a stream (about 4 ms of a short command's start): only
  // the commands that read standard input pay for it.
  Object.defineProperty(o, 'in', { get: () => process.stdin, enumerable: true });
  return o;
}

/** `output` with `debug` set, leaving its standard input unopened until a command reads it. */
export function withDebug(output: Output, debug: boolean): Output {
  const o: Output = { out: output.out, err: output.err, color: output.color, debug };
  Object.defineProperty(o, 'in', { get: () => output.in, enumerable: true });
  return o;
}

/** Wraps text in an ANSI style when colour is on. */
export function style(
  o: Output,
  code: 'bold' | 'dim' | 'red' | 'green' | 'yellow' | 'blue' | 'cyan',
  text: string,
): string {
  if (!o.color) return text;
  const codes = {
    bold: [1, 22],
    dim: [2, 22],
    red: [31, 39],
    green: [32, 39],
    yellow: [33, 39],
    blue: [34, 39],
    cyan: [36, 39],
  }[code];
  return `\u001b[${codes[0]}m${text}\u001b[${codes[1]}m`;
}

/** Prints a line to stdout; throws {@link OutputClosedError} once nobody reads it any more. */
export function println(o: Output, line = ''): void {
  if (isClosed(o.out)) throw new OutputClosedError();
  o.out.write(`${line}\n`);
}

/** A CLI usage error (exit 2). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/**
 * Prints an error as one line (`error[CODE]: message`, the code always, `ERR_USAGE` for usage
 * errors) plus a one-line hint specific to the error and the command that failed; the stack
 * only with --debug. Returns the exit code.
 */
export function reportError(o: Output, err: unknown, ctx: HintContext = {}): number {
  let code = 'ERR_INTERNAL';
  let message = String(err);
  let hint: string;
  if (err instanceof UsageError) {
    code = 'ERR_USAGE';
    message = err.message;
    hint = err.hint ?? helpHint(ctx);
  } else {
    if (isLayerkitError(err)) {
      code = err.code;
      // A failed RUN's output was shown in the build's log box: the error line is its first line only.
      message = typeof err.data.output === 'string' ? (err.message.split('\n')[0] ?? '') : err.message;
    } else if (isFsError(err)) {
      code = err.code ?? 'EIO';
      message = err.message;
    } else if (err instanceof Error) {
      message = err.message;
    }
    hint = hintFor(err, ctx);
  }
  o.err.write(`${style(o, 'red', `error[${code}]`)}: ${message.replace(/\n/g, ' ')}\n`);
  o.err.write(`hint: ${hint}\n`);
  if (o.debug && err instanceof Error && err.stack) o.err.write(`${err.stack}\n`);
  if (code === 'ERR_USAGE') return ExitCodes.usage;
  if (code === 'ERR_ABORTED') return ExitCodes.interrupted;
  return ExitCodes.failed;
}

/** Pads columns into an aligned table (left-aligned, two spaces between). */
export function table(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, visibleLength(cell));
    });
  }
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat(widths[i]! - visibleLength(cell))))
      .join('  ')
      .trimEnd(),
  );
}

function visibleLength(s: string): number {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\u001b\[[0-9;]*m/g, '').length;
}

/**
 * A progress bar on a terminal (redrawn in place, cleared when done); nothing at all when stderr
 * is not a terminal, so piped and CI output stays clean.
 */
export function progressBar(
  o: Output,
  label: string,
  unit: 'bytes' | 'items' = 'bytes',
): { update(done: number, total: number | undefined): void; done(): void } {
  if (!o.err.isTTY) return { update: () => undefined, done: () => undefined };
  let last = 0;
  let drawn = false;
  return {
    update(done, total) {
      const now = Date.now();
      if (now - last < 80) return;
      last = now;
      const width = Math.max(10, Math.min(40, (o.err.columns ?? 80) - label.length - 30));
      const frac = total ? Math.min(1, done / total) : 0;
      const bar = total ? '█'.repeat(Math.round(frac * width)).padEnd(width, '░') : '';
      const fmt = unit === 'bytes' ? (n: number) => formatSize(n) : String;
      const amount = total ? `${fmt(done)} / ${fmt(total)}` : fmt(done);
      o.err.write(`\r\u001b[2K${label} ${bar} ${amount}`);
      drawn = true;
    },
    done() {
      if (drawn) o.err.write('\r\u001b[2K');
    },
  };
}
