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

export {
  isClosed,
  isClosedOutputError,
  isTerminal,
  onOutputError,
  type Output,
  OutputClosedError,
  type OutputRecording,
  println,
  processOutput,
  recordOutput,
  withDebug,
  writeText,
} from './stdio.js';
import { type Output, writeText } from './stdio.js';

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
  writeText(o, 'err', `${style(o, 'red', `error[${code}]`)}: ${message.replace(/\n/g, ' ')}\n`);
  writeText(o, 'err', `hint: ${hint}\n`);
  if (o.debug && err instanceof Error && err.stack) writeText(o, 'err', `${err.stack}\n`);
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
