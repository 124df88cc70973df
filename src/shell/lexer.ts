/**
 * The shell lexer: splits source text into operators, newlines and words, keeping each word's
 * quoting as parts (see `ast.ts`). It reads heredoc bodies when it reaches the newline after
 * their operator, and hands `$(...)` and backquoted text to the parser through `subParse`.
 */
import type { ParamOp, Redirect, Script, Word, WordPart } from './ast.js';
import { splitTilde, wordPartText } from './words.js';

/** A syntax error at a line of the script; the shell prints `sh: line N: syntax error: detail`. */
export class ShellSyntaxError extends Error {
  override readonly name = 'ShellSyntaxError';
  readonly line: number;
  readonly detail: string;

  constructor(line: number, detail: string) {
    super(`line ${line}: syntax error: ${detail}`);
    this.line = line;
    this.detail = detail;
  }
}

/** One token. */
export type Token =
  | { kind: 'word'; word: Word; line: number }
  | { kind: 'op'; op: string; line: number }
  | { kind: 'ionum'; fd: number; line: number }
  | { kind: 'newline'; line: number }
  | { kind: 'eof'; line: number };

/** Parses a nested script: from `pos` to its closing `)` (for `$(`), or a whole string (backquotes). */
export type SubParse = (
  src: string,
  pos: number,
  line: number,
  untilParen: boolean,
) => { script: Script; pos: number; line: number };

/** Operators, longest first so that the first match is the longest. */
const OPERATORS = [
  '&>>',
  '<<-',
  '&&',
  '||',
  ';;',
  '<<',
  '>>',
  '<&',
  '>&',
  '<>',
  '>|',
  '&>',
  '|',
  '&',
  ';',
  '<',
  '>',
  '(',
  ')',
] as const;

const META = new Set([' ', '\t', '\n', ';', '&', '|', '<', '>', '(', ')']);
const SPECIAL_PARAMS = new Set(['@', '*', '#', '?', '-', '$', '!']);
const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;

type Mode = 'word' | 'dq' | 'heredoc' | 'brace';

interface PendingHeredoc {
  redirect: Redirect;
  delimiter: string;
  strip: boolean;
  expand: boolean;
}

/** Tokenizer over one source string; the parser pulls tokens with {@link Lexer.next}. */
export class Lexer {
  pos: number;
  line: number;
  private readonly src: string;
  private readonly subParse: SubParse;
  private readonly pending: PendingHeredoc[] = [];

  constructor(src: string, options: { pos?: number; line?: number; subParse: SubParse }) {
    this.src = src;
    this.pos = options.pos ?? 0;
    this.line = options.line ?? 1;
    this.subParse = options.subParse;
  }

  /** Registers a heredoc whose body starts after the next newline. */
  addHeredoc(redirect: Redirect, delimiter: Word, strip: boolean): void {
    const quoted = delimiter.parts.some((p) => p.type !== 'lit');
    const text = delimiter.parts.map((p) => wordPartText(p)).join('');
    this.pending.push({ redirect, delimiter: text, strip, expand: !quoted });
  }

  /** The next token. */
  next(): Token {
    const src = this.src;
    for (;;) {
      const ch = src[this.pos];
      if (ch === ' ' || ch === '\t') {
        this.pos++;
      } else if (ch === '\\' && src[this.pos + 1] === '\n') {
        this.pos += 2;
        this.line++;
      } else if (ch === '#') {
        while (this.pos < src.length && src[this.pos] !== '\n') this.pos++;
      } else {
        break;
      }
    }
    const line = this.line;
    const ch = src[this.pos];
    if (ch === undefined) {
      if (this.pending.length > 0) this.readHeredocs();
      return { kind: 'eof', line };
    }
    if (ch === '\n') {
      this.pos++;
      this.line++;
      if (this.pending.length > 0) this.readHeredocs();
      return { kind: 'newline', line };
    }
    for (const op of OPERATORS) {
      if (src.startsWith(op, this.pos)) {
        this.pos += op.length;
        return { kind: 'op', op, line };
      }
    }
    const digits = /^[0-9]+(?=[<>])/.exec(src.slice(this.pos, this.pos + 12));
    if (digits) {
      this.pos += digits[0].length;
      return { kind: 'ionum', fd: Number(digits[0]), line };
    }
    const start = this.pos;
    const parts = this.readParts('word', false);
    let text = src.slice(start, this.pos);
    if (!parts.some((p) => p.type === 'sq')) text = text.replace(/\\\n/g, '');
    return { kind: 'word', word: { parts: splitTilde(parts), text }, line };
  }

