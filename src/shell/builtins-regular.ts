/**
 * Regular shell builtins (found after functions): `cd`, `read`, `local`, `command`, `type`,
 * `umask`, `wait`, `getopts`, `hash`. They need the shell's own state, which is why they are
 * not utilities.
 */
import { posix } from 'node:path';
import type { Builtin } from './builtins.js';
import { KEYWORDS, SPECIAL_BUILTINS, regularBuiltin } from './builtins.js';
import { builtinFor, runExternal, searchPath } from './external.js';
import { externalEnv } from './command.js';
import type { Interpreter } from './interpreter.js';
import { concatBytes, toText } from './io.js';
import { fsErrorText } from './utils/common.js';
import { applyMode } from './utils/mode.js';
import type { FdTable } from './runtime.js';

const cd: Builtin = async (interp, args, fds) => {
  const state = interp.state;
  let physical = false;
  const operands: string[] = [];
  for (const a of args) {
    if (operands.length === 0 && (a === '-L' || a === '-P')) physical = a === '-P';
    else operands.push(a);
  }
  let target = operands[0];
  let print = false;
  if (target === undefined) {
    target = state.get('HOME');
    if (target === undefined || target === '') return 0;
  } else if (target === '-') {
    target = state.get('OLDPWD');
    if (target === undefined) {
      await interp.warn(fds, 'cd: OLDPWD not set');
      return 1;
    }
    print = true;
  }
  let dest = posix.resolve(state.cwd, target);
  try {
    const st = await interp.rt.fs.stat(dest);
    if (!st.isDirectory()) {
      const err = Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
      throw err;
    }
    if (physical) dest = await interp.rt.fs.realpath(dest);
  } catch (err) {
    await interp.warn(fds, `cd: can't cd to ${target}: ${fsErrorText(err)}`);
    return 2;
  }
  const old = state.cwd;
  state.cwd = dest;
  await interp.setVar('OLDPWD', old, fds);
  await interp.setVar('PWD', dest, fds);
  if (print) await fds.stdout.write(`${dest}\n`);
  return 0;
};

/** `read [-r] [-p prompt] [-s] [-t secs] [name...]`: one line from stdin, split on IFS. */
const read: Builtin = async (interp, args, fds) => {
  let raw = false;
  const names: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (names.length === 0 && /^-[rs]+$/.test(a)) {
      if (a.includes('r')) raw = true;
      continue;
    }
    if (names.length === 0 && (a === '-p' || a === '-t')) {
      if (a === '-p') await fds.stderr.write(args[i + 1] ?? '');
      i++;
      continue;
    }
    if (names.length === 0 && /^-/.test(a) && a !== '-') {
      await interp.warn(fds, `read: invalid option ${a}`);
      return 2;
    }
    names.push(a);
  }
  if (names.length === 0) names.push('REPLY');
  const chars: { c: string; esc: boolean }[] = [];
  let complete = false;
  const stdin = fds.stdin;
  outer: for (;;) {
    const lineBytes = await stdin.readLine();
    if (lineBytes === null) break;
    const line = toText(concatBytes([lineBytes]));
    const hasNl = line.endsWith('\n');
    const body = hasNl ? line.slice(0, -1) : line;
    const list = Array.from(body);
    for (let i = 0; i < list.length; i++) {
      const c = list[i] as string;
      if (!raw && c === '\\') {
        if (i === list.length - 1) {
          if (hasNl) continue outer;
          break;
        }
        chars.push({ c: list[++i] as string, esc: true });
        continue;
      }
      chars.push({ c, esc: false });
    }
    complete = hasNl;
    break;
  }
  const ifs = interp.state.get('IFS') ?? ' \t\n';
  const isWs = (ch: { c: string; esc: boolean }): boolean => !ch.esc && ifs.includes(ch.c) && ' \t\n'.includes(ch.c);
  const isIfs = (ch: { c: string; esc: boolean }): boolean => !ch.esc && ifs.includes(ch.c);
  let pos = 0;
  while (pos < chars.length && isWs(chars[pos] as { c: string; esc: boolean })) pos++;
  for (let n = 0; n < names.length; n++) {
    const name = names[n] as string;
    if (n === names.length - 1) {
      let end = chars.length;
      while (end > pos && isWs(chars[end - 1] as { c: string; esc: boolean })) end--;
      await interp.setVar(
        name,
        chars
          .slice(pos, end)
          .map((x) => x.c)
          .join(''),
        fds,
      );
      break;
    }
    let field = '';
    while (pos < chars.length && !isIfs(chars[pos] as { c: string; esc: boolean }))
      field += (chars[pos++] as { c: string }).c;
    await interp.setVar(name, field, fds);
    while (pos < chars.length && isWs(chars[pos] as { c: string; esc: boolean })) pos++;
    if (pos < chars.length && isIfs(chars[pos] as { c: string; esc: boolean })) {
      pos++;
      while (pos < chars.length && isWs(chars[pos] as { c: string; esc: boolean })) pos++;
    }
  }
  return complete ? 0 : 1;
};

