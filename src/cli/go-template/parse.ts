/** Go text/template's lexer and parser: actions, tokens, pipelines and the node tree. */
import { TemplateError } from './values.js';

/** An operand of a command: a field path, a variable, a function name, a literal or a parenthesised pipeline. */
export type Arg =
  | { t: 'field'; path: string[] } // .A.B (path empty for '.')
  | { t: 'var'; name: string; path: string[] }
  | { t: 'ident'; name: string }
  | { t: 'lit'; value: unknown }
  | { t: 'pipe'; pipe: Pipeline; path: string[] };

/** One command of a pipeline: a function with its arguments, or a single operand. */
export interface Cmd {
  args: Arg[];
}

/** Commands joined by `|`, with the variables it declares (`$x :=`) or assigns (`$x =`). */
export interface Pipeline {
  decl: string[];
  assign: boolean;
  cmds: Cmd[];
  text: string;
}

/** A node of the parsed tree: text, an action, or a control structure with its bodies. */
export type Node =
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

/** The 1-based line of position `pos` of the source (Go's messages name it). */
export function lineOf(src: string, pos: number): number {
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

/** Parses a template's source into its node tree; errors are Go's messages. */
export class Parser {
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
