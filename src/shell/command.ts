/**
 * Simple commands: expand the words and assignments, trace them under `set -x`, then run the
 * command found in POSIX order: special builtins (whose assignments stay), functions, regular
 * builtins, then utilities and scripts (`external.ts`) with the assignments in their environment.
 */
import type { SimpleCommand, WordPart } from './ast.js';
import { splitTilde } from './words.js';
import { regularBuiltin, SPECIAL_BUILTINS, type Builtin } from './builtins.js';
import { shellQuote } from './expand.js';
import { runExternal } from './external.js';
import type { Interpreter } from './interpreter.js';
import { BrokenPipeError } from './io.js';
import { applyRedirects } from './redirect.js';
import { ExitSignal, type FdEntry, type FdTable } from './runtime.js';
import type { ShellVar } from './state.js';

/** Runs a simple command and returns its exit status. */
export async function execSimple(
  interp: Interpreter,
  cmd: SimpleCommand,
  fds: FdTable,
  noErrexit: boolean,
): Promise<number> {
  await interp.checkpoint();
  interp.cmdSubStatus = undefined;
  const argv = await expandArguments(interp, cmd, fds);
  const name = argv[0];
  if (name === undefined) {
    // Assignments alone: each is expanded and made in turn (`x=1 y=$x`), after the redirections.
    const rfds = await applyRedirects(interp, cmd.redirs, fds);
    if (rfds === undefined) return 1;
    for (const a of cmd.assigns) {
      const value = await interp.expandString(a.value, rfds);
      if (interp.state.options.xtrace) await interp.trace(rfds, `${a.name}=${shellQuote(value)}`);
      await interp.setVar(a.name, value, rfds);
    }
    return interp.cmdSubStatus ?? 0;
  }
  const assigns: [string, string][] = [];
  for (const a of cmd.assigns) assigns.push([a.name, await interp.expandString(a.value, fds)]);
  if (interp.state.options.xtrace) {
    await interp.trace(
      fds,
      [...assigns.map(([k, v]) => `${k}=${shellQuote(v)}`), ...argv.map((a) => shellQuote(a))].join(' '),
    );
  }
  const args = argv.slice(1);
  if (name === 'exec') return execBuiltin(interp, cmd, args, assigns, fds);
  const special = SPECIAL_BUILTINS.get(name);
  if (special !== undefined) {
    for (const [k, v] of assigns) await interp.setVar(k, v, fds);
    const rfds = await applyRedirects(interp, cmd.redirs, fds);
    if (rfds === undefined) return 1;
    return invoke(() => special(interp, args, rfds, noErrexit));
  }
  const fn = interp.state.functions.get(name);
  const builtin = regularBuiltin(name);
  if (fn !== undefined || builtin !== undefined) {
    const rfds = await applyRedirects(interp, cmd.redirs, fds);
    if (rfds === undefined) return 1;
    return withTemporaryVars(interp, assigns, () =>
      fn !== undefined
        ? interp.callFunction(fn, args, rfds, noErrexit)
        : invoke(() => (builtin as Builtin)(interp, args, rfds, noErrexit)),
    );
  }
  const rfds = await applyRedirects(interp, cmd.redirs, fds);
  if (rfds === undefined) return 1;
  return invoke(() => runExternal(externalEnv(interp, rfds, assigns), argv));
}

const DECLARATIONS = new Set(['export', 'readonly', 'local']);

/**
 * Expands the words of a command. After `export`, `readonly` and `local`, arguments written as
 * `name=value` are expanded like assignments (no field splitting or globbing), as ash, dash and
 * bash do: `export PATH=$PATH:/opt/x bin` keeps a value with spaces in one piece.
 */
async function expandArguments(interp: Interpreter, cmd: SimpleCommand, fds: FdTable): Promise<string[]> {
  const first = cmd.words[0]?.parts;
  const declaration = first?.length === 1 && first[0]?.type === 'lit' && DECLARATIONS.has(first[0].text);
  if (!declaration) return interp.expandWords(cmd.words, fds);
  const out: string[] = [];
  for (const word of cmd.words) {
    const lead = word.parts[0];
    if (word === cmd.words[0] || lead?.type !== 'lit' || !/^[A-Za-z_][A-Za-z0-9_]*=/.test(lead.text)) {
      out.push(...(await interp.expandWords([word], fds)));
      continue;
    }
    const eq = lead.text.indexOf('=') + 1;
    const value = splitTilde([{ type: 'lit', text: lead.text.slice(eq) }, ...word.parts.slice(1)]);
    const parts: WordPart[] = [{ type: 'lit', text: lead.text.slice(0, eq) }, ...value];
    out.push(await interp.expandString({ parts, text: word.text }, fds));
  }
  return out;
}

/** The environment for an external command: exported variables plus the command's assignments. */
export function externalEnv(interp: Interpreter, fds: FdTable, assigns: readonly [string, string][] = []) {
  const env = interp.state.environment();
  for (const [k, v] of assigns) env[k] = v;
  return { rt: interp.rt, fds, env, cwd: interp.state.cwd, umask: interp.state.umask };
}

/** Runs a command body; writing to a pipe nobody reads ends it with 141, as SIGPIPE would. */
async function invoke(fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof BrokenPipeError) return 141;
    throw err;
  }
}

/** Runs `fn` with variables set for its duration (`IFS= read`, `VAR=x func`), then restores them. */
async function withTemporaryVars(
  interp: Interpreter,
  assigns: readonly [string, string][],
  fn: () => Promise<number>,
): Promise<number> {
  if (assigns.length === 0) return fn();
  const state = interp.state;
  const saved = new Map<string, ShellVar | undefined>();
  for (const [k, v] of assigns) {
    if (!saved.has(k)) {
      const old = state.vars.get(k);
      saved.set(k, old === undefined ? undefined : { ...old });
    }
    if (state.vars.get(k)?.readonly) continue;
    state.vars.set(k, { value: v, exported: true, readonly: false });
  }
  try {
    return await fn();
  } finally {
    for (const [k, old] of saved) {
      if (state.vars.get(k)?.readonly && old?.readonly !== true) continue;
      if (old === undefined) state.vars.delete(k);
      else state.vars.set(k, old);
    }
  }
}

/** `exec [command [args]]`: with no command, makes the redirections permanent; otherwise runs it and exits. */
async function execBuiltin(
  interp: Interpreter,
  cmd: SimpleCommand,
  args: string[],
  assigns: [string, string][],
  fds: FdTable,
): Promise<number> {
  const rfds = await applyRedirects(interp, cmd.redirs, fds);
  if (rfds === undefined) return 1;
  if (args.length === 0) {
    for (const [k, v] of assigns) await interp.setVar(k, v, fds);
    for (let fd = 0; fd < 10; fd++) {
      const entry: FdEntry | undefined = rfds.get(fd);
      if (entry !== fds.get(fd)) {
        if (entry === undefined) interp.execFds.delete(fd);
        else interp.execFds.set(fd, entry);
      }
    }
    return 0;
  }
  const status = await invoke(() => runExternal(externalEnv(interp, rfds, assigns), args));
  throw new ExitSignal(status);
}
