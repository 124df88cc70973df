/**
 * The shell patterns of `${VAR#pat}`, `${VAR%pat}` and `${VAR/pat/rep}`, with BuildKit's rules
 * (`shell/lex.go`): `*` any run, `?` one character (neither crosses a newline, as Go's `.` does
 * not), no bracket expressions; `\*`, `\?`, `\\` are literal, `\}` and `\/` only escape the
 * `${}` syntax, any other escape is an error.
 *
 * BuildKit compiles the pattern to a Go (RE2) regexp, which runs in linear time. A JavaScript
 * regexp would backtrack exponentially on `${V#*****x}`, so this matches with a small NFA
 * instead: shortest/longest anchored prefix for `#`/`##` (and `%`/`%%` on reversed strings),
 * leftmost-longest for `/` and `//`, which is what Go's leftmost-first search gives for these
 * patterns (lazy stars for `#`/`%`, greedy ones otherwise).
 */

/** Thrown for a malformed pattern; the lexer turns it into its own error. */
export class PatternError extends Error {}

type Token = { kind: 'star' } | { kind: 'any' } | { kind: 'char'; ch: string };

function tokenize(pattern: string): Token[] {
  const chars = [...pattern];
  if (chars[0] === '\ufeff') chars.shift(); // Go's text/scanner skips a leading BOM
  const tokens: Token[] = [];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] as string;
    if (ch === '*') {
      if (tokens[tokens.length - 1]?.kind !== 'star') tokens.push({ kind: 'star' });
    } else if (ch === '?') {
      tokens.push({ kind: 'any' });
    } else if (ch === '\\') {
      const next = chars[i + 1];
      if (next === '}' || next === '/') continue; // the escape only protected the ${} syntax
      i++;
      if (next !== '*' && next !== '?' && next !== '\\')
        throw new PatternError(`invalid escape '\\${next ?? '\ufffd'}'`);
      tokens.push({ kind: 'char', ch: next });
    } else {
      tokens.push({ kind: 'char', ch });
    }
  }
  return tokens;
}

/** NFA state set: for each token position, the smallest start offset of a thread there (-1: none). */
class Threads {
  readonly starts: Int32Array;
  constructor(private readonly tokens: Token[]) {
    this.starts = new Int32Array(tokens.length + 1).fill(-1);
  }
  add(state: number, start: number): void {
    const cur = this.starts[state] as number;
    if (cur < 0 || start < cur) this.starts[state] = start;
  }
  /** Follows the empty transitions (a star may match nothing). */
  close(): void {
    for (let i = 0; i < this.tokens.length; i++) {
      const s = this.starts[i] as number;
      if (s >= 0 && this.tokens[i]?.kind === 'star') this.add(i + 1, s);
    }
  }
  step(ch: string): Threads {
    const next = new Threads(this.tokens);
    for (let i = 0; i < this.tokens.length; i++) {
      const s = this.starts[i] as number;
      if (s < 0) continue;
      const t = this.tokens[i] as Token;
      if (t.kind === 'star') {
        if (ch !== '\n') next.add(i, s);
      } else if (t.kind === 'any' ? ch !== '\n' : t.ch === ch) {
        next.add(i + 1, s);
      }
    }
    next.close();
    return next;
  }
  accepted(): number {
    return this.starts[this.tokens.length] as number;
  }
  empty(): boolean {
    return this.starts.every((s) => s < 0);
  }
}

function charAt(s: string, i: number): string {
  const cp = s.codePointAt(i) as number;
  return cp > 0xffff ? s.slice(i, i + 2) : (s[i] as string);
}

/** The end offsets where `tokens` matches `value` from 0 (the whole prefix), ascending. */
function prefixEnds(tokens: Token[], value: string): number[] {
  let threads = new Threads(tokens);
  threads.add(0, 0);
  threads.close();
  const ends: number[] = [];
  for (let j = 0; ; ) {
    if (threads.accepted() >= 0) ends.push(j);
    if (j >= value.length || threads.empty()) return ends;
    const ch = charAt(value, j);
    threads = threads.step(ch);
    j += ch.length;
  }
}

