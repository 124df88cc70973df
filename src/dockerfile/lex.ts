/**
 * Word expansion with BuildKit's `shell/lex.go` rules: quotes, the escape token, `$VAR`,
 * `${VAR}` and its modifiers (`:-`, `-`, `:+`, `+`, `:?`, `?`, `#`, `##`, `%`, `%%`, `/`, `//`),
 * unset versus empty, and (for `expandWords`) field splitting of unquoted expansion results.
 * Reports every variable a word looked up, which is what the cache explainer needs.
 */
import { ErrorCodes, LayerkitError } from '../errors.js';
import { goQuote, isGoDigit, isGoLetter, isGoSpace } from './go-text.js';
import {
  PatternError,
  replaceAllPattern,
  replaceFirstPattern,
  trimPrefixPattern,
  trimSuffixPattern,
} from './lex-pattern.js';
import type { EscapeToken } from './types.js';

/** Where variable values come from: a Map, a plain object (own keys only) or a function. */
export type EnvLookup =
  | ReadonlyMap<string, string>
  | Readonly<Record<string, string>>
  | ((name: string) => string | undefined);

/** How to lex. The defaults are what the builder uses for ENV, COPY, WORKDIR... */
export interface ExpandOptions {
  /** The escape character (`\` by default; the backtick under `# escape=\``). */
  escapeToken?: EscapeToken;
  /** Keep quote characters in the result (quotes still group words). */
  rawQuotes?: boolean;
  /** Keep escape characters in the result. */
  rawEscapes?: boolean;
  /** Leave references to unset variables as written (`$X`, `${X:-y}`). */
  skipUnsetEnv?: boolean;
  /** Treat quotes as ordinary characters (COPY heredoc bodies). */
  skipProcessQuotes?: boolean;
}

/** The result of expanding one word. */
export interface WordExpansion {
  value: string;
  /** Every variable name the word looked up, set or not. */
  used: Set<string>;
  /** The subset of `used` that was not set. */
  unset: Set<string>;
}

/** The result of expanding and field-splitting a word. */
export interface WordsExpansion {
  words: string[];
  used: Set<string>;
  unset: Set<string>;
}

/**
 * Expands `word` as BuildKit's `ProcessWord` does (quotes removed, escapes applied, variables
 * substituted, no field splitting). Throws `ERR_DOCKERFILE_EXPANSION` with BuildKit's message,
 * e.g. `failed to process "${X:?}": X: is not allowed to be unset`.
 */
export function expandWord(word: string, env: EnvLookup, options: ExpandOptions = {}): WordExpansion {
  const sw = new ShellWord(word, env, options);
  const { result } = sw.run();
  return { value: result, used: sw.used, unset: sw.unset };
}

/**
 * Expands `word` and splits it into fields as BuildKit's `ProcessWords` does: whitespace
 * outside quotes separates words, and so does whitespace produced by an unquoted expansion.
 */
export function expandWords(word: string, env: EnvLookup, options: ExpandOptions = {}): WordsExpansion {
  const sw = new ShellWord(word, env, options);
  const { words } = sw.run();
  return { words, used: sw.used, unset: sw.unset };
}

class LexError extends Error {}

/** BuildKit's word accumulator. Its buffer is shared by nested scans, as in Go (see `run`). */
class Words {
  readonly words: string[] = [];
  inWord = false;
  constructor(private readonly buf: { s: string }) {}
  addChar(ch: string): void {
    if (isGoSpace(ch)) {
      if (this.inWord && this.buf.s.length !== 0) {
        this.words.push(this.buf.s);
        this.buf.s = '';
        this.inWord = false;
      }
    } else {
      this.addRawChar(ch);
    }
  }
  addRawChar(ch: string): void {
    this.buf.s += ch;
    this.inWord = true;
  }
  addString(s: string): void {
    for (const ch of s) this.addChar(ch);
  }
  addRawString(s: string): void {
    this.buf.s += s;
    this.inWord = true;
  }
  getWords(): string[] {
    if (this.buf.s.length > 0) {
      this.words.push(this.buf.s);
      this.buf.s = '';
      this.inWord = false;
    }
    return this.words;
  }
}

