/**
 * The shell parser: a recursive-descent parser for the POSIX-sh grammar subset the virtual
 * shell runs (simple commands, pipelines, and-or lists, compound commands, functions,
 * redirections and heredocs). Reserved words are recognised only where a command may start.
 */
import type {
  AndOr,
  Assignment,
  Case,
  CaseItem,
  Command,
  For,
  FunctionDef,
  If,
  List,
  Pipeline,
  Redirect,
  RedirectOp,
  Script,
  SimpleCommand,
  While,
  Word,
} from './ast.js';
import { Lexer, ShellSyntaxError, type Token } from './lexer.js';
import { splitTilde } from './words.js';

export { ShellSyntaxError } from './lexer.js';

const REDIRECT_OPS = new Set<string>(['>', '>>', '>|', '<', '<>', '>&', '<&', '&>', '&>>', '<<', '<<-']);
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const FUNCTION_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const EMPTY: ReadonlySet<string> = new Set();

/**
 * Parses a script into its syntax tree.
 * @throws ShellSyntaxError with the line number and what was unexpected.
 */
export function parseScript(options: { source: string; line?: number }): Script {
  const parser = new Parser(options.source, 0, options.line ?? 1);
  const list = parser.parseList(EMPTY);
  parser.expectEnd();
  return list;
}

const subParse = (
  src: string,
  pos: number,
  line: number,
  untilParen: boolean,
): { script: Script; pos: number; line: number } => {
  const parser = new Parser(src, pos, line);
  const script = parser.parseList(EMPTY);
  if (untilParen) {
    const end = parser.closeParen();
    return { script, pos: end.pos, line: end.line };
  }
  parser.expectEnd();
  return { script, pos: src.length, line };
};

class Parser {
  private readonly lexer: Lexer;
  private tok: Token;

  constructor(src: string, pos: number, line: number) {
    this.lexer = new Lexer(src, { pos, line, subParse });
    this.tok = this.lexer.next();
  }

  /** Requires end of input. */
  expectEnd(): void {
    if (this.tok.kind !== 'eof') throw this.unexpected();
  }

  /** Requires a `)` (end of `$(...)`) and returns the position just after it, without reading further. */
  closeParen(): { pos: number; line: number } {
    if (this.tok.kind === 'op' && this.tok.op === ')') return { pos: this.lexer.pos, line: this.lexer.line };
    throw this.unexpected('expecting ")"');
  }

  private advance(): void {
    this.tok = this.lexer.next();
  }

  private unexpected(expecting?: string): ShellSyntaxError {
    const t = this.tok;
    const what =
      t.kind === 'eof'
        ? 'end of file'
        : t.kind === 'newline'
          ? 'newline'
          : t.kind === 'op'
            ? `"${t.op}"`
            : t.kind === 'ionum'
              ? `"${t.fd}"`
              : `"${t.word.text}"`;
    return new ShellSyntaxError(t.line, `unexpected ${what}${expecting === undefined ? '' : ` (${expecting})`}`);
  }

  private isReserved(word: string): boolean {
    return reservedText(this.tok) === word;
  }

  private isOp(op: string): boolean {
    return this.tok.kind === 'op' && this.tok.op === op;
  }

  private expectReserved(word: string): void {
    if (!this.isReserved(word)) throw this.unexpected(`expecting "${word}"`);
    this.advance();
  }

  private skipNewlines(): void {
    while (this.tok.kind === 'newline') this.advance();
  }

  /** Parses and-or lists until end of input, `)`, `;;`, or one of the reserved `stop` words. */
  parseList(stop: ReadonlySet<string>): List {
    const list: List = { type: 'list', items: [] };
    for (;;) {
      this.skipNewlines();
      const t = this.tok;
      if (t.kind === 'eof') break;
      if (t.kind === 'op' && (t.op === ')' || t.op === ';;')) break;
      const r = reservedText(t);
      if (r !== undefined && stop.has(r)) break;
      const command = this.parseAndOr();
      if (this.isOp(';') || this.isOp('&')) {
        list.items.push({ command, async: this.isOp('&') });
        this.advance();
      } else if (this.tok.kind === 'newline') {
        list.items.push({ command, async: false });
      } else {
        list.items.push({ command, async: false });
        break;
      }
    }
    return list;
  }

  /** A list that must have a command; at end of input the error names `closer` (`"fi"`). */
  private parseNonEmptyList(stop: ReadonlySet<string>, expecting: string, closer: string): List {
    const list = this.parseList(stop);
    if (list.items.length === 0) throw this.unexpected(`expecting ${this.tok.kind === 'eof' ? closer : expecting}`);
    return list;
  }

