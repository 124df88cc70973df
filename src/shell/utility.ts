/**
 * The contract between the shell and its built-in utilities (`echo`, `cp`, `grep`...): what a
 * utility receives (arguments, environment, working directory, filesystem, streams, user) and
 * the helpers it may use. Users can add their own through `createVirtualShell({ extraUtilities })`.
 */
import type { ExecutorFs } from '../union/fs-contract.js';
import type { InputStream, Writer } from './io.js';
import type { ResolvedUser } from './users.js';

/** Options for running another command from a utility (`xargs`, `env`, `find -exec`). */
export interface UtilityExecOptions {
  stdin?: InputStream;
  stdout?: Writer;
  stderr?: Writer;
  /** The whole environment of the command (default: the utility's own). */
  env?: Record<string, string>;
  cwd?: string;
}

/** Everything a utility gets for one invocation. */
export interface UtilityContext {
  /** The name it was invoked as (the basename of `argv[0]`). */
  readonly name: string;
  /** The arguments after the command name. */
  readonly args: readonly string[];
  /** The environment (exported variables and command-prefix assignments). */
  readonly env: Readonly<Record<string, string>>;
  /** Working directory, absolute. */
  readonly cwd: string;
  readonly fs: ExecutorFs;
  readonly stdin: InputStream;
  readonly stdout: Writer;
  readonly stderr: Writer;
  readonly signal: AbortSignal | undefined;
  /** The user the command runs as; files it creates belong to this user. */
  readonly user: ResolvedUser;
  /** The host name the command was given, when the caller gave one (a RUN: `buildkitsandbox`). */
  readonly hostname?: string | undefined;
  /** File mode creation mask (`022` unless changed with `umask`). */
  readonly umask: number;
  /** Resolves a path against the working directory (absolute, normalised). */
  resolve(path: string): string;
  /** Reads an input operand: `-` and `/dev/stdin` are standard input, `/dev/null` is empty. */
  readInput(path: string): Promise<Uint8Array>;
  /** Opens an output file (created if missing, truncated unless `append`); `/dev/null`, `/dev/stdout`, `/dev/stderr` are virtual. */
  openOutput(path: string, options: { append: boolean }): Promise<Writer>;
  /** Gives a file the utility just created to the running user (no-op for root). */
  ownCreated(path: string, options?: { symlink?: boolean }): Promise<void>;
  /** True when NAME is a utility the shell runs itself (built-in, extra, or the shell: `sh`, `bash`...). */
  hasUtility(name: string): boolean;
  /** Runs another command (utility or script, never a shell function) and returns its exit status. */
  exec(argv: readonly string[], options?: UtilityExecOptions): Promise<number>;
  /** Prints `name: message` on standard error. */
  error(message: string): Promise<void>;
}

/** A utility: runs once per invocation and returns its exit status. */
export type Utility = (ctx: UtilityContext) => Promise<number>;

/** A built-in utility with its documentation (the README's table is generated from these). */
export interface UtilityDefinition {
  name: string;
  /** Usage line with the supported flags, e.g. `cat [-n] [FILE|-]...`. */
  synopsis: string;
  /** One sentence on what it does and how it departs from GNU/busybox, if at all. */
  description: string;
  run: Utility;
}
