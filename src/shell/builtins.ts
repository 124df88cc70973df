/**
 * Shell builtins that change the shell itself. Special builtins (POSIX: their prefix
 * assignments stay, and they are found before functions): `:`, `.`/`source`, `break`,
 * `continue`, `eval`, `exec` (in `command.ts`), `exit`, `export`, `readonly`, `return`, `set`,
 * `shift`, `times`, `trap`, `unset`. Regular builtins are in `builtins-regular.ts`.
 */
import { posix } from 'node:path';
import { shellQuote } from './expand.js';
import { searchPath } from './external.js';
import type { Interpreter } from './interpreter.js';
import { toText } from './io.js';
import { parseScript, ShellSyntaxError } from './parser.js';
import { ExitSignal, LoopSignal, ReturnSignal, type FdTable } from './runtime.js';
import { OPTION_LETTERS, ReadonlyVariableError, type ShellOptions } from './state.js';
import { fsErrorText } from './utils/common.js';
import { REGULAR_BUILTINS } from './builtins-regular.js';

/** A shell builtin: runs in the shell's own state. */
export type Builtin = (interp: Interpreter, args: string[], fds: FdTable, noErrexit: boolean) => Promise<number>;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The `set -o` names, in the order `set -o` lists them. */
const OPTION_NAMES: readonly (keyof ShellOptions)[] = [
  'errexit',
  'noglob',
  'xtrace',
  'verbose',
  'noclobber',
  'allexport',
  'nounset',
  'pipefail',
];

function parseNumber(text: string | undefined, fallback: number): number | undefined {
  if (text === undefined) return fallback;
  return /^[0-9]+$/.test(text) ? Number(text) : undefined;
}

const colon: Builtin = async () => 0;

const exit: Builtin = async (interp, args, fds) => {
  const n = parseNumber(args[0], interp.state.status);
  if (n === undefined) return interp.fatal(fds, `exit: Illegal number: ${args[0] ?? ''}`, 2);
  throw new ExitSignal(n & 255);
};

const ret: Builtin = async (interp, args, fds) => {
  const n = parseNumber(args[0], interp.state.status);
  if (n === undefined) return interp.fatal(fds, `return: Illegal number: ${args[0] ?? ''}`, 2);
  throw new ReturnSignal(n & 255);
};

function loopControl(kind: 'break' | 'continue'): Builtin {
  return async (interp, args, fds) => {
    const n = parseNumber(args[0], 1);
    if (n === undefined || n < 1) return interp.fatal(fds, `${kind}: Illegal number: ${args[0] ?? ''}`, 2);
    if (interp.loopDepth === 0) return 0;
    throw new LoopSignal(kind, Math.min(n, interp.loopDepth));
  };
}

const evalBuiltin: Builtin = async (interp, args, fds, noErrexit) => {
  const text = args.join(' ');
  if (text.trim() === '') return 0;
  return interp.evalString(text, fds, noErrexit);
};

const dot: Builtin = async (interp, args, fds, noErrexit) => {
  const file = args[0];
  if (file === undefined) return interp.fatal(fds, '.: filename argument required', 2);
  const state = interp.state;
  let path: string | undefined;
  if (file.includes('/')) path = posix.resolve(state.cwd, file);
  else
    path =
      (await searchPath({ rt: interp.rt, env: { PATH: state.get('PATH') ?? '' } }, file)) ??
      posix.resolve(state.cwd, file);
  let source: string;
  try {
    source = toText(await interp.rt.fs.readFile(path));
  } catch (err) {
    return interp.fatal(fds, `.: can't open '${file}': ${fsErrorText(err)}`, 2);
  }
  let script;
  try {
    script = parseScript({ source });
  } catch (err) {
    if (err instanceof ShellSyntaxError) return interp.fatal(fds, `${file}: ${err.message}`, 2);
    throw err;
  }
  const savedPositional = state.positional;
  if (args.length > 1) state.positional = args.slice(1);
  interp.sourceDepth++;
  try {
    return await interp.execList(script, fds, noErrexit);
  } catch (err) {
    if (err instanceof ReturnSignal) return err.status;
    throw err;
  } finally {
    interp.sourceDepth--;
    if (args.length > 1) state.positional = savedPositional;
  }
};

function quoteValue(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

const set: Builtin = async (interp, args, fds) => {
  const state = interp.state;
  if (args.length === 0) {
    const names = [...state.vars.keys()].sort();
    await fds.stdout.write(names.map((n) => `${n}=${quoteValue(state.vars.get(n)?.value ?? '')}\n`).join(''));
    return 0;
  }
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--') {
      state.positional = args.slice(i + 1);
      return 0;
    }
    if (a === '-' || a === '+') {
      state.options.xtrace = false;
      state.options.verbose = false;
      i++;
      break;
    }
    if (!/^[-+]/.test(a)) break;
    const on = a.startsWith('-');
    for (const c of a.slice(1)) {
      if (c === 'o') {
        const name = args[i + 1];
        if (name === undefined || /^[-+]/.test(name)) {
          const lines = OPTION_NAMES.map((o) =>
            on ? `${o.padEnd(16)}${state.options[o] ? 'on' : 'off'}\n` : `set ${state.options[o] ? '-' : '+'}o ${o}\n`,
          );
          await fds.stdout.write(lines.join(''));
          continue;
        }
        i++;
        if (!OPTION_NAMES.includes(name as keyof ShellOptions)) {
          await interp.warn(fds, `set: illegal option -o ${name}`);
          return 2;
        }
        state.options[name as keyof ShellOptions] = on;
        continue;
      }
      const key = OPTION_LETTERS[c];
      if (key === undefined) {
        await interp.warn(fds, `set: illegal option ${a[0]}${c}`);
        return 2;
      }
      state.options[key] = on;
    }
  }
  if (i < args.length) state.positional = args.slice(i);
  return 0;
};