  private parseAndOr(): AndOr {
    const node: AndOr = { type: 'andor', head: this.parsePipeline(), tail: [] };
    while (this.isOp('&&') || this.isOp('||')) {
      const op = (this.tok as { op: '&&' | '||' }).op;
      this.advance();
      this.skipNewlines();
      node.tail.push({ op, pipeline: this.parsePipeline() });
    }
    return node;
  }

  private parsePipeline(): Pipeline {
    const line = this.tok.line;
    let bang = false;
    if (this.isReserved('!')) {
      bang = true;
      this.advance();
    }
    const commands = [this.parseCommand()];
    while (this.isOp('|')) {
      this.advance();
      this.skipNewlines();
      commands.push(this.parseCommand());
    }
    return { type: 'pipeline', bang, commands, line };
  }

  private parseCommand(): Command {
    const t = this.tok;
    const line = t.line;
    if (t.kind === 'op' && t.op === '(') {
      this.advance();
      const body = this.parseNonEmptyList(EMPTY, 'a command', '")"');
      if (!this.isOp(')')) throw this.unexpected('expecting ")"');
      this.advance();
      return { type: 'subshell', body, redirs: this.parseRedirects(), line };
    }
    const r = reservedText(t);
    switch (r) {
      case '{': {
        this.advance();
        const body = this.parseNonEmptyList(new Set(['}']), 'a command', '"}"');
        this.expectReserved('}');
        return { type: 'group', body, redirs: this.parseRedirects(), line };
      }
      case 'if':
        return this.parseIf();
      case 'for':
        return this.parseFor();
      case 'while':
      case 'until':
        return this.parseWhile(r === 'until');
      case 'case':
        return this.parseCase();
      case 'then':
      case 'else':
      case 'elif':
      case 'fi':
      case 'do':
      case 'done':
      case 'esac':
      case '}':
      case 'in':
        throw this.unexpected();
      default:
        return this.parseSimple();
    }
  }

  private parseRedirects(): Redirect[] {
    const redirs: Redirect[] = [];
    while (this.tok.kind === 'ionum' || (this.tok.kind === 'op' && REDIRECT_OPS.has(this.tok.op))) {
      redirs.push(this.parseRedirect());
    }
    return redirs;
  }

  private parseRedirect(): Redirect {
    let fd: number | undefined;
    if (this.tok.kind === 'ionum') {
      fd = this.tok.fd;
      this.advance();
    }
    const t = this.tok;
    if (t.kind !== 'op' || !REDIRECT_OPS.has(t.op)) throw this.unexpected();
    const op = t.op as RedirectOp;
    this.advance();
    const target = this.tok;
    if (target.kind !== 'word') throw this.unexpected();
    const redirect: Redirect = { op, target: target.word };
    if (fd !== undefined) redirect.fd = fd;
    if (op === '<<' || op === '<<-') this.lexer.addHeredoc(redirect, target.word, op === '<<-');
    this.advance();
    return redirect;
  }

  private parseSimple(): Command {
    const line = this.tok.line;
    const cmd: SimpleCommand = { type: 'simple', assigns: [], words: [], redirs: [], line };
    for (;;) {
      const t = this.tok;
      if (t.kind === 'ionum' || (t.kind === 'op' && REDIRECT_OPS.has(t.op))) {
        cmd.redirs.push(this.parseRedirect());
        continue;
      }
      if (t.kind !== 'word') break;
      const assign = cmd.words.length === 0 ? toAssignment(t.word) : undefined;
      if (assign !== undefined) {
        cmd.assigns.push(assign);
        this.advance();
        continue;
      }
      cmd.words.push(t.word);
      this.advance();
      if (
        cmd.words.length === 1 &&
        cmd.assigns.length === 0 &&
        cmd.redirs.length === 0 &&
        this.isOp('(') &&
        FUNCTION_NAME.test(t.word.text)
      ) {
        return this.parseFunction(t.word.text, line);
      }
    }
    if (cmd.words.length === 0 && cmd.assigns.length === 0 && cmd.redirs.length === 0) throw this.unexpected();
    return cmd;
  }

  private parseFunction(name: string, line: number): FunctionDef {
    this.advance();
    if (!this.isOp(')')) throw this.unexpected('expecting ")"');
    this.advance();
    this.skipNewlines();
    const r = reservedText(this.tok);
    const compound =
      (this.tok.kind === 'op' && this.tok.op === '(') || ['{', 'if', 'for', 'while', 'until', 'case'].includes(r ?? '');
    if (!compound) throw this.unexpected('expecting a function body');
    return { type: 'function', name, body: this.parseCommand(), line };
  }