  /** Reads parts until the mode's terminator (not consumed). */
  private readParts(mode: Mode, inDq: boolean, stopAtSlash = false): WordPart[] {
    const src = this.src;
    const parts: WordPart[] = [];
    let lit = '';
    const flush = (): void => {
      if (lit !== '') parts.push({ type: 'lit', text: lit });
      lit = '';
    };
    for (;;) {
      const ch = src[this.pos];
      if (ch === undefined) break;
      if (mode === 'word' && META.has(ch)) break;
      if (mode === 'dq' && ch === '"') break;
      if (mode === 'brace' && (ch === '}' || (stopAtSlash && ch === '/'))) break;
      if (ch === '\n') this.line++;
      if (ch === '\\') {
        const nx = src[this.pos + 1];
        if (nx === '\n') {
          this.pos += 2;
          this.line++;
          continue;
        }
        if (nx === undefined) {
          lit += '\\';
          this.pos++;
          continue;
        }
        if (mode === 'word' || (mode === 'brace' && !inDq)) {
          flush();
          parts.push({ type: 'escaped', text: nx });
          this.pos += 2;
          continue;
        }
        const escapable = mode === 'heredoc' ? '$`\\' : '$`"\\';
        if (escapable.includes(nx) || (mode === 'brace' && nx === '}')) {
          lit += nx;
          this.pos += 2;
        } else {
          lit += '\\';
          this.pos++;
        }
        continue;
      }
      if (ch === '$') {
        const part = this.readDollar(mode === 'dq' || mode === 'heredoc' || (mode === 'brace' && inDq));
        if (part === undefined) {
          lit += '$';
          this.pos++;
        } else {
          flush();
          parts.push(part);
        }
        continue;
      }
      if (ch === '`') {
        flush();
        parts.push(this.readBackquote());
        continue;
      }
      if (ch === "'" && (mode === 'word' || (mode === 'brace' && !inDq))) {
        flush();
        const end = src.indexOf("'", this.pos + 1);
        if (end < 0) throw new ShellSyntaxError(this.line, 'unterminated quoted string');
        const text = src.slice(this.pos + 1, end);
        this.line += countNewlines(text);
        parts.push({ type: 'sq', text });
        this.pos = end + 1;
        continue;
      }
      if (ch === '"' && (mode === 'word' || mode === 'brace')) {
        flush();
        const startLine = this.line;
        this.pos++;
        const inner = this.readParts('dq', true);
        if (src[this.pos] !== '"') throw new ShellSyntaxError(startLine, 'unterminated quoted string');
        this.pos++;
        parts.push({ type: 'dq', parts: inner });
        continue;
      }
      lit += ch;
      this.pos++;
    }
    flush();
    return parts;
  }

  /** Reads `$...` at `pos`; undefined when the `$` is literal. `inDq`: inside double quotes or a heredoc. */
  private readDollar(inDq: boolean): WordPart | undefined {
    const src = this.src;
    const nx = src[this.pos + 1];
    if (nx === '{') {
      this.pos += 2;
      return this.readBrace(inDq);
    }
    if (nx === '(') {
      if (src[this.pos + 2] === '(') {
        const arith = this.readArith();
        if (arith !== undefined) return arith;
      }
      const res = this.subParse(src, this.pos + 2, this.line, true);
      this.pos = res.pos;
      this.line = res.line;
      return { type: 'cmdsub', script: res.script, backtick: false };
    }
    if (nx !== undefined && NAME_START.test(nx)) {
      let end = this.pos + 2;
      while (end < src.length && NAME_CHAR.test(src[end] ?? '')) end++;
      const name = src.slice(this.pos + 1, end);
      this.pos = end;
      return { type: 'param', name };
    }
    if (nx !== undefined && (/[0-9]/.test(nx) || SPECIAL_PARAMS.has(nx))) {
      this.pos += 2;
      return { type: 'param', name: nx };
    }
    return undefined;
  }

  /** Reads `$((expr))`; undefined when the parentheses do not close as `))` (then it is `$( (...) )`). */
  private readArith(): WordPart | undefined {
    const src = this.src;
    let depth = 0;
    let i = this.pos + 3;
    for (; i < src.length; i++) {
      const c = src[i];
      if (c === '(') depth++;
      else if (c === ')') {
        if (depth === 0) {
          if (src[i + 1] !== ')') return undefined;
          break;
        }
        depth--;
      }
    }
    if (i >= src.length) throw new ShellSyntaxError(this.line, 'unterminated $((...))');
    const text = src.slice(this.pos + 3, i);
    const sub = new Lexer(text, { line: this.line, subParse: this.subParse });
    const parts = sub.readParts('heredoc', true);
    this.line += countNewlines(text);
    this.pos = i + 2;
    return { type: 'arith', expr: { parts, text } };
  }

