/**
 * Heredoc detection with BuildKit's rules: the instruction line is split into words by the shell
 * lexer in raw mode (quotes and escapes kept, unset variables left as written, always with `\` as
 * the escape), and each word is matched against `^(\d*)<<(-?)\s*([^<]*)$`. Quoting any part of
 * the delimiter turns expansion off.
 */
import { expandWords } from './lex.js';
import type { Heredoc } from './types.js';

const HEREDOC_WORD = /^([0-9]*)<<(-?)[\t\n\f\r ]*([^<]*)$/;
const NO_ENV = (): undefined => undefined;

function quoteCount(s: string): number {
  let n = 0;
  for (const ch of s) if (ch === "'" || ch === '"') n++;
  return n;
}

/**
 * The heredoc a word such as `<<EOF`, `<<-'EOF'` or `3<<EOF` starts, or undefined when the word
 * is not one (`<<`, `<EOF`, `<<EOF sh`). Content is empty: the parser reads it from the lines
 * that follow. Throws (plain Error) when the delimiter has an unterminated quote.
 */
export function parseHeredocWord(word: string): Heredoc | undefined {
  const m = HEREDOC_WORD.exec(word);
  if (m === null) return undefined;
  const rest = m[3] as string;
  if (rest === '') return undefined;
  const plain = expandWords(rest, NO_ENV, { skipUnsetEnv: true }).words;
  if (plain.length !== 1) return undefined;
  const raw = expandWords(rest, NO_ENV, { skipUnsetEnv: true, rawQuotes: true }).words;
  if (raw.length !== plain.length) {
    throw new Error(`internal lexing of heredoc produced inconsistent results: ${rest}`);
  }
  const name = plain[0] as string;
  const fd = Number.parseInt(m[1] as string, 10);
  return {
    name,
    content: '',
    expand: quoteCount(name) === quoteCount(raw[0] as string),
    chomp: m[2] === '-',
    fileDescriptor: Number.isSafeInteger(fd) ? fd : 0,
  };
}

/** The heredocs an instruction line opens, in order (content still empty). */
export function heredocsFromLine(line: string): Heredoc[] {
  let words: string[];
  try {
    words = expandWords(line, NO_ENV, { rawQuotes: true, rawEscapes: true, skipUnsetEnv: true }).words;
  } catch {
    words = []; // BuildKit ignores a lexing error of the whole line: no heredocs
  }
  const docs: Heredoc[] = [];
  for (const word of words) {
    const doc = parseHeredocWord(word);
    if (doc !== undefined) docs.push(doc);
  }
  return docs;
}

/** Strips leading tabs from every line, as `<<-` asks. */
export function chompHeredocContent(content: string): string {
  // Go's (?m)^ starts a line only after \n (JavaScript's also after \r, U+2028, U+2029).
  return content
    .split('\n')
    .map((line) => line.replace(/^\t+/, ''))
    .join('\n');
}
