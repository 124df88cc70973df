/**
 * Running a command that is not a shell function or shell builtin, as `execvp` would: a
 * built-in utility (whatever PATH says; `/bin/echo`, `/usr/bin/env`... map to the same
 * utilities), the shell itself (`sh`, `bash`, `ash`, `dash`), or a script file found on the
 * filesystem. Anything else is "not found" with a message naming the other executors.
 */
import { posix } from 'node:path';
import { isLayerkitError } from '../errors.js';
import type { Script } from './ast.js';
import { ownCreated, openOutputFile, readInputFile, type FileEnv } from './files.js';
import { BrokenPipeError, toText } from './io.js';
import { Interpreter } from './interpreter.js';
import { parseScript, ShellSyntaxError } from './parser.js';
import { ExitSignal, FdTable, LoopSignal, ReturnSignal, type Runtime } from './runtime.js';
import { OPTION_LETTERS, ShellState, type ShellOptions } from './state.js';
import { fsErrorText } from './utils/common.js';
import type { UtilityContext, UtilityDefinition } from './utility.js';

/** The sentence every "not found" message ends with. */
export const NOT_FOUND_ADVICE =
  'the virtual shell runs built-in utilities only; use the linux executor (linuxExecutor) to run real binaries, or a function executor';

function advice(x: { rt: Runtime }): string {
  return x.rt.notFoundAdvice ?? NOT_FOUND_ADVICE;
}

/** Names that start the virtual shell itself. */
export const SHELL_NAMES: ReadonlySet<string> = new Set(['sh', 'bash', 'ash', 'dash']);

/** Directories whose `<dir>/<utility>` paths run the built-in utility, present on the filesystem or not. */
export const BIN_DIRS: ReadonlySet<string> = new Set([
  '/bin',
  '/sbin',
  '/usr/bin',
  '/usr/sbin',
  '/usr/local/bin',
  '/usr/local/sbin',
]);

/** Default PATH when the environment has none (Docker's). */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Where an external command runs. */
export interface ExternalEnv {
  rt: Runtime;
  fds: FdTable;
  env: Record<string, string>;
  cwd: string;
  umask: number;
}

function fileEnv(x: ExternalEnv): FileEnv {
  return { fs: x.rt.fs, cwd: x.cwd, umask: x.umask, user: x.rt.user };
}

