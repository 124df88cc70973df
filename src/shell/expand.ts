/**
 * Word expansion in POSIX order: tilde, parameter, command substitution and arithmetic
 * expansion, then field splitting on IFS (unquoted expansion results only), then pathname
 * expansion against the filesystem (unquoted wildcards only; no match keeps the word), then
 * quote removal. `"$@"` gives one field per positional parameter.
 */
import type { ExecutorFs } from '../union/fs-contract.js';
import { ArithmeticError, evaluateArithmetic } from './arith.js';
import type { Script, Word, WordPart } from './ast.js';
import { expandPathname } from './glob.js';
import { escapePattern, hasWildcards, removeMatch, replaceMatch } from './pattern.js';
import { ReadonlyVariableError, type ShellState } from './state.js';

/** A fatal expansion error (`${x:?}`, `set -u`, bad arithmetic): the shell prints it and exits with `status`. */
export class ExpansionError extends Error {
  override readonly name = 'ExpansionError';
  readonly status: number;
  constructor(message: string, status = 2) {
    super(message);
    this.status = status;
  }
}

/** What expansion needs from the interpreter. */
export interface ExpansionHost {
  readonly state: ShellState;
  readonly fs: ExecutorFs;
  /** Runs a command substitution in a subshell and returns its standard output. */
  commandSubstitution(script: Script): Promise<string>;
  /** The home directory of a user (`''`: the current user), for `~` and `~user`. */
  homeDirectory(user: string): Promise<string | undefined>;
}

type Piece = { text: string; quoted: boolean; split: boolean } | { brk: true; quoted: boolean };

const DEFAULT_IFS = ' \t\n';

function quotedPiece(text: string): Piece {
  return { text, quoted: true, split: false };
}

/** The value of a special or positional parameter or variable; undefined when unset. */
export function parameterValue(state: ShellState, name: string): string | undefined {
  switch (name) {
    case '?':
      return String(state.status);
    case '#':
      return String(state.positional.length);
    case '$':
      return '1';
    case '!':
      return state.lastBackground === undefined ? undefined : String(state.lastBackground);
    case '-':
      return state.flags();
    case '@':
    case '*':
      return state.positional.length === 0 ? undefined : state.positional.join(' ');
    case '0':
      return state.arg0;
    default:
      if (/^[0-9]+$/.test(name)) return state.positional[Number(name) - 1];
      return state.get(name);
  }
}

function ifsOf(state: ShellState): string {
  return state.get('IFS') ?? DEFAULT_IFS;
}

async function expandParts(host: ExpansionHost, parts: readonly WordPart[], inDq: boolean): Promise<Piece[]> {
  const out: Piece[] = [];
  for (const part of parts) {
    switch (part.type) {
      case 'lit':
        out.push({ text: part.text, quoted: inDq, split: false });
        break;
      case 'escaped':
      case 'sq':
        out.push(quotedPiece(part.text));
        break;
      case 'dq': {
        const only = part.parts[0];
        const inner = await expandParts(host, part.parts, true);
        const atOnly =
          part.parts.length === 1 &&
          only?.type === 'param' &&
          only.name === '@' &&
          only.op === undefined &&
          only.length !== true;
        if (!(atOnly && host.state.positional.length === 0)) out.push(quotedPiece(''));
        out.push(...inner);
        break;
      }
      case 'tilde': {
        const home = await host.homeDirectory(part.user);
        const dir = part.user === '' ? (host.state.get('HOME') ?? home) : home;
        out.push(quotedPiece(dir ?? `~${part.user}`));
        break;
      }
      case 'param':
        out.push(...(await expandParam(host, part, inDq)));
        break;
      case 'cmdsub': {
        const text = (await host.commandSubstitution(part.script)).replace(/\n+$/, '');
        out.push({ text, quoted: inDq, split: !inDq });
        break;
      }
      case 'arith': {
        const expr = await expandString(host, part.expr);
        let value: bigint;
        try {
          value = evaluateArithmetic(expr, {
            get: (name) => parameterValue(host.state, name),
            set: (name, v) => host.state.set(name, v),
          });
        } catch (err) {
          if (err instanceof ArithmeticError) throw new ExpansionError(`arithmetic: ${err.message}: "${expr.trim()}"`);
          if (err instanceof ReadonlyVariableError) throw new ExpansionError(err.message);
          throw err;
        }
        out.push({ text: value.toString(), quoted: inDq, split: !inDq });
        break;
      }
    }
  }
  return out;
}