class ShellWord {
  readonly used = new Set<string>();
  readonly unset = new Set<string>();
  private readonly chars: string[];
  private pos = 0;
  private readonly escape: string;
  private readonly rawQuotes: boolean;
  private rawEscapes: boolean;
  private readonly skipUnset: boolean;
  private readonly skipQuotes: boolean;
  // BuildKit resets one shared words buffer at the start of every (nested) scan, so a `${x:-y}`
  // drops what the enclosing word had accumulated. Kept for identical heredoc detection.
  private readonly wordsBuffer = { s: '' };

  constructor(
    private readonly source: string,
    private readonly env: EnvLookup,
    options: ExpandOptions,
  ) {
    this.chars = [...source];
    if (this.chars[0] === '\ufeff') this.chars.shift(); // Go's text/scanner skips a leading BOM
    this.escape = options.escapeToken ?? '\\';
    this.rawQuotes = options.rawQuotes ?? false;
    this.rawEscapes = options.rawEscapes ?? false;
    this.skipUnset = options.skipUnsetEnv ?? false;
    this.skipQuotes = options.skipProcessQuotes ?? false;
  }

  run(): { result: string; words: string[] } {
    try {
      return this.scanUntil(undefined, this.rawEscapes);
    } catch (err) {
      if (!(err instanceof LexError || err instanceof PatternError)) throw err;
      throw new LayerkitError(
        ErrorCodes.ERR_DOCKERFILE_EXPANSION,
        `failed to process ${goQuote(this.source)}: ${err.message}`,
        { word: this.source, reason: err.message },
      );
    }
  }

  private peek(): string | undefined {
    return this.chars[this.pos];
  }

  private next(): string | undefined {
    const ch = this.chars[this.pos];
    if (ch !== undefined) this.pos++;
    return ch;
  }