/** Finds `name` in the PATH directories of the filesystem (a regular file). */
export async function searchPath(x: Pick<ExternalEnv, 'rt' | 'env'>, name: string): Promise<string | undefined> {
  const path = x.env.PATH ?? DEFAULT_PATH;
  for (const dir of path.split(':')) {
    const candidate = posix.join(dir === '' ? '.' : dir, name);
    if (!candidate.startsWith('/')) continue;
    try {
      if ((await x.rt.fs.stat(candidate)).isFile()) return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** The built-in a command name or path stands for (`echo`, `/bin/echo`), if any. */
export function builtinFor(rt: Runtime, name: string): { shell: true } | { utility: UtilityDefinition } | undefined {
  let base = name;
  if (name.includes('/')) {
    if (!name.startsWith('/') || !BIN_DIRS.has(posix.dirname(posix.normalize(name)))) return undefined;
    base = posix.basename(name);
  }
  if (SHELL_NAMES.has(base)) return { shell: true };
  const utility = rt.utilities.get(base);
  return utility === undefined ? undefined : { utility };
}

/** Runs a command as `execvp` would (utilities, the shell, script files) and returns its status. */
export async function runExternal(x: ExternalEnv, argv: readonly string[]): Promise<number> {
  const name = argv[0] ?? '';
  const builtin = builtinFor(x.rt, name);
  if (builtin !== undefined) {
    if ('shell' in builtin) return runShellProgram(x, argv);
    return runUtility(x, builtin.utility, argv);
  }
  if (!name.includes('/')) {
    const found = await searchPath(x, name);
    if (found !== undefined) return runFile(x, found, argv, true);
    await x.fds.stderr.write(`sh: ${name}: not found (${advice(x)})\n`);
    return 127;
  }
  return runFile(x, posix.resolve(x.cwd, name), argv);
}

const SHEBANG_SHELLS = /^(sh|bash|ash|dash)$/;

/**
 * Runs a file: a `#!` shell script, a plain text script (as `sh` would), never a binary. A
 * binary found through PATH (`apt-get`) is "not found" (127) like any command the virtual shell
 * lacks; one named by path is "cannot execute binary file" (126). Both messages name the
 * other executors.
 */
async function runFile(x: ExternalEnv, path: string, argv: readonly string[], viaPath = false): Promise<number> {
  const display = argv[0] ?? path;
  const fs = x.rt.fs;
  let mode: number;
  let isDir: boolean;
  try {
    const st = await fs.stat(path);
    mode = st.mode;
    isDir = st.isDirectory();
  } catch {
    await x.fds.stderr.write(`sh: ${display}: not found\n`);
    return 127;
  }
  if (isDir) {
    await x.fds.stderr.write(`sh: ${display}: Is a directory\n`);
    return 126;
  }
  if ((mode & 0o111) === 0) {
    await x.fds.stderr.write(`sh: ${display}: Permission denied\n`);
    return 126;
  }
  // As execve does: the interpreter gets the path the command was run by ($0 of the script).
  const scriptPath = display.includes('/') ? display : path;
  const bytes = await fs.readFile(path);
  const head = bytes.subarray(0, 4096);
  if (head[0] === 0x23 && head[1] === 0x21) {
    const nl = head.indexOf(10);
    const line = toText(head.subarray(2, nl < 0 ? head.length : nl)).trim();
    let words = line.split(/\s+/).filter((w) => w !== '');
    if (posix.basename(words[0] ?? '') === 'env') words = words.slice(1).filter((w) => w !== '-S');
    const interpName = posix.basename(words[0] ?? '');
    if (SHEBANG_SHELLS.test(interpName))
      return runShellProgram(x, [interpName, ...words.slice(1), scriptPath, ...argv.slice(1)]);
    await x.fds.stderr.write(`sh: ${display}: ${words[0] ?? '#!'}: not found (${advice(x)})\n`);
    return 127;
  }
  const binary = (head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46) || head.includes(0);
  if (binary && viaPath) {
    await x.fds.stderr.write(`sh: ${display}: not found (${advice(x)})\n`);
    return 127;
  }
  if (binary) {
    await x.fds.stderr.write(`sh: ${display}: cannot execute binary file (${advice(x)})\n`);
    return 126;
  }
  return runShellProgram(x, ['sh', scriptPath, ...argv.slice(1)]);
}

/** Runs a utility with a fresh context; fs errors it does not handle print `name: error` and give 1. */
export async function runUtility(x: ExternalEnv, utility: UtilityDefinition, argv: readonly string[]): Promise<number> {
  const name = posix.basename(argv[0] ?? utility.name);
  const env = fileEnv(x);
  const ctx: UtilityContext = {
    name,
    args: argv.slice(1),
    env: x.env,
    cwd: x.cwd,
    fs: x.rt.fs,
    stdin: x.fds.stdin,
    stdout: x.fds.stdout,
    stderr: x.fds.stderr,
    signal: x.rt.signal,
    user: x.rt.user,
    hostname: x.rt.hostname,
    umask: x.umask,
    resolve: (p) => posix.resolve(x.cwd, p),
    readInput: (p) => (p === '-' || p === '/dev/stdin' ? x.fds.stdin.readAll() : readInputFile(env, p)),
    openOutput: (p, o) => openOutputFile(env, p, { append: o.append, fds: x.fds }),
    ownCreated: (p, o) => ownCreated(env, p, o),
    hasUtility: (n) => !n.includes('/') && builtinFor(x.rt, n) !== undefined,
    exec: (args, o = {}) =>
      runExternal(
        {
          rt: x.rt,
          fds: FdTable.of(o.stdin ?? x.fds.stdin, o.stdout ?? x.fds.stdout, o.stderr ?? x.fds.stderr),
          env: o.env ?? x.env,
          cwd: o.cwd ?? x.cwd,
          umask: x.umask,
        },
        args,
      ),
    error: (message) => x.fds.stderr.write(`${name}: ${message}\n`),
  };
  try {
    return await utility.run(ctx);
  } catch (err) {
    if (err instanceof BrokenPipeError) return 141;
    if (isLayerkitError(err) || err instanceof ExitSignal || err instanceof ReturnSignal || err instanceof LoopSignal)
      throw err;
    await ctx.error(fsErrorText(err));
    return 1;
  }
}

/** What `runScriptText` starts a shell with. */
export interface ShellStart {
  rt: Runtime;
  fds: FdTable;
  env: Record<string, string>;
  cwd: string;
  umask: number;
  arg0: string;
  positional: string[];
  options?: Partial<ShellOptions>;
}

/** Parses and runs a script in a new shell; a syntax error prints `sh: line N: syntax error: ...` and gives 2. */
export async function runScriptText(start: ShellStart, source: string): Promise<number> {
  let script: Script;
  try {
    script = parseScript({ source });
  } catch (err) {
    if (err instanceof ShellSyntaxError) {
      await start.fds.stderr.write(`sh: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const state = new ShellState();
  for (const [k, v] of Object.entries(start.env)) state.vars.set(k, { value: v, exported: true, readonly: false });
  if (state.get('PATH') === undefined) state.vars.set('PATH', { value: DEFAULT_PATH, exported: true, readonly: false });
  state.vars.set('PWD', { value: start.cwd, exported: true, readonly: false });
  state.cwd = start.cwd;
  state.umask = start.umask;
  state.arg0 = start.arg0;
  state.positional = start.positional;
  Object.assign(state.options, start.options ?? {});
  const interp = new Interpreter(start.rt, state);
  return interp.runShell(() => interp.execList(script, start.fds, false), start.fds);
}

/** `sh [-eux...] [-o option] [-c script [arg0 [args...]] | file [args...] | -s [args...]]`. */
async function runShellProgram(x: ExternalEnv, argv: readonly string[]): Promise<number> {
  const options: Partial<ShellOptions> = {};
  let commandMode = false;
  let fromStdin = false;
  let i = 1;
  for (; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--' || a === '-') {
      i++;
      break;
    }
    if (a.startsWith('--')) {
      if (['--login', '--norc', '--noprofile', '--posix', '--noediting'].includes(a)) continue;
      await x.fds.stderr.write(`sh: ${a}: invalid option\n`);
      return 2;
    }
    if (!/^[-+][A-Za-z]+$/.test(a)) break;
    const on = a.startsWith('-');
    for (const c of a.slice(1)) {
      const key = OPTION_LETTERS[c];
      if (key !== undefined) options[key] = on;
      else if (c === 'c') commandMode = true;
      else if (c === 's') fromStdin = true;
      else if (c === 'o') {
        const opt = argv[++i];
        if (
          opt === 'pipefail' ||
          (opt !== undefined && Object.values(OPTION_LETTERS).includes(opt as keyof ShellOptions))
        ) {
          options[opt as keyof ShellOptions] = on;
        } else {
          await x.fds.stderr.write(`sh: ${opt ?? ''}: invalid option\n`);
          return 2;
        }
      } else if (c !== 'i' && c !== 'l' && c !== 'h' && c !== 'm' && c !== 'b' && c !== 'n') {
        await x.fds.stderr.write(`sh: -${c}: invalid option\n`);
        return 2;
      }
    }
  }
  const operands = argv.slice(i);
  const start: ShellStart = {
    rt: x.rt,
    fds: x.fds,
    env: x.env,
    cwd: x.cwd,
    umask: x.umask,
    arg0: argv[0] ?? 'sh',
    positional: [],
    options,
  };
  if (commandMode) {
    const script = operands[0];
    if (script === undefined) {
      await x.fds.stderr.write('sh: -c requires an argument\n');
      return 2;
    }
    if (operands[1] !== undefined) start.arg0 = operands[1];
    start.positional = operands.slice(2);
    return runScriptText(start, script);
  }
  if (operands.length > 0 && !fromStdin) {
    const path = operands[0] as string;
    let text: string;
    try {
      text = toText(await readInputFile(fileEnv(x), path));
    } catch (err) {
      await x.fds.stderr.write(`sh: can't open '${path}': ${fsErrorText(err)}\n`);
      return 127;
    }
    start.arg0 = path;
    start.positional = operands.slice(1);
    return runScriptText(start, text);
  }
  start.positional = operands;
  return runScriptText(start, await x.fds.stdin.readAllText());
}
