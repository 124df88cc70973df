/**
 * Go's text primitives, as BuildKit's Dockerfile front end relies on them: `unicode.IsSpace`,
 * `strings.TrimSpace`, `unicode.IsLetter`/`IsDigit`, `strconv.Quote` and byte-order string
 * comparison. Ported so the parser, the lexer and the AST dump agree with BuildKit character for
 * character. Everything works on code points (a JS string's surrogate pairs count as one).
 */

const LETTER = /^\p{L}$/u;
const DIGIT = /^\p{Nd}$/u;
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

/** Go's `unicode.IsSpace`: ASCII blanks, U+0085, U+00A0 and the Unicode White_Space set. */
export function isGoSpace(ch: string): boolean {
  switch (ch) {
    case ' ':
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case '\u0085':
    case '\u00a0':
    case '\u1680':
    case '\u2028':
    case '\u2029':
    case '\u202f':
    case '\u205f':
    case '\u3000':
      return true;
    default:
      return ch >= '\u2000' && ch <= '\u200a';
  }
}

/** Go's `unicode.IsLetter` (general category L) for one code point. */
export function isGoLetter(ch: string): boolean {
  return ch.length > 0 && LETTER.test(ch);
}

/** Go's `unicode.IsDigit` (general category Nd) for one code point. */
export function isGoDigit(ch: string): boolean {
  return ch.length > 0 && (ch >= '0' && ch <= '9' ? true : DIGIT.test(ch));
}

/** Go's `strings.TrimLeftFunc(s, unicode.IsSpace)`. */
export function trimGoLeftSpace(s: string): string {
  let i = 0;
  while (i < s.length && isGoSpace(s[i] as string)) i++;
  return i === 0 ? s : s.slice(i);
}

/** Go's `strings.TrimRightFunc(s, unicode.IsSpace)`. */
export function trimGoRightSpace(s: string): string {
  let j = s.length;
  while (j > 0 && isGoSpace(s[j - 1] as string)) j--;
  return j === s.length ? s : s.slice(0, j);
}

/** Go's `strings.TrimSpace`. */
export function trimGoSpace(s: string): string {
  return trimGoRightSpace(trimGoLeftSpace(s));
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

/**
 * Go's `strconv.Quote`: double quotes; `\a \b \f \n \r \t \v`, `\\` and `\"` escapes; `\xNN` for
 * other control bytes; `\uNNNN`/`\UNNNNNNNN` for runes Go does not consider printable (such as
 * U+00A0); printable non-ASCII kept as is. A lone surrogate (impossible in Go) prints as `\uNNNN`.
 */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    switch (ch) {
      case '"':
        out += '\\"';
        continue;
      case '\\':
        out += '\\\\';
        continue;
      case '\x07':
        out += '\\a';
        continue;
      case '\b':
        out += '\\b';
        continue;
      case '\f':
        out += '\\f';
        continue;
      case '\n':
        out += '\\n';
        continue;
      case '\r':
        out += '\\r';
        continue;
      case '\t':
        out += '\\t';
        continue;
      case '\v':
        out += '\\v';
        continue;
    }
    if (cp < 0x20 || cp === 0x7f) out += `\\x${hex(cp, 2)}`;
    else if (cp < 0x7f || ch === ' ') out += ch;
    else if (PRINTABLE.test(ch)) out += ch;
    else if (cp <= 0xffff) out += `\\u${hex(cp, 4)}`;
    else out += `\\U${hex(cp, 8)}`;
  }
  return `${out}"`;
}

/** Compares strings by code point, which is Go's byte-wise order for valid UTF-8. */
export function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done === true) return y.done === true ? 0 : -1;
    if (y.done === true) return 1;
    const d = (x.value.codePointAt(0) as number) - (y.value.codePointAt(0) as number);
    if (d !== 0) return d;
  }
}
