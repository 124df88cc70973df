/**
 * The shell patterns of `${VAR#pat}`, `${VAR%pat}` and `${VAR/pat/rep}`, with BuildKit's rules
 * (`shell/lex.go`): `*` any run, `?` one character, no bracket expressions; `\*`, `\?`, `\\` are
 * literal, `\}` and `\/` only escape the `${}` syntax, any other escape is an error. Matching
 * is Go's leftmost-first regexp semantics, which JavaScript regexps share.
 */

/** Thrown for a malformed pattern; the lexer turns it into its own error. */
export class PatternError extends Error {}

const REGEX_SPECIAL = new Set(['[', ']', '{', '}', '.', '+', '(', ')', '|', '^', '$']);

/** Go's `convertShellPatternToRegex`, producing a JavaScript regexp (`u` flag; `g` when asked). */
export function shellPatternToRegExp(
  pattern: string,
  options: { greedy: boolean; anchored: boolean; global?: boolean },
): RegExp {
  const chars = [...pattern];
  if (chars[0] === '\ufeff') chars.shift(); // Go's text/scanner skips a leading BOM
  let out = options.anchored ? '^' : '';
  // Go's `.` does not match a newline; JavaScript's also skips \r and U+2028/9.
  const any = '[^\\n]';
  for (let i = 0; i < chars.length; i++) {
    let tok = chars[i] as string;
    if (tok === '*') {
      out += options.greedy ? `${any}*` : `${any}*?`;
      continue;
    }
    if (tok === '?') {
      out += any;
      continue;
    }
    if (tok === '\\') {
      const peek = chars[i + 1];
      if (peek === '}' || peek === '/') continue;
      out += '\\';
      i++;
      tok = chars[i] ?? '\ufffd';
      if (tok !== '*' && tok !== '?' && tok !== '\\') throw new PatternError(`invalid escape '\\${tok}'`);
    } else if (REGEX_SPECIAL.has(tok)) {
      out += '\\';
    }
    out += tok;
  }
  return new RegExp(out, options.global === true ? 'gu' : 'u');
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
  const re = shellPatternToRegExp(pattern, { greedy, anchored: true });
  const m = re.exec(value);
  return m === null ? value : value.slice(m.index + m[0].length);
}

/** `${VAR%pat}` (greedy: `%%`): both strings reversed, so the suffix search is a prefix search. */
export function trimSuffixPattern(pattern: string, value: string, greedy: boolean): string {
  return reverseString(trimPrefixPattern(reversePattern(pattern), reverseString(value), greedy));
}

/** `${VAR/pat/rep}`: the first match replaced by `replacement`, taken literally. */
export function replaceFirstPattern(pattern: string, value: string, replacement: string): string {
  const re = shellPatternToRegExp(pattern, { greedy: true, anchored: false });
  const m = re.exec(value);
  if (m === null) return value;
  return value.slice(0, m.index) + replacement + value.slice(m.index + m[0].length);
}

/**
 * `${VAR//pat/rep}`: Go's `Regexp.ReplaceAllString`, including its two quirks: `$0`/`${0}` in the
 * replacement insert the match and `$$` a dollar (other `$name`s are empty groups), and an empty
 * match right after a previous match is not replaced.
 */
export function replaceAllPattern(pattern: string, value: string, replacement: string): string {
  const re = shellPatternToRegExp(pattern, { greedy: true, anchored: false, global: true });
  let out = '';
  let lastMatchEnd = 0;
  let searchPos = 0;
  while (searchPos <= value.length) {
    re.lastIndex = searchPos;
    const m = re.exec(value);
    if (m === null) break;
    const start = m.index;
    const end = start + m[0].length;
    out += value.slice(lastMatchEnd, start);
    if (end > lastMatchEnd || start === 0) out += expandTemplate(replacement, m[0]);
    lastMatchEnd = end;
    const cp = value.codePointAt(searchPos);
    const width = cp === undefined ? 0 : cp > 0xffff ? 2 : 1;
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
