/**
 * One `.dockerignore` / `--exclude` pattern, compiled as moby/patternmatcher compiles it (the
 * matcher BuildKit uses): Go `filepath.Match` syntax checking, then exact / prefix (`a/**`) /
 * suffix (`**\/a`) / regexp matching, where `*` and `?` stop at `/`, `**` spans directories and
 * `\` escapes. Also Go's `filepath.Clean`, which patterns and paths go through.
 */

/** Go's `path.Clean` for `/`-separated paths (`./a` → `a`, `a/../b` → `b`, `a/` → `a`, `` → `.`). */
export function cleanPath(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(part);
  }
  const joined = out.join('/');
  if (rooted) return `/${joined}`;
  return joined === '' ? '.' : joined;
}

/** Go's `filepath.Match` syntax check: true when `pattern` is well formed. */
export function isValidGlob(pattern: string): boolean {
  const chars = [...pattern];
  let i = 0;
  // getEsc: one class character (possibly escaped); must not be '-' or ']' and must not end the pattern.
  const classChar = (): boolean => {
    const c = chars[i];
    if (c === undefined || c === '-' || c === ']') return false;
    if (c === '\\') {
      i++;
      if (chars[i] === undefined) return false;
    }
    i++;
    return i < chars.length;
  };
  while (i < chars.length) {
    const c = chars[i];
    if (c === '\\') {
      i += 2;
      if (i > chars.length) return false;
    } else if (c === '[') {
      i++;
      if (chars[i] === '^') i++;
      let ranges = 0;
      for (;;) {
        if (chars[i] === ']' && ranges > 0) {
          i++;
          break;
        }
        if (!classChar()) return false;
        if (chars[i] === '-') {
          i++;
          if (!classChar()) return false;
        }
        ranges++;
      }
    } else {
      i++;
    }
  }
  return true;
}

type MatchType = 'exact' | 'prefix' | 'suffix' | 'regexp';

const ESCAPED = new Set(['.', '+', '(', ')', '|', '{', '}', '$']);
// Go regexp escapes a `\x` may mean; others are rejected as Go's regexp compiler rejects them.
const REGEX_ESCAPES: Record<string, string> = {
  d: '\\d',
  D: '\\D',
  w: '\\w',
  W: '\\W',
  s: '[\\t\\n\\f\\r ]',
  S: '[^\\t\\n\\f\\r ]',
  b: '\\b',
  B: '\\B',
  a: '\\x07',
  f: '\\f',
  t: '\\t',
  n: '\\n',
  r: '\\r',
  v: '\\v',
};
const REGEX_SYNTAX = new Set([...'^$\\.*+?()[]{}|/']);

/** A compiled pattern. */
export interface CompiledPattern {
  /** The cleaned pattern, without its `!`. */
  readonly pattern: string;
  /** True for a `!` exception (re-include). */
  readonly exclusion: boolean;
  /** Whether the pattern matches `path` itself (not its parents). */
  matches(path: string): boolean;
}

/** Compiles a cleaned pattern; returns undefined when Go's regexp compiler would reject it. */
export function compilePattern(pattern: string, exclusion: boolean): CompiledPattern | undefined {
  let re = '^';
  let type: MatchType = 'exact';
  const chars = [...pattern];
  // `token` counts loop turns as moby's does: a `**` (with its `/`) is one token.
  for (let i = 0, token = 0; i < chars.length; i++, token++) {
    const ch = chars[i] as string;
    if (ch === '*') {
      if (chars[i + 1] === '*') {
        i++;
        if (chars[i + 1] === '/') i++;
        if (i + 1 >= chars.length) {
          if (type === 'exact') type = 'prefix';
          else {
            re += '.*';
            type = 'regexp';
          }
        } else {
          re += '(.*/)?';
          type = 'regexp';
        }
        if (token === 0) type = 'suffix';
      } else {
        re += '[^/]*';
        type = 'regexp';
      }
    } else if (ch === '?') {
      re += '[^/]';
      type = 'regexp';
    } else if (ESCAPED.has(ch)) {
      re += `\\${ch}`;
    } else if (ch === '\\') {
      const next = chars[i + 1];
      if (next === undefined) {
        re += '\\\\';
        continue;
      }
      i++;
      type = 'regexp';
      if (REGEX_SYNTAX.has(next)) re += `\\${next}`;
      else if (/^[A-Za-z0-9]$/.test(next)) {
        const mapped = REGEX_ESCAPES[next];
        if (mapped === undefined) return undefined;
        re += mapped;
      } else re += next;
    } else if (ch === '[' || ch === ']') {
      re += ch;
      type = 'regexp';
    } else {
      re += ch;
    }
  }
  let regexp: RegExp | undefined;
  if (type === 'regexp') {
    try {
      regexp = new RegExp(`${re}$`, 'u');
    } catch {
      try {
        regexp = new RegExp(`${re}$`);
      } catch {
        return undefined;
      }
    }
  }
  const compiled = regexp;
  const kind = type as MatchType;
  const matches = (path: string): boolean => {
    switch (kind) {
      case 'exact':
        return path === pattern;
      case 'prefix':
        return path.startsWith(pattern.slice(0, -2));
      case 'suffix': {
        const suffix = pattern.slice(2);
        return path.endsWith(suffix) || (suffix.startsWith('/') && path === suffix.slice(1));
      }
      default:
        return (compiled as RegExp).test(path);
    }
  };
  return { pattern, exclusion, matches };
}