const local: Builtin = async (interp, args, fds) => {
  for (const a of args) {
    const eq = a.indexOf('=');
    const name = eq < 0 ? a : a.slice(0, eq);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      await interp.warn(fds, `local: ${name}: bad variable name`);
      return 1;
    }
    if (!interp.state.makeLocal(name)) {
      await interp.warn(fds, 'local: not in a function');
      return 1;
    }
    if (eq >= 0) await interp.setVar(name, a.slice(eq + 1), fds);
  }
  return 0;
};

type Kind = 'keyword' | 'function' | 'special' | 'builtin' | 'utility' | 'file' | undefined;

async function classify(interp: Interpreter, name: string): Promise<{ kind: Kind; path?: string }> {
  if (KEYWORDS.has(name)) return { kind: 'keyword' };
  if (interp.state.functions.has(name)) return { kind: 'function' };
  if (SPECIAL_BUILTINS.has(name) || name === 'exec') return { kind: 'special' };
  if (regularBuiltin(name) !== undefined) return { kind: 'builtin' };
  const env = { rt: interp.rt, env: { PATH: interp.state.get('PATH') ?? '' } };
  if (builtinFor(interp.rt, name) !== undefined) {
    if (name.includes('/')) return { kind: 'utility', path: name };
    const path = await searchPath(env, name);
    return path === undefined ? { kind: 'utility' } : { kind: 'utility', path };
  }
  if (name.includes('/')) {
    try {
      if ((await interp.rt.fs.stat(posix.resolve(interp.state.cwd, name))).isFile())
        return { kind: 'file', path: name };
    } catch {
      return { kind: undefined };
    }
    return { kind: undefined };
  }
  const path = await searchPath(env, name);
  return path === undefined ? { kind: undefined } : { kind: 'file', path };
}

async function describe(interp: Interpreter, name: string, fds: FdTable): Promise<boolean> {
  const { kind, path } = await classify(interp, name);
  const text: Record<Exclude<Kind, undefined>, string> = {
    keyword: `${name} is a shell keyword`,
    function: `${name} is a function`,
    special: `${name} is a special shell builtin`,
    builtin: `${name} is a shell builtin`,
    utility: path === undefined ? `${name} is a shell builtin` : `${name} is ${path}`,
    file: `${name} is ${path ?? name}`,
  };
  if (kind === undefined) {
    await interp.warn(fds, `type: ${name}: not found`);
    return false;
  }
  await fds.stdout.write(`${text[kind]}\n`);
  return true;
}

/** `command [-v|-V] name [args]`: describe, or run skipping functions. */
const command: Builtin = async (interp, args, fds, noErrexit) => {
  let mode: 'run' | 'v' | 'V' = 'run';
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--') {
      i++;
      break;
    }
    if (!/^-[pvV]+$/.test(a)) break;
    if (a.includes('V')) mode = 'V';
    else if (a.includes('v')) mode = 'v';
  }
  const rest = args.slice(i);
  const name = rest[0];
  if (name === undefined) return 0;
  if (mode === 'V') return (await describe(interp, name, fds)) ? 0 : 1;
  if (mode === 'v') {
    let status = 0;
    for (const n of rest) {
      const { kind, path } = await classify(interp, n);
      if (kind === undefined) status = 127;
      else await fds.stdout.write(`${path ?? n}\n`);
    }
    return status;
  }
  const special = SPECIAL_BUILTINS.get(name);
  if (special !== undefined) return special(interp, rest.slice(1), fds, noErrexit);
  const builtin = regularBuiltin(name);
  if (builtin !== undefined) return builtin(interp, rest.slice(1), fds, noErrexit);
  return runExternal(externalEnv(interp, fds), rest);
};

const type: Builtin = async (interp, args, fds) => {
  let status = 0;
  for (const name of args) if (!(await describe(interp, name, fds))) status = 1;
  return status;
};