const shift: Builtin = async (interp, args, fds) => {
  const n = parseNumber(args[0], 1);
  if (n === undefined) return interp.fatal(fds, `shift: Illegal number: ${args[0] ?? ''}`, 2);
  if (n > interp.state.positional.length) return 1;
  interp.state.positional = interp.state.positional.slice(n);
  return 0;
};

function exportLike(kind: 'export' | 'readonly'): Builtin {
  return async (interp, args, fds) => {
    const state = interp.state;
    const operands = args.filter((a) => a !== '-p');
    if (operands.length === 0) {
      const names = [...state.vars.keys()].sort();
      const lines = names
        .filter((n) => (kind === 'export' ? state.vars.get(n)?.exported : state.vars.get(n)?.readonly))
        .map((n) => `${kind} ${n}=${quoteValue(state.vars.get(n)?.value ?? '')}\n`);
      await fds.stdout.write(lines.join(''));
      return 0;
    }
    let status = 0;
    for (const op of operands) {
      const eq = op.indexOf('=');
      const name = eq < 0 ? op : op.slice(0, eq);
      if (!NAME.test(name)) {
        await interp.warn(fds, `${kind}: ${name}: bad variable name`);
        status = 1;
        continue;
      }
      if (eq >= 0) await interp.setVar(name, op.slice(eq + 1), fds);
      if (kind === 'export') {
        if (state.vars.has(name)) state.markExported(name);
        else state.exportOnAssign.add(name);
      } else {
        if (!state.vars.has(name)) await interp.setVar(name, '', fds);
        state.markReadonly(name);
      }
    }
    return status;
  };
}

const unset: Builtin = async (interp, args, fds) => {
  let functions = false;
  let status = 0;
  for (const a of args) {
    if (a === '-f') {
      functions = true;
      continue;
    }
    if (a === '-v') {
      functions = false;
      continue;
    }
    if (functions) {
      interp.state.functions.delete(a);
      continue;
    }
    try {
      interp.state.unset(a);
      interp.state.exportOnAssign.delete(a);
    } catch (err) {
      if (!(err instanceof ReadonlyVariableError)) throw err;
      await interp.warn(fds, `unset: ${err.message}`);
      status = 1;
    }
  }
  return status;
};

const times: Builtin = async (_interp, _args, fds) => {
  await fds.stdout.write('0m0.000s 0m0.000s\n0m0.000s 0m0.000s\n');
  return 0;
};

const TRAP_CONDITIONS = new Map<string, string>([
  ['0', 'EXIT'],
  ['1', 'HUP'],
  ['2', 'INT'],
  ['3', 'QUIT'],
  ['15', 'TERM'],
]);

/** `trap [action condition...]`: EXIT actions run when the shell exits; signals never arrive in the virtual shell. */
const trap: Builtin = async (interp, args, fds) => {
  const traps = interp.state.traps;
  const list = args[0] === '-p' || args.length === 0;
  if (list) {
    const lines = [...traps].map(([cond, action]) => `trap -- ${shellQuote(action)} ${cond}\n`);
    await fds.stdout.write(lines.join(''));
    return 0;
  }
  let action: string | undefined = args[0] as string;
  let conditions = args.slice(1);
  if (/^[0-9]+$/.test(action) || args.length === 1) {
    conditions = args;
    action = undefined;
  }
  if (action === '-') action = undefined;
  let status = 0;
  for (const raw of conditions) {
    const upper = raw.toUpperCase().replace(/^SIG/, '');
    const cond = TRAP_CONDITIONS.get(upper) ?? upper;
    if (!/^(EXIT|HUP|INT|QUIT|TERM|KILL|USR1|USR2|ALRM|CHLD|PIPE|ERR|DEBUG|RETURN|WINCH|STOP|TSTP|CONT)$/.test(cond)) {
      await interp.warn(fds, `trap: ${raw}: bad trap`);
      status = 1;
      continue;
    }
    if (action === undefined) traps.delete(cond);
    else traps.set(cond, action);
  }
  return status;
};

/** Special builtins: found before functions; their prefix assignments stay in the shell. */
export const SPECIAL_BUILTINS: ReadonlyMap<string, Builtin> = new Map<string, Builtin>([
  [':', colon],
  ['.', dot],
  ['source', dot],
  ['break', loopControl('break')],
  ['continue', loopControl('continue')],
  ['eval', evalBuiltin],
  ['exit', exit],
  ['export', exportLike('export')],
  ['readonly', exportLike('readonly')],
  ['return', ret],
  ['set', set],
  ['shift', shift],
  ['times', times],
  ['trap', trap],
  ['unset', unset],
]);

/** A regular builtin (found after functions, before utilities), if `name` is one. */
export function regularBuiltin(name: string): Builtin | undefined {
  return REGULAR_BUILTINS.get(name);
}

/** Reserved words (for `type` and `command -v`). */
export const KEYWORDS: ReadonlySet<string> = new Set([
  'if',
  'then',
  'else',
  'elif',
  'fi',
  'do',
  'done',
  'case',
  'esac',
  'while',
  'until',
  'for',
  'in',
  '{',
  '}',
  '!',
]);
