/**
 * The Dockerfile AST: what `parseDockerfile` returns. One {@link Node} per instruction, in file
 * order, with its source range; the shape follows BuildKit's `parser.Node` so its `Dump()` output
 * can be reproduced exactly (see `dump.ts`).
 */

/** A place in the Dockerfile: 1-based line, 1-based column (UTF-16 code units). */
export interface Position {
  line: number;
  column: number;
}

/** A span of the Dockerfile. `end` is exclusive: the column just past the last character. */
export interface SourceRange {
  start: Position;
  end: Position;
}

/** The escape token a `# escape=` directive may choose. */
export type EscapeToken = '\\' | '`';

/** A heredoc attached to a RUN, COPY or ADD instruction (`<<EOF` ... `EOF`). */
export interface Heredoc {
  /** The delimiter after quote removal (`EOF` for `<<"EOF"`); COPY/ADD use it as the file name. */
  name: string;
  /** The body exactly as written, each line with its line ending; `<<-` tabs are NOT yet removed. */
  content: string;
  /** False when any part of the delimiter was quoted (`<<'EOF'`, `<<"EOF"`, `<<E'O'F`). */
  expand: boolean;
  /** True for `<<-`: leading tabs are to be stripped from every body line (`chompHeredocContent`). */
  chomp: boolean;
  /** The file descriptor written before `<<` (`3<<EOF`), 0 when none. */
  fileDescriptor: number;
}

/** One instruction of the AST. */
export interface Node {
  /** The instruction keyword, lowercased (`run`, `copy`, or an unknown word as written, lowercased). */
  keyword: string;
  /** The keyword as written (`Run`, `FORM`), for messages. */
  rawKeyword: string;
  /**
   * The arguments, shaped per instruction as BuildKit's parser shapes them: one string for
   * shell-form RUN/CMD/ENTRYPOINT/SHELL; one per element for JSON form; whitespace-split words for
   * COPY/ADD/VOLUME/FROM/EXPOSE (quotes kept); `key, value, separator` triples for ENV/LABEL;
   * raw words for ARG; the whole rest for USER/WORKDIR/STOPSIGNAL/MAINTAINER; type word then
   * command for HEALTHCHECK; empty for ONBUILD (see `child`) and for unknown keywords.
   */
  args: string[];
  /** Leading `--flags`, quotes removed (`--from=builder`); a bare `--` ends them and is dropped. */
  flags: string[];
  /** Where each of `flags` starts in the source. */
  flagPositions: Position[];
  /** True when the arguments were a JSON array (exec form). */
  json: boolean;
  /** Heredocs of RUN/COPY/ADD (and of an ONBUILD wrapping one), in the order they appear. */
  heredocs: Heredoc[];
  /** The instruction's text with continuations joined (escape and line breaks removed). */
  original: string;
  /** From the keyword to the end of the last line (heredoc terminators included). */
  range: SourceRange;
  /** ONBUILD only: the wrapped trigger instruction. */
  child?: Node;
}

/** The parser directives at the top of the file. */
export interface Directives {
  /** The escape token (`\` unless `# escape=` chose the backtick). */
  escape: EscapeToken;
  /** The `# syntax=` value, when present. */
  syntax?: string;
  /** The `# check=` value, when present. */
  check?: string;
}

/** A problem the parser reports without failing. */
export interface Warning {
  /** BuildKit's linter rule name (`NoEmptyContinuation`). */
  rule: string;
  /** A one-line description, e.g. `Empty continuation line found in: RUN a   b`. */
  message: string;
  /** What to do about it. */
  detail: string;
  /** Where the rule is documented. */
  url: string;
  file: string;
  line: number;
}

/** The result of `parseDockerfile`. */
export interface ParsedDockerfile {
  /** The file name used in messages (default `Dockerfile`). */
  file: string;
  directives: Directives;
  nodes: Node[];
  warnings: Warning[];
}