const umask: Builtin = async (interp, args, fds) => {
  const state = interp.state;
  const symbolic = args[0] === '-S';
  const operand = symbolic ? args[1] : args[0];
  if (operand === undefined) {
    if (symbolic) {
      const allowed = ~state.umask & 0o777;
      const part = (shift: number): string => {
        const b = (allowed >> shift) & 7;
        return `${b & 4 ? 'r' : ''}${b & 2 ? 'w' : ''}${b & 1 ? 'x' : ''}`;
      };
      await fds.stdout.write(`u=${part(6)},g=${part(3)},o=${part(0)}\n`);
    } else {
      await fds.stdout.write(`${state.umask.toString(8).padStart(4, '0')}\n`);
    }
    return 0;
  }
  if (/^[0-7]{1,4}$/.test(operand)) {
    state.umask = parseInt(operand, 8) & 0o777;
    return 0;
  }
  const allowed = applyMode(operand, ~state.umask & 0o777, { isDirectory: true, umask: 0 });
  if (allowed === undefined) {
    await interp.warn(fds, `umask: invalid mode '${operand}'`);
    return 1;
  }
  state.umask = ~allowed & 0o777;
  return 0;
};

/** `wait [job...]`: every `&` command has already finished; returns the status of the last job named. */
const wait: Builtin = async (interp, args) => {
  let status = 0;
  for (const a of args) status = interp.jobStatus.get(Number(a.replace(/^%/, ''))) ?? 127;
  return status;
};

/** `getopts optstring name [args]`. */
const getopts: Builtin = async (interp, args, fds) => {
  const state = interp.state;
  const spec = args[0];
  const name = args[1];
  if (spec === undefined || name === undefined) {
    await interp.warn(fds, 'getopts: usage: getopts optstring name [arg...]');
    return 2;
  }
  const list = args.length > 2 ? args.slice(2) : state.positional;
  const silent = spec.startsWith(':');
  let optind = Number(state.get('OPTIND') ?? '1');
  if (!Number.isInteger(optind) || optind < 1) optind = 1;
  if (state.getopts.optind !== optind) state.getopts = { optind, offset: 0 };
  const setIndex = async (n: number, offset: number): Promise<void> => {
    state.getopts = { optind: n, offset };
    await interp.setVar('OPTIND', String(n), fds);
  };
  const arg = list[optind - 1];
  if (arg === undefined || !arg.startsWith('-') || arg === '-') {
    await interp.setVar(name, '?', fds);
    return 1;
  }
  if (arg === '--' && state.getopts.offset === 0) {
    await setIndex(optind + 1, 0);
    await interp.setVar(name, '?', fds);
    return 1;
  }
  const pos = state.getopts.offset + 1;
  const c = arg[pos] as string;
  const last = pos + 1 >= arg.length;
  const idx = spec.indexOf(c);
  if (c === ':' || idx < 0) {
    if (silent) await interp.setVar('OPTARG', c, fds);
    else {
      state.unset('OPTARG');
      await fds.stderr.write(`sh: illegal option -- ${c}\n`);
    }
    await interp.setVar(name, '?', fds);
    await (last ? setIndex(optind + 1, 0) : setIndex(optind, pos));
    return 0;
  }
  if (spec[idx + 1] === ':') {
    if (!last) {
      await interp.setVar('OPTARG', arg.slice(pos + 1), fds);
      await setIndex(optind + 1, 0);
    } else if (list[optind] !== undefined) {
      await interp.setVar('OPTARG', list[optind] as string, fds);
      await setIndex(optind + 2, 0);
    } else {
      await setIndex(optind + 1, 0);
      if (silent) {
        await interp.setVar('OPTARG', c, fds);
        await interp.setVar(name, ':', fds);
      } else {
        state.unset('OPTARG');
        await fds.stderr.write(`sh: option requires an argument -- ${c}\n`);
        await interp.setVar(name, '?', fds);
      }
      return 0;
    }
  } else {
    state.unset('OPTARG');
    await (last ? setIndex(optind + 1, 0) : setIndex(optind, pos));
  }
  await interp.setVar(name, c, fds);
  return 0;
};

const hash: Builtin = async () => 0;

/** The regular builtins by name. */
export const REGULAR_BUILTINS: ReadonlyMap<string, Builtin> = new Map<string, Builtin>([
  ['cd', cd],
  ['read', read],
  ['local', local],
  ['command', command],
  ['type', type],
  ['umask', umask],
  ['wait', wait],
  ['getopts', getopts],
  ['hash', hash],
]);
