/**
 * Wildcards of COPY/ADD sources, matched against a list of paths: Go's `filepath.Match` per
 * `/`-separated segment (`*` and `?` stop at `/`, `[...]` classes, `\` escapes), and with
 * `globstar` a `**` segment spanning any number of segments. The build context and the trees of
 * other stages both expand wildcards this way.
 */

/** The paths (relative, `/`-separated, `''` for the root) matching `pattern`, sorted. */
export function globPaths(paths: Iterable<string>, pattern: string, options?: { globstar?: boolean }): string[] {
  const segs = pattern.split('/').filter((s) => s !== '' && s !== '.');
  const matchers = segs.map((seg) => (options?.globstar && seg === '**' ? GLOBSTAR : goMatchRegExp(seg)));
  const out: string[] = [];
  for (const p of paths) if (p !== '' && matchSegments(p.split('/'), 0, matchers, 0)) out.push(p);
  return out.sort();
}

/** A `**` segment: any number of path segments, none included. */
const GLOBSTAR = Symbol('globstar');

function matchSegments(
  parts: readonly string[],
  i: number,
  matchers: ReadonlyArray<RegExp | typeof GLOBSTAR>,
  j: number,
): boolean {
  if (j === matchers.length) return i === parts.length;
  const m = matchers[j]!;
  if (m === GLOBSTAR) {
    for (let k = i; k <= parts.length; k++) if (matchSegments(parts, k, matchers, j + 1)) return true;
    return false;
  }
  return i < parts.length && m.test(parts[i]!) && matchSegments(parts, i + 1, matchers, j + 1);
}

/** Go's `filepath.Match` for one path segment, as a RegExp. */
export function goMatchRegExp(segment: string): RegExp {
  let re = '^';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\' && i + 1 < segment.length) re += escapeRe(segment[++i]!);
    else if (c === '[') {
      const end = segment.indexOf(']', i + 2);
      if (end < 0) {
        re += '\\[';
        continue;
      }
      let body = segment.slice(i + 1, end);
      if (body.startsWith('^') || body.startsWith('!')) body = `^${body.slice(1)}`;
      re += `[${body.replace(/\\(.)/g, '\\$1')}]`;
      i = end;
    } else re += escapeRe(c);
  }
  return new RegExp(`${re}$`, 'u');
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