  /**
   * Reads a `${...}` body; `pos` is just after `${`. Inside double quotes, single quotes in the
   * word of `-`, `=`, `+`, `?` are literal (as in ash and bash), but still quote in patterns.
   */
  private readBrace(inDq: boolean): WordPart {
    const src = this.src;
    const start = this.pos;
    const bad = (): never => {
      const end = src.indexOf('}', start);
      if (end < 0) throw new ShellSyntaxError(this.line, 'missing "}"');
      throw new ShellSyntaxError(this.line, `bad substitution: \${${src.slice(start, end)}}`);
    };
    let length = false;
    if (src[this.pos] === '#' && src[this.pos + 1] !== '}') {
      const after = src[this.pos + 1] ?? '';
      if (NAME_CHAR.test(after) || SPECIAL_PARAMS.has(after)) {
        length = true;
        this.pos++;
      }
    }
    let name: string;
    const c = src[this.pos] ?? '';
    if (NAME_START.test(c)) {
      let end = this.pos + 1;
      while (end < src.length && NAME_CHAR.test(src[end] ?? '')) end++;
      name = src.slice(this.pos, end);
      this.pos = end;
    } else if (/[0-9]/.test(c)) {
      let end = this.pos + 1;
      while (end < src.length && /[0-9]/.test(src[end] ?? '')) end++;
      name = src.slice(this.pos, end);
      this.pos = end;
    } else if (SPECIAL_PARAMS.has(c)) {
      name = c;
      this.pos++;
    } else {
      return bad();
    }
    if (src[this.pos] === '}') {
      this.pos++;
      return length ? { type: 'param', name, length: true } : { type: 'param', name };
    }
    if (length) return bad();
    const ops: ParamOp[] = [
      ':-',
      ':=',
      ':+',
      ':?',
      '##',
      '%%',
      '//',
      '/#',
      '/%',
      '-',
      '=',
      '+',
      '?',
      '#',
      '%',
      '/',
      ':',
    ];
    const op = ops.find((o) => src.startsWith(o, this.pos));
    if (op === undefined) return bad();
    this.pos += op.length;
    const argStart = this.pos;
    const startLine = this.line;
    const isReplace = op.startsWith('/');
    const valueOp = /^:?[-=+?]$/.test(op);
    const arg = this.readParts('brace', inDq && valueOp, isReplace);
    const text = src.slice(argStart, this.pos);
    let repl: Word | undefined;
    if (isReplace && src[this.pos] === '/') {
      this.pos++;
      const replStart = this.pos;
      const replParts = this.readParts('brace', false);
      repl = { parts: replParts, text: src.slice(replStart, this.pos) };
    }
    if (src[this.pos] !== '}') throw new ShellSyntaxError(startLine, 'missing "}"');
    this.pos++;
    const part: WordPart = { type: 'param', name, op, arg: { parts: arg, text } };
    if (repl !== undefined) part.repl = repl;
    return part;
  }

  /** Reads `` `...` ``: unescapes `\$`, `` \` `` and `\\`, then parses the text as a script. */
  private readBackquote(): WordPart {
    const src = this.src;
    const startLine = this.line;
    let i = this.pos + 1;
    let text = '';
    for (;;) {
      const c = src[i];
      if (c === undefined) throw new ShellSyntaxError(startLine, 'unterminated quoted string');
      if (c === '`') break;
      if (c === '\\' && (src[i + 1] === '$' || src[i + 1] === '`' || src[i + 1] === '\\')) {
        text += src[i + 1];
        i += 2;
        continue;
      }
      if (c === '\n') this.line++;
      text += c;
      i++;
    }
    this.pos = i + 1;
    const res = this.subParse(text, 0, startLine, false);
    return { type: 'cmdsub', script: res.script, backtick: true };
  }

  /** Reads the bodies of the pending heredocs, in order, starting at `pos` (a line start). */
  private readHeredocs(): void {
    const src = this.src;
    for (const h of this.pending.splice(0)) {
      const bodyLine = this.line;
      let body = '';
      for (;;) {
        if (this.pos >= src.length) break;
        const nl = src.indexOf('\n', this.pos);
        const end = nl < 0 ? src.length : nl;
        let lineText = src.slice(this.pos, end);
        this.pos = nl < 0 ? src.length : nl + 1;
        this.line++;
        if (h.strip) lineText = lineText.replace(/^\t+/, '');
        if (lineText === h.delimiter) break;
        body += `${lineText}\n`;
      }
      let word: Word;
      if (h.expand) {
        const sub = new Lexer(body, { line: bodyLine, subParse: this.subParse });
        word = { parts: sub.readParts('heredoc', true), text: body };
      } else {
        word = { parts: body === '' ? [] : [{ type: 'sq', text: body }], text: body };
      }
      h.redirect.heredoc = { body: word, expand: h.expand };
    }
  }
}

function countNewlines(s: string): number {
  let n = 0;
  for (const c of s) if (c === '\n') n++;
  return n;
}