async function expandParam(
  host: ExpansionHost,
  part: Extract<WordPart, { type: 'param' }>,
  inDq: boolean,
): Promise<Piece[]> {
  const state = host.state;
  const { name, op } = part;
  if ((name === '@' || name === '*') && op === undefined && part.length !== true) {
    const args = state.positional;
    if (inDq && name === '*') {
      const ifs = ifsOf(state);
      return [quotedPiece(args.join(ifs === '' ? '' : ifs[0]))];
    }
    const out: Piece[] = [];
    args.forEach((a, i) => {
      if (i > 0) out.push({ brk: true, quoted: inDq });
      out.push({ text: a, quoted: inDq, split: !inDq });
    });
    return out;
  }
  let value = parameterValue(state, name);
  if (part.length === true) {
    if (value === undefined && state.options.nounset && name !== '@' && name !== '*') {
      throw new ExpansionError(`${name}: parameter not set`);
    }
    const n = name === '@' || name === '*' ? state.positional.length : Array.from(value ?? '').length;
    return [{ text: String(n), quoted: inDq, split: !inDq }];
  }
  if (op !== undefined) {
    const colon = op.startsWith(':') && op !== ':';
    const isSet = value !== undefined && (!colon || value !== '');
    const arg = part.arg ?? { parts: [], text: '' };
    switch (op) {
      case '-':
      case ':-':
        if (!isSet) return expandParts(host, arg.parts, inDq);
        break;
      case '=':
      case ':=':
        if (!isSet) {
          if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new ExpansionError(`${name}: bad variable name`);
          value = await expandString(host, arg);
          try {
            state.set(name, value);
          } catch (err) {
            if (err instanceof ReadonlyVariableError) throw new ExpansionError(err.message);
            throw err;
          }
        }
        break;
      case '+':
      case ':+':
        if (isSet) return expandParts(host, arg.parts, inDq);
        return [];
      case '?':
      case ':?':
        if (!isSet) {
          const msg =
            arg.text === ''
              ? colon
                ? 'parameter null or not set'
                : 'parameter not set'
              : await expandString(host, arg);
          throw new ExpansionError(`${name}: ${msg}`);
        }
        break;
      case '#':
      case '##':
      case '%':
      case '%%':
        checkSet(state, name, value);
        value = removeMatch(value ?? '', await expandPattern(host, arg), op);
        break;
      case '/':
      case '//':
      case '/#':
      case '/%': {
        checkSet(state, name, value);
        const repl = part.repl === undefined ? '' : await expandString(host, part.repl);
        value = replaceMatch(value ?? '', await expandPattern(host, arg), repl, op);
        break;
      }
      case ':': {
        checkSet(state, name, value);
        value = substring(host, value ?? '', await expandString(host, arg));
        break;
      }
    }
  }
  if (value === undefined) {
    checkSet(state, name, value);
    value = '';
  }
  return [{ text: value, quoted: inDq, split: !inDq }];
}

function checkSet(state: ShellState, name: string, value: string | undefined): void {
  if (value === undefined && state.options.nounset && name !== '@' && name !== '*') {
    throw new ExpansionError(`${name}: parameter not set`);
  }
}

