/**
 * Go's text/template, the subset `docker inspect --format` users write: field paths (`.Config.Cmd`),
 * variables, pipelines, parentheses, `if`/`else if`/`else`, `range` (with `$i, $v :=` and
 * `else`), `with`, `break`/`continue`, trim markers (`{{-` `-}}`), comments, Go's built-in
 * functions (and, or, not, len, index, slice, eq, ne, lt, le, gt, ge, print, printf, println,
 * html, js, urlquery) and docker's (json, join, split, title, lower, upper, pad, truncate).
 * Values print as Go's `%v` does: `[a b]` for slices, `map[k:v]` for maps (keys sorted), `{a b}`
 * for structs, `<no value>` for a missing key.
 */

/** A template that does not parse, or fails while running (Go's messages). */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
  constructor(
    message: string,
    /** `parse` (docker: "template parsing error") or `exec`. */
    readonly phase: 'parse' | 'exec',
  ) {
    super(message);
  }
}

const STRUCT = Symbol('go-struct');
const OMIT_EMPTY = Symbol('go-omitempty');

/**
 * Marks a plain object as a Go struct: printed `{v1 v2}` in field order, not `map[k:v]`.
 * `omitEmpty` names the fields tagged `json:",omitempty"`: `json` leaves them out when empty.
 */
export function goStruct<T extends object>(value: T, omitEmpty: readonly string[] = []): T {
  Object.defineProperty(value, STRUCT, { value: true, enumerable: false });
  if (omitEmpty.length > 0) Object.defineProperty(value, OMIT_EMPTY, { value: new Set(omitEmpty), enumerable: false });
  return value;
}

/** A typed Go nil: prints as `[]` (slice), `map[]` (map) or `<nil>`; JSON `null`. */
export class GoNil {
  constructor(readonly kind: 'slice' | 'map' | 'pointer') {}
  toJSON(): null {
    return null;
  }
}

const NO_VALUE = Symbol('no-value');

// ---------------------------------------------------------------------------------------------
// Lexing and parsing

type Arg =
  | { t: 'field'; path: string[] } // .A.B (path empty for '.')
  | { t: 'var'; name: string; path: string[] }
  | { t: 'ident'; name: string }
  | { t: 'lit'; value: unknown }
  | { t: 'pipe'; pipe: Pipeline; path: string[] };

interface Cmd {
  args: Arg[];
}

interface Pipeline {
  decl: string[];
  assign: boolean;
  cmds: Cmd[];
  text: string;
}

type Node =
  | { t: 'text'; text: string }
  | { t: 'action'; pipe: Pipeline; pos: number }
  | { t: 'if' | 'with'; pipe: Pipeline; body: Node[]; else: Node[] | undefined; pos: number }
  | { t: 'range'; pipe: Pipeline; body: Node[]; else: Node[] | undefined; pos: number }
  | { t: 'break' | 'continue'; pos: number };

interface Action {
  src: string;
  pos: number;
}

type Piece = { text: string } | Action;

function lexActions(src: string): Piece[] {
  const out: Piece[] = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    if (open < 0) {
      out.push({ text: src.slice(i) });
      break;
    }
    let text = src.slice(i, open);
    let start = open + 2;
    if (src.startsWith('- ', start) || src.startsWith('-\t', start) || src.startsWith('-\n', start)) {
      text = text.replace(/\s+$/, '');
      start += 1;
    }
    if (text) out.push({ text });
    // Find the closing braces outside string literals.
    let j = start;
    let close = -1;
    while (j < src.length) {
      const ch = src[j]!;
      if (ch === '"' || ch === '`' || ch === "'") {
        const end = ch === '`' ? src.indexOf('`', j + 1) : findQuoteEnd(src, j);
        if (end < 0) throw parseError(src, j, 'unterminated quoted string');
        j = end + 1;
        continue;
      }
      if (src.startsWith('}}', j)) {
        close = j;
        break;
      }
      j++;
    }
    if (close < 0) throw parseError(src, open, 'unclosed action');
    let body = src.slice(start, close);
    let next = close + 2;
    if (/\s-$/.test(body)) {
      body = body.slice(0, -1);
      const m = /^\s*/.exec(src.slice(next))!;
      next += m[0].length;
    }
    out.push({ src: body, pos: open });
    i = next;
  }
  return out;
}

function findQuoteEnd(src: string, start: number): number {
  const q = src[start];
  for (let k = start + 1; k < src.length; k++) {
    if (src[k] === '\\') k++;
    else if (src[k] === q) return k;
    else if (src[k] === '\n') return -1;
  }
  return -1;
}

