/**
 * The syntax tree of the virtual shell's POSIX-sh subset, as produced by `parseScript` and
 * walked by the interpreter. Words keep their quoting as parts so that expansion can tell quoted
 * text (never split, never globbed) from unquoted text.
 */

/** Parameter expansion operators of `${name<op>word}`. */
export type ParamOp =
  | ':-'
  | '-'
  | ':='
  | '='
  | ':+'
  | '+'
  | ':?'
  | '?'
  | '#'
  | '##'
  | '%'
  | '%%'
  /** bash extensions: `${name/pat/rep}`, `${name//pat/rep}`, `${name/#pat/rep}`, `${name/%pat/rep}`, `${name:off[:len]}`. */
  | '/'
  | '//'
  | '/#'
  | '/%'
  | ':';

/** One piece of a word, with its quoting. */
export type WordPart =
  /** Unquoted literal text: subject to pathname expansion when it holds `*`, `?` or `[`. */
  | { type: 'lit'; text: string }
  /** A backslash-escaped character outside quotes (quoted, so never a glob). */
  | { type: 'escaped'; text: string }
  /** `'...'`: literal, quoted. */
  | { type: 'sq'; text: string }
  /** `"..."`: its parts are quoted (no field splitting, no globbing). */
  | { type: 'dq'; parts: WordPart[] }
  /** `$name`, `${name}`, `${#name}`, `${name<op>word}`. */
  | { type: 'param'; name: string; length?: boolean; op?: ParamOp; arg?: Word; repl?: Word }
  /** `$(...)` or `` `...` ``. */
  | { type: 'cmdsub'; script: Script; backtick: boolean }
  /** `$((...))`: the expression text, expanded (parameters, command substitutions) before evaluation. */
  | { type: 'arith'; expr: Word }
  /** `~` or `~user` at the start of a word or an assignment value. */
  | { type: 'tilde'; user: string };

/** A shell word: its parts and the source text it came from. */
export interface Word {
  parts: WordPart[];
  /** The source text, for messages and `set -x`. */
  text: string;
}

/** `name=value` before a command (or alone). */
export interface Assignment {
  name: string;
  value: Word;
}

/** Redirection operators. `&>`/`&>>` redirect both stdout and stderr (bash). */
export type RedirectOp = '>' | '>>' | '>|' | '<' | '<>' | '>&' | '<&' | '&>' | '&>>' | '<<' | '<<-';

/** One redirection: `[fd]op target`, or a heredoc. */
export interface Redirect {
  /** The explicit fd number before the operator, when given. */
  fd?: number;
  op: RedirectOp;
  /** The target word (for heredocs: the delimiter as written). */
  target: Word;
  /** Heredoc body: expanded like a double-quoted string when the delimiter was unquoted. */
  heredoc?: { body: Word; expand: boolean };
}

/** `[assignments] [words] [redirections]`. */
export interface SimpleCommand {
  type: 'simple';
  assigns: Assignment[];
  words: Word[];
  redirs: Redirect[];
  line: number;
}

/** `( list )`. */
export interface Subshell {
  type: 'subshell';
  body: List;
  redirs: Redirect[];
  line: number;
}

/** `{ list; }`. */
export interface Group {
  type: 'group';
  body: List;
  redirs: Redirect[];
  line: number;
}

/** `if list; then list; [elif list; then list;]... [else list;] fi`. */
export interface If {
  type: 'if';
  clauses: { cond: List; body: List }[];
  else?: List;
  redirs: Redirect[];
  line: number;
}

/** `for name [in words]; do list; done` (no `in`: iterate over `"$@"`). */
export interface For {
  type: 'for';
  name: string;
  items?: Word[];
  body: List;
  redirs: Redirect[];
  line: number;
}

/** `while list; do list; done` / `until list; do list; done`. */
export interface While {
  type: 'while';
  until: boolean;
  cond: List;
  body: List;
  redirs: Redirect[];
  line: number;
}

/** One `pattern|pattern) list ;;` item of a `case`. */
export interface CaseItem {
  patterns: Word[];
  body: List;
}

/** `case word in items esac`. */
export interface Case {
  type: 'case';
  word: Word;
  items: CaseItem[];
  redirs: Redirect[];
  line: number;
}

/** `name() compound-command`. */
export interface FunctionDef {
  type: 'function';
  name: string;
  body: Command;
  line: number;
}

/** Any command that can stand in a pipeline. */
export type Command = SimpleCommand | Subshell | Group | If | For | While | Case | FunctionDef;

/** `[!] command [| command]...`. */
export interface Pipeline {
  type: 'pipeline';
  bang: boolean;
  commands: Command[];
  line: number;
}

/** `pipeline [&&|| pipeline]...`. */
export interface AndOr {
  type: 'andor';
  head: Pipeline;
  tail: { op: '&&' | '||'; pipeline: Pipeline }[];
}

/** A sequence of and-or lists separated by `;`, `&` or newlines. */
export interface List {
  type: 'list';
  items: { command: AndOr; async: boolean }[];
}

/** A whole script: one list. */
export type Script = List;
