/**
 * Path helpers of the union view. Inside the view every path is *relative and normalised* like
 * the {@link LayerReader} contract: no leading `/`, no `.`/`..`, the root is `''`. Callers' paths
 * (`/etc/passwd`, `etc/../x`) are walked component by component by the resolver instead, because
 * `..` after a symlink must climb the link's target, not the name.
 */

/** Joins a normalised directory path and a name (`join('', 'a') === 'a'`). */
export function joinPath(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

/** The parent of a normalised path (`'a/b'` → `'a'`, `'a'` → `''`). */
export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

/** The last component of a normalised path. */
export function baseOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** True when `path` is `dir` itself or lies below it. */
export function isWithin(path: string, dir: string): boolean {
  if (dir === '') return true;
  return path === dir || (path.length > dir.length && path.startsWith(dir) && path.charCodeAt(dir.length) === 47);
}

/** The absolute form callers see (`''` → `/`, `etc/x` → `/etc/x`). */
export function toAbsolute(path: string): string {
  return `/${path}`;
}

/**
 * Orders normalised paths the way layer tars are written (containerd's diff order): code point
 * order, which equals UTF-8 byte order, with `/` sorting as byte 0 so that every directory is
 * followed directly by its own subtree (`a`, `a/b`, `a-b`). The tar module has the same rule as
 * `compareTarPaths`; this copy keeps the union free of a runtime dependency on the tar codec.
 */
export function compareLayerPaths(a: string, b: string): number {
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca !== cb) return orderKey(ca) < orderKey(cb) ? -1 : 1;
  }
  return a.length - b.length;
}

/** Maps a UTF-16 code unit so that unit order becomes code point order, with `/` lowest. */
function orderKey(c: number): number {
  if (c === 47) return -1;
  if (c >= 0xd800) return c < 0xe000 ? c + 0x2000 : c - 0x800;
  return c;
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