function lineOf(src: string, pos: number): number {
  return src.slice(0, pos).split('\n').length;
}

function parseError(src: string, pos: number, why: string): TemplateError {
  return new TemplateError(`template: :${lineOf(src, pos)}: ${why}`, 'parse');
}

type Tok =
  | { k: 'field'; v: string; chained: boolean }
  | { k: 'dot' }
  | { k: 'var'; v: string }
  | { k: 'ident'; v: string }
  | { k: 'lit'; v: unknown }
  | { k: '(' | ')' | '|' | ':=' | '=' | ',' };

function tokenize(src: string, fail: (why: string) => never): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const ch = src[i]!;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (ch === '(' || ch === ')' || ch === '|' || ch === ',') {
      toks.push({ k: ch });
      i++;
      continue;
    }
    if (src.startsWith(':=', i)) {
      toks.push({ k: ':=' });
      i += 2;
      continue;
    }
    if (ch === '=') {
      toks.push({ k: '=' });
      i++;
      continue;
    }
    if (ch === '"') {
      const end = findQuoteEnd(src, i);
      if (end < 0) fail('unterminated quoted string');
      toks.push({ k: 'lit', v: unquote(src.slice(i, end + 1), fail) });
      i = end + 1;
      continue;
    }
    if (ch === '`') {
      const end = src.indexOf('`', i + 1);
      if (end < 0) fail('unterminated raw quoted string');
      toks.push({ k: 'lit', v: src.slice(i + 1, end) });
      i = end + 1;
      continue;
    }
    if (ch === "'") {
      const end = findQuoteEnd(src, i);
      if (end < 0) fail('unterminated character constant');
      const s = unquote(`"${src.slice(i + 1, end)}"`, fail) as string;
      if ([...s].length !== 1) fail(`malformed character constant: ${src.slice(i, end + 1)}`);
      toks.push({ k: 'lit', v: s.codePointAt(0) });
      i = end + 1;
      continue;
    }
    if (ch === '.') {
      const m = /^\.[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
      if (m) {
        // `.A.B` and `$x.A` and `(...).A` chain; `.A .B` are two arguments.
        const prev = toks[toks.length - 1];
        const chained =
          i > 0 && !/\s/.test(src[i - 1]!) && (prev?.k === 'field' || prev?.k === 'var' || prev?.k === ')');
        toks.push({ k: 'field', v: m[0].slice(1), chained });
        i += m[0].length;
        continue;
      }
      if (/^\.\d/.test(src.slice(i))) {
        const n = /^\.\d+(?:[eE][+-]?\d+)?/.exec(src.slice(i))!;
        toks.push({ k: 'lit', v: Number(n[0]) });
        i += n[0].length;
        continue;
      }
      toks.push({ k: 'dot' });
      i++;
      continue;
    }
    if (ch === '$') {
      const m = /^\$[A-Za-z0-9_]*/.exec(src.slice(i))!;
      toks.push({ k: 'var', v: m[0] });
      i += m[0].length;
      continue;
    }
    const num = /^[+-]?(?:0[xX][0-9a-fA-F_]+|0[oO]?[0-7_]+|\d[\d_]*(?:\.\d*)?(?:[eE][+-]?\d+)?)/.exec(src.slice(i));
    if (num && (/\d/.test(ch) || ((ch === '-' || ch === '+') && /\d/.test(src[i + 1] ?? '')))) {
      const text = num[0].replace(/_/g, '');
      const v = /^[+-]?0[oO]/.test(text)
        ? Number.parseInt(text.replace(/0[oO]/, ''), 8)
        : /^[+-]?0\d/.test(text)
          ? Number.parseInt(text, 8)
          : Number(text);
      if (Number.isNaN(v)) fail(`bad number syntax: ${JSON.stringify(num[0])}`);
      toks.push({ k: 'lit', v });
      i += num[0].length;
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
    if (id) {
      const w = id[0];
      if (w === 'true' || w === 'false') toks.push({ k: 'lit', v: w === 'true' });
      else if (w === 'nil') toks.push({ k: 'lit', v: null });
      else toks.push({ k: 'ident', v: w });
      i += w.length;
      continue;
    }
    fail(`unexpected ${JSON.stringify(ch)} in command`);
  }
  return toks;
}