  private parseIf(): If {
    const line = this.tok.line;
    this.advance();
    const clauses: If['clauses'] = [];
    const cond = this.parseNonEmptyList(new Set(['then']), '"then"', '"then"');
    this.expectReserved('then');
    const body = this.parseNonEmptyList(new Set(['elif', 'else', 'fi']), 'a command', '"fi"');
    clauses.push({ cond, body });
    const node: If = { type: 'if', clauses, redirs: [], line };
    for (;;) {
      if (this.isReserved('elif')) {
        this.advance();
        const c = this.parseNonEmptyList(new Set(['then']), '"then"', '"then"');
        this.expectReserved('then');
        const b = this.parseNonEmptyList(new Set(['elif', 'else', 'fi']), 'a command', '"fi"');
        clauses.push({ cond: c, body: b });
        continue;
      }
      if (this.isReserved('else')) {
        this.advance();
        node.else = this.parseNonEmptyList(new Set(['fi']), 'a command', '"fi"');
      }
      break;
    }
    this.expectReserved('fi');
    node.redirs = this.parseRedirects();
    return node;
  }

  private parseDoGroup(): List {
    this.expectReserved('do');
    const body = this.parseNonEmptyList(new Set(['done']), 'a command', '"done"');
    this.expectReserved('done');
    return body;
  }

  private parseFor(): For {
    const line = this.tok.line;
    this.advance();
    const t = this.tok;
    if (t.kind !== 'word' || !NAME.test(t.word.text)) throw this.unexpected('expecting a variable name');
    const name = t.word.text;
    this.advance();
    let items: Word[] | undefined;
    this.skipNewlines();
    if (this.isReserved('in')) {
      this.advance();
      items = [];
      while (this.tok.kind === 'word') {
        items.push(this.tok.word);
        this.advance();
      }
      if (this.isOp(';') || this.tok.kind === 'newline') this.advance();
      else throw this.unexpected('expecting ";" or newline');
    } else if (this.isOp(';')) {
      this.advance();
    }
    this.skipNewlines();
    const body = this.parseDoGroup();
    const node: For = { type: 'for', name, body, redirs: this.parseRedirects(), line };
    if (items !== undefined) node.items = items;
    return node;
  }

  private parseWhile(until: boolean): While {
    const line = this.tok.line;
    this.advance();
    const cond = this.parseNonEmptyList(new Set(['do']), '"do"', '"do"');
    const body = this.parseDoGroup();
    return { type: 'while', until, cond, body, redirs: this.parseRedirects(), line };
  }

  private parseCase(): Case {
    const line = this.tok.line;
    this.advance();
    const t = this.tok;
    if (t.kind !== 'word') throw this.unexpected('expecting a word');
    const word = t.word;
    this.advance();
    this.skipNewlines();
    this.expectReserved('in');
    const items: CaseItem[] = [];
    for (;;) {
      this.skipNewlines();
      if (this.isReserved('esac')) break;
      if (this.isOp('(')) this.advance();
      const patterns: Word[] = [];
      for (;;) {
        const p = this.tok;
        if (p.kind !== 'word') throw this.unexpected('expecting a pattern');
        patterns.push(p.word);
        this.advance();
        if (!this.isOp('|')) break;
        this.advance();
      }
      if (!this.isOp(')')) throw this.unexpected('expecting ")"');
      this.advance();
      const body = this.parseList(new Set(['esac']));
      items.push({ patterns, body });
      if (this.isOp(';;')) {
        this.advance();
        continue;
      }
      this.skipNewlines();
      if (!this.isReserved('esac')) throw this.unexpected('expecting ";;" or "esac"');
    }
    this.expectReserved('esac');
    return { type: 'case', word, items, redirs: this.parseRedirects(), line };
  }
}

/** The text of a token when it could be a reserved word (a single unquoted literal). */
function reservedText(t: Token): string | undefined {
  if (t.kind !== 'word') return undefined;
  const parts = t.word.parts;
  const p = parts[0];
  if (parts.length !== 1 || p?.type !== 'lit') return undefined;
  return p.text;
}

/** `name=value` when the word starts with an unquoted valid name and `=`. */
function toAssignment(word: Word): Assignment | undefined {
  const first = word.parts[0];
  if (first?.type !== 'lit') return undefined;
  const eq = first.text.indexOf('=');
  if (eq <= 0 || !NAME.test(first.text.slice(0, eq))) return undefined;
  const rest = first.text.slice(eq + 1);
  const parts = rest === '' ? word.parts.slice(1) : [{ type: 'lit' as const, text: rest }, ...word.parts.slice(1)];
  return {
    name: first.text.slice(0, eq),
    value: { parts: splitTilde(parts), text: word.text.slice(eq + 1) },
  };
}
