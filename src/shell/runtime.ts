/**
 * What every shell and subshell of one run shares: the filesystem, the abort signal, the user
 * the commands run as, the utility table, and the control-flow signals (`exit`, `return`,
 * `break`/`continue`) that unwind the interpreter.
 */
import type { ExecutorFs } from '../union/fs-contract.js';
import { InputStream, nullWriter, type Writer } from './io.js';
import type { ResolvedUser } from './users.js';
import type { UtilityDefinition } from './utility.js';

/** Shared by all shells of one run. */
export interface Runtime {
  readonly fs: ExecutorFs;
  readonly signal: AbortSignal | undefined;
  readonly user: ResolvedUser;
  readonly utilities: ReadonlyMap<string, UtilityDefinition>;
  /** Counter behind `$!` (each `&` command gets the next number). */
  jobs: number;
  /** Commands run since the interpreter last yielded to the event loop. */
  ticks: number;
  /** What "not found" messages advise (default {@link NOT_FOUND_ADVICE}); the CLI names its own flag. */
  readonly notFoundAdvice?: string;
  /** The host name the command was given (`ExecRequest.hostname`), which `hostname` and `uname -n` print. */
  readonly hostname?: string;
}

/** Unwinds to the enclosing shell or subshell, which exits with `status`. */
export class ExitSignal {
  constructor(readonly status: number) {}
}

/** Unwinds to the enclosing function call or `.` script. */
export class ReturnSignal {
  constructor(readonly status: number) {}
}

/** Unwinds `levels` enclosing loops (`break`), or continues the `levels`-th one (`continue`). */
export class LoopSignal {
  constructor(
    readonly kind: 'break' | 'continue',
    readonly levels: number,
  ) {}
}

/** An open file descriptor: an input stream or an output writer. */
export type FdEntry = { kind: 'in'; stream: InputStream } | { kind: 'out'; writer: Writer };

/** The file descriptors of a command (immutable: redirections make a new table). */
export class FdTable {
  private readonly map: ReadonlyMap<number, FdEntry>;

  constructor(map: ReadonlyMap<number, FdEntry>) {
    this.map = map;
  }

  /** A table with standard input, output and error. */
  static of(stdin: InputStream, stdout: Writer, stderr: Writer): FdTable {
    return new FdTable(
      new Map<number, FdEntry>([
        [0, { kind: 'in', stream: stdin }],
        [1, { kind: 'out', writer: stdout }],
        [2, { kind: 'out', writer: stderr }],
      ]),
    );
  }

  get(fd: number): FdEntry | undefined {
    return this.map.get(fd);
  }

  /** A copy with `fd` set (or closed when `entry` is undefined). */
  with(fd: number, entry: FdEntry | undefined): FdTable {
    const map = new Map(this.map);
    if (entry === undefined) map.delete(fd);
    else map.set(fd, entry);
    return new FdTable(map);
  }

  /** The input of `fd`, or an empty stream when it is closed or not readable. */
  input(fd: number): InputStream | undefined {
    const e = this.map.get(fd);
    return e?.kind === 'in' ? e.stream : undefined;
  }

  /** The writer of `fd`, or one that drops output when it is closed or not writable. */
  output(fd: number): Writer {
    const e = this.map.get(fd);
    return e?.kind === 'out' ? e.writer : nullWriter;
  }

  get stdin(): InputStream {
    return this.input(0) ?? InputStream.empty();
  }

  get stdout(): Writer {
    return this.output(1);
  }

  get stderr(): Writer {
    return this.output(2);
  }
}
