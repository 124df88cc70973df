/**
 * Shell pattern matching (`*`, `?`, `[...]` with ranges, `!`/`^` negation and `[:class:]`),
 * used by `case`, `${name#pattern}` and pathname expansion. A pattern is a string in which a
 * backslash makes the next character literal: expansion escapes quoted characters that way.
 */

/** POSIX character classes (`[:alpha:]`...) as JavaScript RegExp class bodies; shared with the regex utilities. */
export const POSIX_CLASSES: Readonly<Record<string, string>> = {
  alpha: 'A-Za-z',
  digit: '0-9',
  alnum: 'A-Za-z0-9',
  upper: 'A-Z',
  lower: 'a-z',
  space: ' \\t\\n\\r\\f\\v',
  blank: ' \\t',
  punct: '!-\\/:-@\\[-`{-~',
  xdigit: '0-9A-Fa-f',
  cntrl: '\\x00-\\x1f\\x7f',
  print: '\\x20-\\x7e',
  graph: '\\x21-\\x7e',
};

/** Glob patterns also know `[:word:]` (bash). */
const CLASSES: Readonly<Record<string, string>> = { ...POSIX_CLASSES, word: 'A-Za-z0-9_' };

/** Escapes a character for use outside a character class (unicode-mode rules). */
function escapeRegex(ch: string): string {
  return ch.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}

/** Escapes a character for use inside a character class. */
function escapeClass(ch: string): string {
  return ch.replace(/[\\^\][-]/g, '\\$&');
}

/** Escapes `\ * ? [ ]` so that the text matches only itself. */
export function escapePattern(text: string): string {
  return text.replace(/[\\*?[\]]/g, '\\$&');
}

/** Removes pattern escapes: the literal text a pattern without wildcards stands for. */
export function unescapePattern(pattern: string): string {
  return pattern.replace(/\\(.)/gs, '$1');
}

/** True when the pattern has an unescaped `*`, `?` or a `[` that opens a bracket expression. */
export function hasWildcards(pattern: string): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '*' || c === '?') return true;
    if (c === '[' && parseBracket(pattern, i) !== undefined) return true;
  }
  return false;
}

/** Parses a bracket expression at `start` (`[`); undefined when it does not close. */
function parseBracket(pattern: string, start: number): { source: string; end: number } | undefined {
  let i = start + 1;
  let negate = false;
  if (pattern[i] === '!' || pattern[i] === '^') {
    negate = true;
    i++;
  }
  let body = '';
  let first = true;
  for (;;) {
    const c = pattern[i];
    if (c === undefined) return undefined;
    if (c === ']' && !first) break;
    first = false;
    if (c === '[' && pattern[i + 1] === ':') {
      const close = pattern.indexOf(':]', i + 2);
      const cls = close < 0 ? undefined : CLASSES[pattern.slice(i + 2, close)];
      if (cls !== undefined) {
        body += cls;
        i = close + 2;
        continue;
      }
    }
    let ch = c;
    if (c === '\\' && pattern[i + 1] !== undefined) {
      ch = pattern[i + 1] as string;
      i++;
    }
    if (pattern[i + 1] === '-' && pattern[i + 2] !== undefined && pattern[i + 2] !== ']') {
      let hi = pattern[i + 2] as string;
      let skip = 3;
      if (hi === '\\' && pattern[i + 3] !== undefined) {
        hi = pattern[i + 3] as string;
        skip = 4;
      }
      if (hi >= ch) body += `${escapeClass(ch)}-${escapeClass(hi)}`;
      i += skip;
      continue;
    }
    body += escapeClass(ch);
    i++;
  }
  if (body === '') return { source: negate ? '[^]' : '(?!)', end: i };
  return { source: `[${negate ? '^' : ''}${body}]`, end: i };
}

/** The regular-expression source for a pattern (without anchors). */
export function patternSource(pattern: string, options: { pathname?: boolean } = {}): string {
  const any = options.pathname === true ? '[^/]' : '[\\s\\S]';
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\') {
      const nx = pattern[i + 1];
      if (nx === undefined) {
        out += '\\\\';
      } else {
        out += escapeRegex(nx);
        i++;
      }
    } else if (c === '*') {
      out += `${any}*`;
    } else if (c === '?') {
      out += any;
    } else if (c === '[') {
      const br = parseBracket(pattern, i);
      if (br === undefined) {
        out += '\\[';
      } else {
        out += br.source;
        i = br.end;
      }
    } else {
      out += escapeRegex(c);
    }
  }
  return out;
}

const cache = new Map<string, RegExp>();

/** A regular expression matching the whole text against the pattern. */
export function patternToRegExp(pattern: string, options: { pathname?: boolean } = {}): RegExp {
  const key = (options.pathname === true ? 'p' : 'w') + pattern;
  let re = cache.get(key);
  if (re === undefined) {
    re = new RegExp(`^${patternSource(pattern, options)}$`, 'u');
    if (cache.size > 500) cache.clear();
    cache.set(key, re);
  }
  return re;
}

/** True when `text` matches the whole pattern. */
export function matchPattern(pattern: string, text: string): boolean {
  return patternToRegExp(pattern).test(text);
}

/**
 * Removes the shortest or longest prefix (`#`, `##`) or suffix (`%`, `%%`) of `text` that
 * matches the pattern.
 */
export function removeMatch(text: string, pattern: string, op: '#' | '##' | '%' | '%%'): string {
  const re = patternToRegExp(pattern);
  const chars = Array.from(text);
  const n = chars.length;
  if (op === '#' || op === '##') {
    const lengths = op === '#' ? range(0, n) : range(n, 0);
    for (const len of lengths) if (re.test(chars.slice(0, len).join(''))) return chars.slice(len).join('');
  } else {
    const starts = op === '%' ? range(n, 0) : range(0, n);
    for (const start of starts) if (re.test(chars.slice(start).join(''))) return chars.slice(0, start).join('');
  }
  return text;
}

/** `${name/pattern/replacement}`: replaces the first, every (`//`), leading (`/#`) or trailing (`/%`) longest match. */
export function replaceMatch(text: string, pattern: string, replacement: string, op: '/' | '//' | '/#' | '/%'): string {
  const re = patternToRegExp(pattern);
  const chars = Array.from(text);
  const n = chars.length;
  const matchAt = (start: number, anchoredEnd: boolean): number => {
    for (let end = n; end >= start; end--) {
      if (anchoredEnd && end !== n) break;
      if (re.test(chars.slice(start, end).join(''))) return end;
    }
    return -1;
  };
  if (op === '/#') {
    const end = matchAt(0, false);
    return end < 0 ? text : replacement + chars.slice(end).join('');
  }
  if (op === '/%') {
    for (let start = 0; start <= n; start++) {
      if (matchAt(start, true) === n) return chars.slice(0, start).join('') + replacement;
    }
    return text;
  }
  let out = '';
  let i = 0;
  let replaced = false;
  while (i < n) {
    const end = replaced && op === '/' ? -1 : matchAt(i, false);
    if (end > i) {
      out += replacement;
      i = end;
      replaced = true;
    } else {
      out += chars[i];
      i++;
    }
  }
  return out;
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  if (from <= to) for (let i = from; i <= to; i++) out.push(i);
  else for (let i = from; i >= to; i--) out.push(i);
  return out;
}