function unquote(lit: string, fail: (why: string) => never): string {
  try {
    // Go's interpreted strings share JSON's escapes, plus \a \v \x.. \ooo \' and \U........
    const js = lit.slice(1, -1).replace(/\\(x[0-9a-fA-F]{2}|[0-7]{3}|U[0-9a-fA-F]{8}|a|v|')/g, (_m, e: string) => {
      if (e === 'a') return '\\u0007';
      if (e === 'v') return '\\u000b';
      if (e === "'") return "'";
      const code =
        e[0] === 'x'
          ? Number.parseInt(e.slice(1), 16)
          : e[0] === 'U'
            ? Number.parseInt(e.slice(1), 16)
            : Number.parseInt(e, 8);
      return JSON.stringify(String.fromCodePoint(code)).slice(1, -1);
    });
    return JSON.parse(`"${js.replace(/\t/g, '\\t')}"`) as string;
  } catch {
    return fail(`invalid syntax: ${lit}`);
  }
}

class Parser {
  private i = 0;
  private readonly pieces: Piece[];
  constructor(private readonly src: string) {
    this.pieces = lexActions(src);
  }

  parse(): Node[] {
    const { nodes, end } = this.list();
    if (end) throw parseError(this.src, end.pos, `unexpected {{${end.word}}}`);
    return nodes;
  }

  /** Parses nodes until `{{end}}`, `{{else...}}` or the end; returns which ended it. */
  private list(): { nodes: Node[]; end?: { word: 'end' | 'else'; rest: string; pos: number } } {
    const nodes: Node[] = [];
    while (this.i < this.pieces.length) {
      const p = this.pieces[this.i++]!;
      if ('text' in p) {
        nodes.push({ t: 'text', text: p.text });
        continue;
      }
      const body = p.src.trim();
      if (body.startsWith('/*')) {
        if (!body.endsWith('*/')) throw parseError(this.src, p.pos, 'unclosed comment');
        continue;
      }
      const word = /^[a-z]+\b/.exec(body)?.[0];
      const rest = word ? body.slice(word.length) : body;
      switch (word) {
        case 'end':
          if (rest.trim()) throw parseError(this.src, p.pos, `unexpected ${rest.trim()} in end`);
          return { nodes, end: { word: 'end', rest: '', pos: p.pos } };
        case 'else':
          return { nodes, end: { word: 'else', rest: rest.trim(), pos: p.pos } };
        case 'if':
        case 'with':
        case 'range':
          nodes.push(this.control(word, rest, p.pos));
          continue;
        case 'break':
        case 'continue':
          nodes.push({ t: word, pos: p.pos });
          continue;
        case 'define':
        case 'template':
        case 'block':
          throw parseError(this.src, p.pos, `{{${word}}} is not supported by layerkit's templates`);
        default:
          nodes.push({ t: 'action', pipe: this.pipeline(body, p.pos, false), pos: p.pos });
      }
    }
    return { nodes };
  }

  private control(word: 'if' | 'with' | 'range', rest: string, pos: number): Node {
    const pipe = this.pipeline(rest, pos, word === 'range');
    if (pipe.cmds.length === 0) throw parseError(this.src, pos, `missing value for ${word}`);
    const body = this.list();
    if (!body.end) throw parseError(this.src, pos, `unexpected EOF`);
    let elseNodes: Node[] | undefined;
    if (body.end.word === 'else') {
      const chained = /^(if|with)\b/.exec(body.end.rest)?.[1] as 'if' | 'with' | undefined;
      if (chained && (word === 'if' || word === 'with')) {
        // {{else if x}} is {{else}}{{if x}}...{{end}}{{end}}: the inner one consumes the shared {{end}}.
        elseNodes = [this.control(chained, body.end.rest.slice(chained.length), body.end.pos)];
      } else {
        if (body.end.rest) throw parseError(this.src, body.end.pos, `unexpected ${body.end.rest} in else`);
        const tail = this.list();
        if (tail.end?.word !== 'end')
          throw parseError(this.src, pos, `expected end; found ${tail.end ? 'else' : 'EOF'}`);
        elseNodes = tail.nodes;
      }
    }
    if (word === 'range') return { t: 'range', pipe, body: body.nodes, else: elseNodes, pos };
    return { t: word, pipe, body: body.nodes, else: elseNodes, pos };
  }

  private pipeline(text: string, pos: number, isRange: boolean): Pipeline {
    const fail = (why: string): never => {
      throw parseError(this.src, pos, why);
    };
    const toks = tokenize(text, fail);
    let k = 0;
    const decl: string[] = [];
    let assign = false;
    // $x := ..., $i, $v := ... (range), $x = ...
    const save = k;
    if (toks[k]?.k === 'var') {
      const names = [(toks[k] as { v: string }).v];
      let j = k + 1;
      if (isRange && toks[j]?.k === ',' && toks[j + 1]?.k === 'var') {
        names.push((toks[j + 1] as { v: string }).v);
        j += 2;
      }
      if (toks[j]?.k === ':=' || toks[j]?.k === '=') {
        assign = toks[j]!.k === '=';
        decl.push(...names);
        k = j + 1;
      } else {
        k = save;
      }
    }
    if (k >= toks.length) fail(`missing value for ${isRange ? 'range' : 'command'}`);
    return { ...this.pipelineFromTokens(toks.slice(k), fail), decl, assign, text };
  }