  private scanUntil(stop: string | undefined, rawEscapes: boolean): { result: string; words: string[] } {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      let result = '';
      this.wordsBuffer.s = '';
      const words = new Words(this.wordsBuffer);
      for (let ch = this.peek(); ch !== undefined; ch = this.peek()) {
        if (stop !== undefined && ch === stop) {
          this.next();
          return { result, words: words.getWords() };
        }
        if (ch === '$') {
          const tmp = this.dollar();
          result += tmp;
          words.addString(tmp);
        } else if (ch === '<' || (!this.skipQuotes && (ch === "'" || ch === '"'))) {
          const tmp = ch === '<' ? this.possibleHeredoc() : ch === "'" ? this.singleQuote() : this.doubleQuote();
          result += tmp;
          words.addRawString(tmp);
        } else {
          let c = this.next() as string;
          if (c === this.escape) {
            if (this.rawEscapes) {
              words.addRawChar(c);
              result += c;
            }
            const escaped = this.next();
            if (escaped === undefined) break; // a lone escape at the end is dropped
            c = escaped;
            words.addRawChar(c);
          } else {
            words.addChar(c);
          }
          result += c;
        }
      }
      if (stop !== undefined) throw new LexError(`unexpected end of statement while looking for matching ${stop}`);
      return { result, words: words.getWords() };
    } finally {
      this.rawEscapes = saved;
    }
  }

  private singleQuote(): string {
    let result = '';
    const open = this.next() as string;
    if (this.rawQuotes) result += open;
    for (;;) {
      const ch = this.next();
      if (ch === undefined) throw new LexError('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") {
        if (this.rawQuotes) result += ch;
        return result;
      }
      result += ch;
    }
  }

  private doubleQuote(): string {
    let result = '';
    const open = this.next() as string;
    if (this.rawQuotes) result += open;
    for (;;) {
      const peek = this.peek();
      if (peek === undefined) throw new LexError('unexpected end of statement while looking for matching double-quote');
      if (peek === '"') {
        this.next();
        if (this.rawQuotes) result += peek;
        return result;
      }
      if (peek === '$') {
        result += this.dollar();
        continue;
      }
      let ch = this.next() as string;
      if (ch === this.escape) {
        if (this.rawEscapes) result += ch;
        const after = this.peek();
        if (after === undefined) continue; // the unterminated quote is reported next
        if (after === '"' || after === '$' || after === this.escape) ch = this.next() as string;
      }
      result += ch;
    }
  }

  private possibleHeredoc(): string {
    this.next();
    if (this.peek() !== '<') return '<';
    this.next();
    let result = '<<';
    for (let ch = this.peek(); ch === '\t' || ch === '\r' || ch === ' '; ch = this.peek()) {
      result += ch;
      this.next();
    }
    return result;
  }

  private lookup(name: string): string | undefined {
    const env = this.env;
    let value: string | undefined;
    if (typeof env === 'function') value = env(name);
    else if (env instanceof Map) value = env.get(name);
    else if (Object.hasOwn(env, name)) value = (env as Readonly<Record<string, string>>)[name];
    this.used.add(name);
    if (value === undefined) this.unset.add(name);
    return value;
  }

  private name(): string {
    let name = '';
    for (let ch = this.peek(); ch !== undefined; ch = this.peek()) {
      if (name.length === 0 && isGoDigit(ch)) {
        while (this.peek() !== undefined && isGoDigit(this.peek() as string)) name += this.next() as string;
        return name;
      }
      if (name.length === 0 && '@*#?-$!0'.includes(ch)) return this.next() as string;
      if (!isGoLetter(ch) && !isGoDigit(ch) && ch !== '_') break;
      name += this.next() as string;
    }
    return name;
  }

  private dollar(): string {
    this.next();
    if (this.peek() !== '{') {
      const name = this.name();
      if (name === '') return '$';
      const value = this.lookup(name);
      if (value === undefined && this.skipUnset) return `$${name}`;
      return value ?? '';
    }
    this.next();
    const first = this.peek();
    if (first === undefined) throw new LexError("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new LexError('syntax error: bad substitution');
    const name = this.name();
    let ch = this.next();
    if (ch === undefined) throw new LexError("syntax error: missing '}'");
    if (ch === '}') {
      const value = this.lookup(name);
      if (value === undefined && this.skipUnset) return `\${${name}}`;
      return value ?? '';
    }
    if (ch === '/') return this.substitute(name);
    let modifier = ch;
    const nullIsUnset = ch === ':';
    if (nullIsUnset) {
      ch = this.next();
      modifier += ch ?? '';
    } else if (!'+-?#%'.includes(ch)) {
      throw new LexError(`unsupported modifier (${modifier}) in substitution`);
    }
    const patternMode = ch === '#' || ch === '%';
    if (nullIsUnset && patternMode) throw new LexError(`unsupported modifier (${modifier}) in substitution`);
    let word = this.scanNested('}', patternMode, "syntax error: missing '}'");
    const value = this.lookup(name);
    if (value === undefined && this.skipUnset) return `\${${name}${modifier}${word}}`;
    const unset = value === undefined || (nullIsUnset && value === '');
    switch (ch) {
      case '-':
        return unset ? word : (value as string);
      case '+':
        return unset ? '' : word;
      case '?':
        if (value === undefined) throw new LexError(`${name}: ${word !== '' ? word : 'is not allowed to be unset'}`);
        if (nullIsUnset && value === '')
          throw new LexError(`${name}: ${word !== '' ? word : 'is not allowed to be empty'}`);
        return value;
      case '#':
      case '%': {
        const greedy = word.startsWith(ch);
        if (greedy) word = word.slice(1);
        try {
          return ch === '%'
            ? trimSuffixPattern(word, value ?? '', greedy)
            : trimPrefixPattern(word, value ?? '', greedy);
        } catch (err) {
          if (err instanceof PatternError)
            throw new LexError(`invalid pattern (${word}) in substitution: ${err.message}`);
          throw err;
        }
      }
      default:
        throw new LexError(`unsupported modifier (${modifier}) in substitution`);
    }
  }

  /** `${name/pattern/replacement}` and `${name//pattern/replacement}`; the first `/` is consumed. */
  private substitute(name: string): string {
    const all = this.peek() === '/';
    if (all) this.next();
    const pattern = this.scanNested('/', true, "syntax error: missing '/' in ${}");
    const replacement = this.scanNested('}', true, "syntax error: missing '}'");
    const value = this.lookup(name);
    if (value === undefined && this.skipUnset) return `\${${name}/${pattern}/${replacement}}`;
    try {
      return all
        ? replaceAllPattern(pattern, value ?? '', replacement)
        : replaceFirstPattern(pattern, value ?? '', replacement);
    } catch (err) {
      if (err instanceof PatternError)
        throw new LexError(`invalid pattern (${pattern}) in substitution: ${err.message}`);
      throw err;
    }
  }

  /** A nested scan up to `stop`; an error at the end of input becomes `eofMessage`. */
  private scanNested(stop: string, rawEscapes: boolean, eofMessage: string): string {
    try {
      return this.scanUntil(stop, rawEscapes).result;
    } catch (err) {
      if (err instanceof LexError && this.peek() === undefined) throw new LexError(eofMessage);
      throw err;
    }
  }
}
