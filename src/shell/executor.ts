/**
 * The virtual-shell executor: runs RUN steps directly on a filesystem object (the union view
 * of the image being built) with the interpreter and built-in utilities of this folder. It can
 * never touch the host, behaves the same on every OS and in memory, and is deterministic.
 */
import type { ExecRequest, ExecResult, Executor } from '../union/executor.js';
import type { ExecutorFs } from '../union/fs-contract.js';
import { runExternal, runScriptText } from './external.js';
import { callbackWriter, InputStream } from './io.js';
import { FdTable, type Runtime } from './runtime.js';
import { resolveUser, UserLookupError, type ResolvedUser } from './users.js';
import type { Utility, UtilityDefinition } from './utility.js';
import { BUILTIN_UTILITIES } from './utils/index.js';

/** Options of {@link createVirtualShell}. */
export interface VirtualShellOptions {
  /** More utilities (or replacements for built-in ones), by command name. */
  extraUtilities?: Record<string, Utility>;
  /**
   * What "command not found" messages advise instead of the default (which names the library's
   * `linuxExecutor`): the CLI says `--executor linux`.
   */
  notFoundAdvice?: string;
}

/** What {@link runShellScript} runs. */
export interface RunShellScriptOptions {
  /** The script text (as `sh -c` would get it). */
  script: string;
  fs: ExecutorFs;
  /** Environment variables (exported to commands). */
  env?: Record<string, string>;
  /** Working directory, absolute (default `/`). */
  cwd?: string;
  /** The user to run as (`name`, `uid`, `uid:gid`, `name:group`); empty means root. */
  user?: string;
  stdin?: Uint8Array;
  stdout?: (chunk: Uint8Array) => void;
  stderr?: (chunk: Uint8Array) => void;
  signal?: AbortSignal;
  /** `$0` (default `sh`). */
  arg0?: string;
  /** Positional parameters `$1`... */
  args?: string[];
  /** More utilities, by command name. */
  extraUtilities?: Record<string, Utility>;
}

function utilityTable(extra: Record<string, Utility> | undefined): Map<string, UtilityDefinition> {
  const table = new Map<string, UtilityDefinition>(BUILTIN_UTILITIES.map((u) => [u.name, u]));
  for (const [name, run] of Object.entries(extra ?? {})) {
    table.set(name, { name, synopsis: name, description: 'extra utility', run });
  }
  return table;
}

interface Prepared {
  rt: Runtime;
  fds: FdTable;
  env: Record<string, string>;
}

/** Resolves the user and builds the runtime; a user the image lacks prints Docker's error and gives 126. */
async function prepare(
  request: Pick<ExecRequest, 'fs' | 'user' | 'env' | 'signal' | 'stdout' | 'stderr' | 'stdin' | 'hostname'>,
  utilities: Map<string, UtilityDefinition>,
  notFoundAdvice?: string,
): Promise<Prepared | ExecResult> {
  const stderr = callbackWriter(request.stderr);
  let user: ResolvedUser;
  try {
    user = await resolveUser({ fs: request.fs, user: request.user });
  } catch (err) {
    if (!(err instanceof UserLookupError)) throw err;
    await stderr.write(`sh: ${err.message}\n`);
    return { exitCode: 126 };
  }
  const env = { ...request.env };
  if (env.HOME === undefined) env.HOME = user.home;
  const rt: Runtime = {
    fs: request.fs,
    signal: request.signal,
    user,
    utilities,
    jobs: 1,
    ticks: 0,
    ...(notFoundAdvice === undefined ? {} : { notFoundAdvice }),
    ...(request.hostname === undefined ? {} : { hostname: request.hostname }),
  };
  const stdin = request.stdin === undefined ? InputStream.empty() : InputStream.of(request.stdin);
  return { rt, fds: FdTable.of(stdin, callbackWriter(request.stdout), stderr), env };
}

/**
 * Creates the virtual-shell executor (`name: 'virtual-shell'`). `run()` takes the argv of a RUN
 * step: `['/bin/sh', '-c', script]` (also `sh`, `bash`, `ash`, `dash`, with shell options before
 * `-c`) interprets the script; any other argv runs as one command, as exec-form RUN does.
 */
export function createVirtualShell(options: VirtualShellOptions = {}): Executor {
  const utilities = utilityTable(options.extraUtilities);
  return {
    name: 'virtual-shell',
    async run(request: ExecRequest): Promise<ExecResult> {
      const p = await prepare(request, utilities, options.notFoundAdvice);
      if ('exitCode' in p) return p;
      if (request.argv.length === 0) return { exitCode: 0 };
      const exitCode = await runExternal(
        { rt: p.rt, fds: p.fds, env: p.env, cwd: request.cwd, umask: 0o022 },
        request.argv,
      );
      return { exitCode };
    },
  };
}

/** Runs a script with the virtual shell directly (no argv parsing), for use outside the builder. */
export async function runShellScript(options: RunShellScriptOptions): Promise<ExecResult> {
  const request = {
    fs: options.fs,
    user: options.user ?? '',
    env: options.env ?? {},
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.stdout === undefined ? {} : { stdout: options.stdout }),
    ...(options.stderr === undefined ? {} : { stderr: options.stderr }),
    ...(options.stdin === undefined ? {} : { stdin: options.stdin }),
  };
  const p = await prepare(request, utilityTable(options.extraUtilities));
  if ('exitCode' in p) return p;
  const exitCode = await runScriptText(
    {
      rt: p.rt,
      fds: p.fds,
      env: p.env,
      cwd: options.cwd ?? '/',
      umask: 0o022,
      arg0: options.arg0 ?? 'sh',
      positional: options.args ?? [],
    },
    options.script,
  );
  return { exitCode };
}