  private pipelineFromTokens(toks: Tok[], fail: (why: string) => never): Pipeline {
    const cmds: Cmd[] = [];
    let cmd: Cmd = { args: [] };
    let k = 0;
    while (k < toks.length) {
      const t = toks[k]!;
      if (t.k === '|') {
        if (cmd.args.length === 0) fail('missing command');
        cmds.push(cmd);
        cmd = { args: [] };
        k++;
        continue;
      }
      if (t.k === ')' || t.k === ',' || t.k === ':=' || t.k === '=') fail(`unexpected "${t.k}" in operand`);
      const sub = this.pipelineArgs(toks, k, fail);
      cmd.args.push(sub.arg);
      k = sub.next;
    }
    if (cmd.args.length === 0) fail('missing command');
    cmds.push(cmd);
    return { decl: [], assign: false, cmds, text: '' };
  }

  private pipelineArgs(toks: Tok[], k: number, fail: (why: string) => never): { arg: Arg; next: number } {
    const t = toks[k++]!;
    const fields = (): string[] => {
      const path: string[] = [];
      while (toks[k]?.k === 'field' && (toks[k] as { chained: boolean }).chained)
        path.push((toks[k++] as { v: string }).v);
      return path;
    };
    if (t.k === 'field') return { arg: { t: 'field', path: [t.v, ...fields()] }, next: k };
    if (t.k === 'dot') return { arg: { t: 'field', path: [] }, next: k };
    if (t.k === 'var') return { arg: { t: 'var', name: t.v, path: fields() }, next: k };
    if (t.k === 'ident') return { arg: { t: 'ident', name: t.v }, next: k };
    if (t.k === 'lit') return { arg: { t: 'lit', value: t.v }, next: k };
    if (t.k === '(') {
      let depth = 1;
      const start = k;
      while (k < toks.length && depth > 0) {
        if (toks[k]!.k === '(') depth++;
        if (toks[k]!.k === ')') depth--;
        k++;
      }
      if (depth > 0) fail('unclosed left paren');
      const pipe = this.pipelineFromTokens(toks.slice(start, k - 1), fail);
      return { arg: { t: 'pipe', pipe, path: fields() }, next: k };
    }
    return fail(`unexpected "${t.k}" in operand`);
  }
}

// ---------------------------------------------------------------------------------------------
// Values, printed as Go prints them

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof GoNil) && !isStruct(v);
}

function isStruct(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[STRUCT] === true;
}

