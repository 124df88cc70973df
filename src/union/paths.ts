/**
 * Path helpers of the union view. Inside the view every path is *relative and normalised* like
 * the {@link LayerReader} contract: no leading `/`, no `.`/`..`, the root is `''`. Callers' paths
 * (`/etc/passwd`, `etc/../x`) are walked component by component by the resolver instead, because
 * `..` after a symlink must climb the link's target, not the name. Joining, parent and base name
 * are the tar codec's (`tar/path.ts`): one set of path helpers for every normalised path.
 */

/** True when `path` is `dir` itself or lies below it. */
export function isWithin(path: string, dir: string): boolean {
  if (dir === '') return true;
  return path === dir || (path.length > dir.length && path.startsWith(dir) && path.charCodeAt(dir.length) === 47);
}

/** The absolute form callers see (`''` → `/`, `etc/x` → `/etc/x`). */
export function toAbsolute(path: string): string {
  return `/${path}`;
}

/** Splits a caller's path into components, dropping empty ones and `.` (`..` is kept). */
export function splitComponents(path: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i <= path.length; i++) {
    if (i === path.length || path.charCodeAt(i) === 47) {
      if (i > start) {
        const part = path.slice(start, i);
        if (part !== '.') out.push(part);
      }
      start = i + 1;
    }
  }
  return out;
}