function substring(host: ExpansionHost, value: string, spec: string): string {
  const colon = spec.indexOf(':');
  const arith = (text: string): number => {
    try {
      return Number(
        evaluateArithmetic(text, { get: (n) => parameterValue(host.state, n), set: (n, v) => host.state.set(n, v) }),
      );
    } catch (err) {
      if (err instanceof ArithmeticError) throw new ExpansionError(`arithmetic: ${err.message}: "${text.trim()}"`);
      throw err;
    }
  };
  const chars = Array.from(value);
  let offset = arith(colon < 0 ? spec : spec.slice(0, colon));
  if (offset < 0) offset = Math.max(0, chars.length + offset);
  let end = chars.length;
  if (colon >= 0) {
    const len = arith(spec.slice(colon + 1));
    end = len < 0 ? chars.length + len : offset + len;
    if (end < offset) throw new ExpansionError(`${spec}: substring expression < 0`);
  }
  return chars.slice(offset, end).join('');
}

/** Expands a word to one string: no field splitting, no pathname expansion (assignments, `case` words, heredocs). */
export async function expandString(host: ExpansionHost, word: Word): Promise<string> {
  const pieces = await expandParts(host, word.parts, false);
  return pieces.map((p) => ('brk' in p ? ' ' : p.text)).join('');
}

/** Expands a word into a pattern: quoted characters are escaped, unquoted ones keep their meaning. */
export async function expandPattern(host: ExpansionHost, word: Word): Promise<string> {
  const pieces = await expandParts(host, word.parts, false);
  return pieces.map((p) => ('brk' in p ? ' ' : p.quoted ? escapePattern(p.text) : p.text)).join('');
}

interface Field {
  pieces: { text: string; quoted: boolean }[];
  started: boolean;
}

/** Splits pieces into fields on IFS (only pieces from unquoted expansions are split). */
function splitFields(pieces: readonly Piece[], ifs: string): Field[] {
  const fields: Field[] = [];
  let cur: Field = { pieces: [], started: false };
  let pendingWs = false;
  const push = (): void => {
    fields.push(cur);
    cur = { pieces: [], started: false };
  };
  const ifsWs = [...ifs].filter((c) => c === ' ' || c === '\t' || c === '\n').join('');
  for (const p of pieces) {
    if ('brk' in p) {
      if (p.quoted || cur.started) push();
      pendingWs = false;
      continue;
    }
    if (!p.split || ifs === '') {
      cur.pieces.push({ text: p.text, quoted: p.quoted });
      if (p.quoted || p.text !== '') cur.started = true;
      if (p.text !== '' || p.quoted) pendingWs = false;
      continue;
    }
    let buf = '';
    const flushBuf = (): void => {
      if (buf !== '') {
        cur.pieces.push({ text: buf, quoted: false });
        cur.started = true;
        buf = '';
      }
    };
    for (const c of p.text) {
      if (ifsWs.includes(c)) {
        flushBuf();
        if (cur.started) {
          push();
          pendingWs = true;
        }
      } else if (ifs.includes(c)) {
        flushBuf();
        if (pendingWs) pendingWs = false;
        else push();
      } else {
        buf += c;
        pendingWs = false;
      }
    }
    flushBuf();
  }
  if (cur.started) push();
  return fields;
}

/**
 * Fully expands command words into fields: splitting, then pathname expansion against the
 * filesystem relative to the shell's working directory.
 */
export async function expandWords(host: ExpansionHost, words: readonly Word[]): Promise<string[]> {
  const out: string[] = [];
  for (const word of words) {
    const pieces = await expandParts(host, word.parts, false);
    for (const field of splitFields(pieces, ifsOf(host.state))) {
      const text = field.pieces.map((p) => p.text).join('');
      const globbable = !host.state.options.noglob && field.pieces.some((p) => !p.quoted && /[*?[]/.test(p.text));
      if (globbable) {
        const pattern = field.pieces
          .map((p) => (p.quoted ? escapePattern(p.text) : p.text.replace(/\\/g, '\\\\')))
          .join('');
        if (hasWildcards(pattern)) {
          const matches = await expandPathname({ fs: host.fs, cwd: host.state.cwd, pattern });
          if (matches.length > 0) {
            out.push(...matches);
            continue;
          }
        }
      }
      out.push(text);
    }
  }
  return out;
}

/** Quotes a string for `set -x` traces and `set`/`export -p` output. */
export function shellQuote(text: string): string {
  if (text !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(text)) return text;
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