/** `fmt.Sprint(v)` for one value (`%v`). */
export function goString(v: unknown): string {
  if (v === NO_VALUE) return '<no value>';
  if (v === null || v === undefined) return '<nil>';
  if (v instanceof GoNil) return v.kind === 'slice' ? '[]' : v.kind === 'map' ? 'map[]' : '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return goNumber(v);
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(goString).join(' ')}]`;
  if (isStruct(v)) return `{${Object.values(v).map(goString).join(' ')}}`;
  if (typeof v === 'object') {
    const keys = Object.keys(v).sort();
    return `map[${keys.map((k) => `${k}:${goString((v as Record<string, unknown>)[k])}`).join(' ')}]`;
  }
  return String(v);
}

function goNumber(n: number): string {
  if (Number.isInteger(n)) return String(n);
  // Go prints floats with %v as the shortest repr, switching to exponent form for large exponents.
  const exp = Math.floor(Math.log10(Math.abs(n)));
  if (exp < -4 || exp >= 21) return n.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
  return String(n);
}

function truthy(v: unknown): boolean {
  if (v === NO_VALUE || v === null || v === undefined || v instanceof GoNil) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  if (isStruct(v)) return true;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

/** docker's `json` function: Go's encoder without HTML escaping, trailing newline removed. */
function goJson(v: unknown): string {
  return (
    JSON.stringify(v === NO_VALUE ? null : v, (_k, x: unknown) =>
      isMap(x) ? sortedCopy(x) : isStruct(x) ? withoutEmpty(x) : x,
    ) ?? 'null'
  ).replace(/[\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

function withoutEmpty(struct: Record<string, unknown>): Record<string, unknown> {
  const omit = (struct as Record<symbol, unknown>)[OMIT_EMPTY] as Set<string> | undefined;
  if (!omit) return struct;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(struct)) {
    const empty =
      v === '' || v === false || v === 0 || v === null || v instanceof GoNil || (Array.isArray(v) && v.length === 0);
    if (!(omit.has(k) && (empty || (isMap(v) && Object.keys(v).length === 0)))) out[k] = v;
  }
  return out;
}

function sortedCopy(m: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(m).sort()) out[k] = m[k];
  return out;
}

// ---------------------------------------------------------------------------------------------
// Functions

type Fn = (...args: unknown[]) => unknown;

function str(v: unknown, fn: string): string {
  if (typeof v !== 'string')
    throw new TemplateError(`wrong type for value; expected string; got ${goType(v)} (in ${fn})`, 'exec');
  return v;
}

function goType(v: unknown): string {
  if (v === null || v === undefined || v === NO_VALUE) return '<nil>';
  if (v instanceof GoNil) return v.kind === 'slice' ? '[]string' : 'map[string]interface {}';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return '[]interface {}';
  if (isStruct(v)) return 'struct';
  return 'map[string]interface {}';
}

function length(v: unknown): number {
  if (v instanceof GoNil) return 0;
  if (typeof v === 'string') return Buffer.byteLength(v);
  if (Array.isArray(v)) return v.length;
  if (isMap(v)) return Object.keys(v).length;
  throw new TemplateError(`error calling len: len of type ${goType(v)}`, 'exec');
}

function indexInto(v: unknown, ...keys: unknown[]): unknown {
  let cur = v;
  for (const key of keys) {
    if (cur instanceof GoNil || cur === NO_VALUE || cur === null || cur === undefined) {
      if (cur instanceof GoNil && cur.kind === 'map') return NO_VALUE;
      throw new TemplateError('error calling index: index of untyped nil', 'exec');
    }
    if (Array.isArray(cur) || typeof cur === 'string') {
      if (typeof key !== 'number' || !Number.isInteger(key))
        throw new TemplateError(`error calling index: cannot index slice/array with type ${goType(key)}`, 'exec');
      if (key < 0 || key >= cur.length)
        throw new TemplateError(`error calling index: index out of range: ${key}`, 'exec');
      cur = typeof cur === 'string' ? cur.charCodeAt(key) : cur[key];
    } else if (isMap(cur)) {
      const k = String(key);
      cur = Object.hasOwn(cur, k) ? cur[k] : NO_VALUE;
    } else {
      throw new TemplateError(`error calling index: can't index item of type ${goType(cur)}`, 'exec');
    }
  }
  return cur;
}

function compare(a: unknown, b: unknown, fn: string): number {
  const na = a instanceof GoNil || a === NO_VALUE ? null : a;
  const nb = b instanceof GoNil || b === NO_VALUE ? null : b;
  if (typeof na !== typeof nb || (typeof na !== 'number' && typeof na !== 'string' && typeof na !== 'boolean')) {
    if (fn === 'eq' || fn === 'ne') {
      if (na === null && nb === null) return 0;
      if (typeof na === typeof nb && typeof na === 'object')
        throw new TemplateError(`error calling ${fn}: non-comparable type ${goType(a)}`, 'exec');
    }
    throw new TemplateError(`error calling ${fn}: incompatible types for comparison`, 'exec');
  }
  if (typeof na === 'boolean' && fn !== 'eq' && fn !== 'ne')
    throw new TemplateError(`error calling ${fn}: invalid type for comparison`, 'exec');
  return na === nb ? 0 : (na as number | string) < (nb as number | string) ? -1 : 1;
}