/** The leftmost match at or after `from`, longest for that start, as [start, end]. */
function findLongest(tokens: Token[], value: string, from: number): [number, number] | undefined {
  let threads = new Threads(tokens);
  let best: [number, number] | undefined;
  for (let j = from; ; ) {
    if (best === undefined) {
      threads.add(0, j);
      threads.close();
    }
    const start = threads.accepted();
    if (start >= 0 && (best === undefined || start < best[0] || (start === best[0] && j > best[1]))) best = [start, j];
    if (j >= value.length) return best;
    const ch = charAt(value, j);
    threads = threads.step(ch);
    j += ch.length;
    if (best !== undefined && threads.empty()) return best;
  }
}

/** Reverses a pattern by code point, keeping each `\x` escape pair in order (`a\*c` → `c\*a`). */
export function reversePattern(pattern: string): string {
  const runes = [...pattern];
  const out: string[] = new Array<string>(runes.length);
  const last = runes.length - 1;
  for (let i = 0; i <= last; ) {
    const tok = runes[i] as string;
    const at = last - i;
    if (tok === '\\' && i !== last) {
      out[at - 1] = tok;
      out[at] = runes[i + 1] as string;
      i += 2;
    } else {
      out[at] = tok;
      i++;
    }
  }
  return out.join('');
}

function reverseString(s: string): string {
  return [...s].reverse().join('');
}

/** `${VAR#pat}` (greedy: `##`): `value` minus the shortest (longest) prefix matching `pattern`. */
export function trimPrefixPattern(pattern: string, value: string, greedy: boolean): string {
  const ends = prefixEnds(tokenize(pattern), value);
  if (ends.length === 0) return value;
  return value.slice(greedy ? (ends[ends.length - 1] as number) : (ends[0] as number));
}

/** `${VAR%pat}` (greedy: `%%`): both strings reversed, so the suffix search is a prefix search. */
export function trimSuffixPattern(pattern: string, value: string, greedy: boolean): string {
  return reverseString(trimPrefixPattern(reversePattern(pattern), reverseString(value), greedy));
}

/** `${VAR/pat/rep}`: the first match replaced by `replacement`, taken literally. */
export function replaceFirstPattern(pattern: string, value: string, replacement: string): string {
  const m = findLongest(tokenize(pattern), value, 0);
  if (m === undefined) return value;
  return value.slice(0, m[0]) + replacement + value.slice(m[1]);
}

/**
 * `${VAR//pat/rep}`: Go's `Regexp.ReplaceAllString`, including its two quirks: `$0`/`${0}` in the
 * replacement insert the match and `$$` a dollar (other `$name`s are empty groups), and an empty
 * match right after a previous match is not replaced.
 */
export function replaceAllPattern(pattern: string, value: string, replacement: string): string {
  const tokens = tokenize(pattern);
  let out = '';
  let lastMatchEnd = 0;
  let searchPos = 0;
  while (searchPos <= value.length) {
    const m = findLongest(tokens, value, searchPos);
    if (m === undefined) break;
    const [start, end] = m;
    out += value.slice(lastMatchEnd, start);
    if (end > lastMatchEnd || start === 0) out += expandTemplate(replacement, value.slice(start, end));
    lastMatchEnd = end;
    const width = searchPos < value.length ? charAt(value, searchPos).length : 0;
    if (searchPos + width > end) searchPos += width;
    else if (searchPos + 1 > end) searchPos++;
    else searchPos = end;
  }
  return out + value.slice(lastMatchEnd);
}

const TEMPLATE_NAME = /^[\p{L}\p{Nd}_]+/u;

/** Go's `Regexp.Expand` for a regexp whose only group is the whole match. */
function expandTemplate(template: string, match: string): string {
  let out = '';
  let rest = template;
  for (;;) {
    const i = rest.indexOf('$');
    if (i < 0) break;
    out += rest.slice(0, i);
    rest = rest.slice(i + 1);
    if (rest.startsWith('$')) {
      out += '$';
      rest = rest.slice(1);
      continue;
    }
    const brace = rest.startsWith('{');
    const body = brace ? rest.slice(1) : rest;
    const name = TEMPLATE_NAME.exec(body)?.[0];
    if (name === undefined || (brace && body[name.length] !== '}')) {
      out += '$';
      continue;
    }
    rest = body.slice(name.length + (brace ? 1 : 0));
    if (name === '0') out += match; // Go: group 0 only; leading zeros make a (missing) named group
  }
  return out + rest;
}
