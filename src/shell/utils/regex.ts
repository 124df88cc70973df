/**
 * POSIX regular expressions (basic and extended, with the GNU extensions `\+ \? \| \< \> \w
 * \s` in basic ones) translated to JavaScript regular expressions, for `grep` and `sed`.
 */

import { POSIX_CLASSES } from '../pattern.js';

/** Thrown for a malformed expression. */
export class RegexSyntaxError extends Error {}

/** Translates a bracket expression starting at `start` (`[`); returns the JS text and the index after `]`. */
function bracket(src: string, start: number): { text: string; end: number } {
  let i = start + 1;
  let out = '[';
  if (src[i] === '^') {
    out += '^';
    i++;
  }
  let first = true;
  for (;;) {
    const c = src[i];
    if (c === undefined) throw new RegexSyntaxError('unterminated [');
    if (c === ']' && !first) break;
    first = false;
    if (c === '[' && (src[i + 1] === ':' || src[i + 1] === '.' || src[i + 1] === '=')) {
      const kind = src[i + 1] as string;
      const close = src.indexOf(`${kind}]`, i + 2);
      if (close < 0) throw new RegexSyntaxError('unterminated character class');
      const name = src.slice(i + 2, close);
      if (kind === ':') {
        const cls = POSIX_CLASSES[name];
        if (cls === undefined) throw new RegexSyntaxError(`invalid character class ${name}`);
        out += cls;
      } else {
        out += name.replace(/[\\\]^[-]/g, '\\$&');
      }
      i = close + 2;
      continue;
    }
    if (c === '\\' || c === '[' || (c === '^' && out.length > 1)) out += `\\${c}`;
    else if (c === ']') out += '\\]';
    else out += c;
    i++;
  }
  return { text: `${out}]`, end: i + 1 };
}

/** Translates a POSIX regular expression to JavaScript regular-expression source. */
export function translateRegex(src: string, extended: boolean): string {
  let out = '';
  let atStart = true;
  for (let i = 0; i < src.length; i++) {
    const c = src[i] as string;
    const wasStart = atStart;
    atStart = false;
    if (c === '[') {
      const b = bracket(src, i);
      out += b.text;
      i = b.end - 1;
      continue;
    }
    if (c === '\\') {
      const n = src[i + 1];
      i++;
      if (n === undefined) throw new RegexSyntaxError('trailing backslash');
      if (!extended && '(){}|+?'.includes(n)) {
        out += n;
        if (n === '(' || n === '|') atStart = true;
        continue;
      }
      if (n === '<' || n === '>') out += '\\b';
      else if (/[1-9bBwWsS]/.test(n)) out += `\\${n}`;
      else if (n === 'n') out += '\\n';
      else if (n === 't') out += '\\t';
      else out += n.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
      continue;
    }
    if (extended) {
      if (c === '{' && !/^\{[0-9]+(,[0-9]*)?\}/.test(src.slice(i))) out += '\\{';
      else if (c === '*' && wasStart) out += '\\*';
      else out += c === '/' ? '\\/' : c;
      if (c === '(' || c === '|') atStart = true;
      continue;
    }
    if ('(){}|+?/'.includes(c)) out += `\\${c}`;
    else if (c === '*' && wasStart) out += '\\*';
    else if (c === '^' && !wasStart) out += '\\^';
    else if (c === '^') {
      out += '^';
      atStart = true;
    } else if (c === '$' && i !== src.length - 1 && !src.startsWith('\\)', i + 1) && !src.startsWith('\\|', i + 1))
      out += '\\$';
    else out += c;
  }
  return out;
}

/** Compiles a POSIX regular expression (or a fixed string) to a JavaScript RegExp. */
export function compileRegex(
  pattern: string,
  options: { extended: boolean; ignoreCase: boolean; fixed?: boolean; global?: boolean },
): RegExp {
  const source =
    options.fixed === true
      ? pattern.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&')
      : translateRegex(pattern, options.extended);
  try {
    return new RegExp(source, (options.ignoreCase ? 'i' : '') + (options.global === true ? 'g' : ''));
  } catch (err) {
    throw new RegexSyntaxError(err instanceof Error ? err.message : String(err));
  }
}

const anchoredCache = new WeakMap<RegExp, Map<number, RegExp>>();

/**
 * POSIX leftmost-longest matching on top of JavaScript's leftmost-first engine: finds the
 * earliest match at or after `pos` (both agree on where it starts), then the longest match
 * starting there, by asking for a match that leaves exactly `k` characters after it, for
 * `k = 0, 1, ...`. So `\(a\|ab\)` and `[^a]*[ab]a\(ab*\)*` match as sed and grep do.
 */
export function execLongest(re: RegExp, text: string, pos: number): RegExpExecArray | null {
  re.lastIndex = pos;
  const m = re.exec(text);
  if (m === null) return null;
  const start = m.index;
  let byTail = anchoredCache.get(re);
  if (byTail === undefined) {
    byTail = new Map();
    anchoredCache.set(re, byTail);
  }
  for (let k = 0; start + m[0].length < text.length - k; k++) {
    let anchored = byTail.get(k);
    if (anchored === undefined) {
      anchored = new RegExp(`(?:${re.source})(?=[\\s\\S]{${k}}$)`, `${re.flags.replace('g', '')}y`);
      byTail.set(k, anchored);
    }
    anchored.lastIndex = start;
    const longer = anchored.exec(text);
    if (longer !== null) return longer;
  }
  return m;
}