function sprintf(format: string, args: unknown[]): string {
  let n = 0;
  return (
    format.replace(/%([-+# 0]*)(\d+)?(?:\.(\d+))?([vsdqxXftTbocegE%])/g, (_m, flags: string, width, prec, verb) => {
      if (verb === '%') return '%';
      if (n >= args.length) return `%!${verb}(MISSING)`;
      const a = args[n++];
      let s: string;
      switch (verb) {
        case 'v':
        case 's':
          s = goString(a);
          break;
        case 'q':
          s = typeof a === 'string' ? JSON.stringify(a) : goString(a);
          break;
        case 'd':
          s = typeof a === 'number' ? String(Math.trunc(a)) : `%!d(${goType(a)}=${goString(a)})`;
          break;
        case 'x':
        case 'X':
          s =
            typeof a === 'number'
              ? a.toString(16)
              : typeof a === 'string'
                ? Buffer.from(a).toString('hex')
                : `%!${verb}(${goType(a)}=${goString(a)})`;
          if (verb === 'X') s = s.toUpperCase();
          break;
        case 'f':
        case 'e':
        case 'E':
        case 'g':
          s =
            typeof a === 'number'
              ? verb === 'f'
                ? a.toFixed(prec === undefined ? 6 : Number(prec))
                : verb === 'g'
                  ? goNumber(a)
                  : a.toExponential(prec === undefined ? 6 : Number(prec)).replace(/e([+-])(\d)$/, 'e$10$2')
              : `%!${verb}(${goType(a)}=${goString(a)})`;
          if (verb === 'E') s = s.toUpperCase();
          break;
        case 't':
          s = typeof a === 'boolean' ? String(a) : `%!t(${goType(a)}=${goString(a)})`;
          break;
        case 'T':
          s = goType(a);
          break;
        case 'c':
          s = typeof a === 'number' ? String.fromCodePoint(a) : `%!c(${goType(a)}=${goString(a)})`;
          break;
        case 'o':
          s = typeof a === 'number' ? a.toString(8) : `%!o(${goType(a)}=${goString(a)})`;
          break;
        case 'b':
          s = typeof a === 'number' ? a.toString(2) : `%!b(${goType(a)}=${goString(a)})`;
          break;
        default:
          s = goString(a);
      }
      if ((verb === 's' || verb === 'v') && prec !== undefined) s = s.slice(0, Number(prec));
      if (width !== undefined) {
        const w = Number(width);
        if (flags.includes('-')) s = s.padEnd(w);
        else s = s.padStart(w, flags.includes('0') && /[dfxX]/.test(verb) ? '0' : ' ');
      }
      return s;
    }) +
    (n < args.length
      ? `%!(EXTRA ${args
          .slice(n)
          .map((a) => `${goType(a)}=${goString(a)}`)
          .join(', ')})`
      : '')
  );
}

/** `fmt.Sprint`: spaces between operands when neither is a string. */
function sprint(args: unknown[]): string {
  let out = '';
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += goString(a);
  });
  return out;
}

const FUNCS: Record<string, Fn> = {
  // Go's built-ins
  print: (...a) => sprint(a),
  println: (...a) => `${a.map(goString).join(' ')}\n`,
  printf: (f, ...a) => sprintf(str(f, 'printf'), a),
  len: (v) => length(v),
  index: (v, ...k) => indexInto(v, ...k),
  slice: (v, ...k) => {
    const nums = k.map((x) => Number(x));
    if (typeof v === 'string') return v.slice(nums[0] ?? 0, nums[1] ?? v.length);
    if (Array.isArray(v)) return v.slice(nums[0] ?? 0, nums[1] ?? v.length);
    if (v instanceof GoNil && v.kind === 'slice') return v;
    throw new TemplateError(`error calling slice: can't slice item of type ${goType(v)}`, 'exec');
  },
  not: (v) => !truthy(v),
  eq: (a, ...bs) => {
    if (bs.length === 0) throw new TemplateError('error calling eq: missing argument for comparison', 'exec');
    return bs.some((b) => compare(a, b, 'eq') === 0);
  },
  ne: (a, b) => compare(a, b, 'ne') !== 0,
  lt: (a, b) => compare(a, b, 'lt') < 0,
  le: (a, b) => compare(a, b, 'le') <= 0,
  gt: (a, b) => compare(a, b, 'gt') > 0,
  ge: (a, b) => compare(a, b, 'ge') >= 0,
  html: (...a) =>
    sprint(a).replace(
      /[<>&'"\0]/g,
      (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&#39;', '"': '&#34;', '\0': '\uFFFD' })[c]!,
    ),
  js: (...a) =>
    sprint(a).replace(
      /[\\'"<>&=\n\r\t]/g,
      (c) =>
        ({
          '\\': '\\\\',
          "'": "\\'",
          '"': '\\"',
          '<': '\\u003C',
          '>': '\\u003E',
          '&': '\\u0026',
          '=': '\\u003D',
          '\n': '\\n',
          '\r': '\\r',
          '\t': '\\t',
        })[c]!,
    ),
  urlquery: (...a) => encodeURIComponent(sprint(a)).replace(/%20/g, '+'),
  // docker's (cli/templates)
  json: (v) => goJson(v),
  join: (v, sep) => {
    if (v instanceof GoNil) return '';
    if (!Array.isArray(v))
      throw new TemplateError(`error calling join: wrong type for value; expected []string; got ${goType(v)}`, 'exec');
    return v.map(goString).join(str(sep, 'join'));
  },
  split: (s, sep) => str(s, 'split').split(str(sep, 'split')),
  title: (s) =>
    str(s, 'title').replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_m, a: string, b: string) => a + b.toUpperCase()),
  lower: (s) => str(s, 'lower').toLowerCase(),
  upper: (s) => str(s, 'upper').toUpperCase(),
  pad: (s, before, after) => `${' '.repeat(Number(before))}${goString(s)}${' '.repeat(Number(after))}`,
  truncate: (s, n) => {
    const text = str(s, 'truncate');
    const chars = [...text];
    return chars.length > Number(n) ? chars.slice(0, Number(n)).join('') : text;
  },
};

// ---------------------------------------------------------------------------------------------
// Execution

class Break {}
class Continue {}

class Exec {
  private out = '';
  constructor(
    private readonly src: string,
    private readonly root: unknown,
  ) {}

  run(nodes: Node[]): string {
    this.walk(nodes, this.root, [{ name: '$', value: this.root }]);
    return this.out;
  }

  private fail(pos: number, at: string, why: string): TemplateError {
    const col = pos - this.src.lastIndexOf('\n', pos - 1);
    return new TemplateError(`template: :${lineOf(this.src, pos)}:${col + 1}: executing "" at <${at}>: ${why}`, 'exec');
  }

  private walk(nodes: Node[], dot: unknown, vars: Array<{ name: string; value: unknown }>): void {
    for (const n of nodes) {
      switch (n.t) {
        case 'text':
          this.out += n.text;
          break;
        case 'action': {
          const v = this.pipeline(n.pipe, dot, vars, n.pos);
          if (n.pipe.decl.length === 0) this.out += goString(v);
          break;
        }
        case 'if':
        case 'with': {
          const inner = [...vars];
          const v = this.pipeline(n.pipe, dot, inner, n.pos);
          if (truthy(v)) this.walk(n.body, n.t === 'with' ? v : dot, inner);
          else if (n.else) this.walk(n.else, dot, inner);
          break;
        }
        case 'range':
          this.range(n, dot, vars);
          break;
        case 'break':
          throw new Break();
        case 'continue':
          throw new Continue();
      }
    }
  }

  private range(n: Extract<Node, { t: 'range' }>, dot: unknown, vars: Array<{ name: string; value: unknown }>): void {
    const pipe = { ...n.pipe, decl: [] as string[] };
    const v = this.pipeline(pipe, dot, vars, n.pos);
    let items: Array<[unknown, unknown]>;
    if (Array.isArray(v)) items = v.map((x, i) => [i, x]);
    else if (v instanceof GoNil || v === NO_VALUE || v === null || v === undefined) items = [];
    else if (typeof v === 'number' && Number.isInteger(v))
      items = Array.from({ length: Math.max(0, v) }, (_x, i) => [i, i]);
    else if (isMap(v))
      items = Object.keys(v)
        .sort()
        .map((k) => [k, v[k]]);
    else throw this.fail(n.pos, n.pipe.text.trim(), `range can't iterate over ${goString(v)}`);
    if (items.length === 0) {
      if (n.else) this.walk(n.else, dot, [...vars]);
      return;
    }
    for (const [key, value] of items) {
      const inner = [...vars];
      const d = n.pipe.decl;
      if (d.length === 1) inner.push({ name: d[0]!, value });
      if (d.length === 2) inner.push({ name: d[0]!, value: key }, { name: d[1]!, value });
      try {
        this.walk(n.body, value, inner);
      } catch (e) {
        if (e instanceof Break) break;
        if (e instanceof Continue) continue;
        throw e;
      }
    }
  }

  private pipeline(p: Pipeline, dot: unknown, vars: Array<{ name: string; value: unknown }>, pos: number): unknown {
    let value: unknown = NO_VALUE;
    let have = false;
    for (const cmd of p.cmds) {
      value = this.command(cmd, dot, vars, pos, have ? value : undefined, have);
      have = true;
    }
    if (p.decl.length > 0) {
      if (p.assign) {
        const slot = [...vars].reverse().find((x) => x.name === p.decl[0]);
        if (!slot) throw this.fail(pos, p.decl[0]!, `undefined variable: ${p.decl[0]}`);
        slot.value = value;
      } else vars.push({ name: p.decl[0]!, value });
    }
    return value;
  }

  private command(
    cmd: Cmd,
    dot: unknown,
    vars: Array<{ name: string; value: unknown }>,
    pos: number,
    final: unknown,
    hasFinal: boolean,
  ): unknown {
    const [first, ...rest] = cmd.args;
    if (first!.t === 'ident') {
      if (first!.name === 'and' || first!.name === 'or') {
        // Short-circuit, as Go 1.18+: the first falsy (and) / truthy (or) argument, else the last.
        const thunks = rest.map((a) => () => this.arg(a, dot, vars, pos));
        if (hasFinal) thunks.push(() => final);
        if (thunks.length === 0) throw this.fail(pos, first!.name, 'wrong number of args: want at least 1 got 0');
        let v: unknown;
        for (const t of thunks) {
          v = t();
          if (truthy(v) === (first!.name === 'or')) return v;
        }
        return v;
      }
      const fn = FUNCS[first!.name];
      if (!fn)
        throw new TemplateError(`template: :${lineOf(this.src, pos)}: function "${first!.name}" not defined`, 'parse');
      const args = rest.map((a) => this.arg(a, dot, vars, pos));
      if (hasFinal) args.push(final);
      try {
        return fn(...args);
      } catch (e) {
        if (e instanceof TemplateError && e.phase === 'exec' && !e.message.startsWith('template:'))
          throw this.fail(pos, first!.name, e.message);
        throw e;
      }
    }
    if (rest.length > 0 || hasFinal) {
      const what =
        first!.t === 'field' ? `.${first!.path.join('.')}` : first!.t === 'lit' ? goString(first!.value) : 'value';
      throw this.fail(pos, what, `can't give argument to non-function ${what}`);
    }
    return this.arg(first!, dot, vars, pos);
  }

  private arg(a: Arg, dot: unknown, vars: Array<{ name: string; value: unknown }>, pos: number): unknown {
    switch (a.t) {
      case 'lit':
        return a.value;
      case 'field':
        return this.fields(dot, a.path, pos, '');
      case 'var': {
        const slot = [...vars].reverse().find((x) => x.name === a.name);
        if (!slot)
          throw new TemplateError(`template: :${lineOf(this.src, pos)}: undefined variable "${a.name}"`, 'parse');
        return this.fields(slot.value, a.path, pos, a.name);
      }
      case 'pipe':
        return this.fields(this.pipeline(a.pipe, dot, vars, pos), a.path, pos, '');
      case 'ident': {
        if (a.name === 'and' || a.name === 'or') throw this.fail(pos, a.name, 'missing argument');
        const fn = FUNCS[a.name];
        if (!fn)
          throw new TemplateError(`template: :${lineOf(this.src, pos)}: function "${a.name}" not defined`, 'parse');
        return fn();
      }
    }
  }

  private fields(value: unknown, path: string[], pos: number, prefix: string): unknown {
    let cur = value;
    for (let i = 0; i < path.length; i++) {
      const name = path[i]!;
      const at = `${prefix}.${path.slice(0, i + 1).join('.')}`;
      if (isStruct(cur) || isMap(cur)) {
        // A missing field prints <no value>, as docker's fallback to the raw JSON map does.
        cur = Object.hasOwn(cur, name) ? cur[name] : NO_VALUE;
      } else if (cur instanceof GoNil && cur.kind === 'map') {
        cur = NO_VALUE;
      } else if (cur === NO_VALUE || cur === null || cur === undefined || cur instanceof GoNil) {
        throw this.fail(pos, at, `nil pointer evaluating interface {}.${name}`);
      } else {
        throw this.fail(pos, at, `can't evaluate field ${name} in type ${goType(cur)}`);
      }
    }
    return cur;
  }
}

/** A parsed template, ready to run on any number of values. */
export interface GoTemplate {
  execute(data: unknown): string;
}

/**
 * Parses a Go text/template (docker's `--format` dialect). Throws {@link TemplateError} (`parse`).
 * @example parseTemplate('{{join .Config.Env ","}}').execute(inspect)
 */
export function parseTemplate(source: string): GoTemplate {
  const nodes = new Parser(source).parse();
  checkFunctions(nodes, source);
  return { execute: (data) => new Exec(source, data).run(nodes) };
}

/** Go reports unknown functions when parsing; so do we. */
function checkFunctions(nodes: Node[], src: string): void {
  const visitPipe = (p: Pipeline, pos: number): void => {
    for (const c of p.cmds)
      for (const a of c.args) {
        if (a.t === 'ident' && !FUNCS[a.name] && a.name !== 'and' && a.name !== 'or')
          throw new TemplateError(`template: :${lineOf(src, pos)}: function "${a.name}" not defined`, 'parse');
        if (a.t === 'pipe') visitPipe(a.pipe, pos);
      }
  };
  for (const n of nodes) {
    if (n.t === 'action') visitPipe(n.pipe, n.pos);
    if (n.t === 'if' || n.t === 'with' || n.t === 'range') {
      visitPipe(n.pipe, n.pos);
      checkFunctions(n.body, src);
      if (n.else) checkFunctions(n.else, src);
    }
  }
}
