/**
 * Entry-path normalising and safety for layer tars. Every name read from an archive goes
 * through {@link normalizeEntryPath}: the result is relative, has no `.`/`..`/empty components
 * and no trailing `/`, and `''` is the layer root. Anything that would climb above the root is
 * refused (`ERR_UNSAFE_PATH`), never silently rewritten, so a malicious layer fails loudly.
 *
 * Names are otherwise byte-exact: no unicode normalisation (NFC and NFD are different names on
 * Linux) and a backslash is an ordinary character, as it is for the kernel. Normalising is
 * lexical only; symlinks are the applier's business (resolve them inside the root).
 */
import { ErrorCodes, LayerkitError } from '../errors.js';
import { nameByteLength, quoteName } from './name-encoding.js';

/** Default limits on a normalised path (node-tar uses the same depth; Linux PATH_MAX is 4096). */
export const PATH_LIMITS = {
  /** Most components a path may have (CVE-2024-28863: unbounded depth exhausts memory). */
  maxDepth: 1024,
  /** Most bytes (UTF-8) a normalised path may have. */
  maxLength: 4096,
} as const;

/** Options for {@link normalizeEntryPath} and {@link normalizeLinkTarget}. */
export interface NormalizePathOptions {
  /** How to name the path in errors, e.g. `entry 'a/b'` (default: `entry '<name>'`). */
  what?: string;
  /** Most components allowed (default {@link PATH_LIMITS}.maxDepth). */
  maxDepth?: number;
  /** Most bytes allowed (default {@link PATH_LIMITS}.maxLength). */
  maxLength?: number;
}

const SLASH = 0x2f;
const DOT = 0x2e;

/**
 * Normalises a tar entry name to a relative path: leading `/` stripped (repeatedly), `//` and
 * `.` components collapsed, the trailing `/` dropped, `a/../b` resolved lexically to `b`.
 * `.`, `./`, `/`, `//` and `./.` all give `''` (the root).
 *
 * @throws `ERR_UNSAFE_PATH` when the name climbs above the root (`../a`, `a/../../b`) or holds
 *   a NUL byte; `ERR_LIMIT_EXCEEDED` when the result is deeper or longer than the limits.
 */
export function normalizeEntryPath(name: string, options: NormalizePathOptions = {}): string {
  // Fast path: most names are clean apart from a leading `./` or `/` (GNU tar writes `./usr/x`)
  // and a trailing `/` on directories. Strip those, then scan the rest once without allocating.
  const n = name.length;
  let from = 0;
  for (;;) {
    const c = name.charCodeAt(from);
    if (c === SLASH) from++;
    else if (c === DOT && name.charCodeAt(from + 1) === SLASH) from += 2;
    else break;
  }
  let to = n;
  if (to > from && name.charCodeAt(to - 1) === SLASH) to--;
  let depth = 0;
  let clean = true;
  let start = from;
  for (let i = from; i <= to; i++) {
    const c = i < to ? name.charCodeAt(i) : SLASH;
    if (c === 0) {
      clean = false;
      break;
    }
    if (c === SLASH) {
      const len = i - start;
      if (
        len === 0 ||
        (len === 1 && name.charCodeAt(start) === DOT) ||
        (len === 2 && name.charCodeAt(start) === DOT && name.charCodeAt(start + 1) === DOT)
      ) {
        clean = false;
        break;
      }
      depth++;
      start = i + 1;
    }
  }
  let result: string;
  if (clean) {
    result = from === 0 && to === n ? name : name.slice(from, to);
  } else if (from === to) {
    result = ''; // only slashes and `./`
  } else {
    result = slowNormalize(name, options);
    depth = result === '' ? 0 : countComponents(result);
  }
  if (
    depth > (options.maxDepth ?? PATH_LIMITS.maxDepth) ||
    result.length * 3 > (options.maxLength ?? PATH_LIMITS.maxLength)
  ) {
    checkLimits(name, result, depth, options);
  }
  return result;
}

function slowNormalize(name: string, options: NormalizePathOptions): string {
  if (name.includes('\0')) {
    throw new LayerkitError(
      ErrorCodes.ERR_UNSAFE_PATH,
      `${describe(name, options)} holds a NUL byte; no filesystem name can, so the archive is broken or malicious and was refused`,
      { path: name },
    );
  }
  const stack: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (stack.length === 0) {
        throw new LayerkitError(
          ErrorCodes.ERR_UNSAFE_PATH,
          `${describe(name, options)} climbs above the layer root; the archive is malicious or broken and was refused`,
          { path: name },
        );
      }
      stack.pop();
      continue;
    }
    stack.push(part);
  }
  return stack.join('/');
}

function countComponents(path: string): number {
  let count = 1;
  for (let i = 0; i < path.length; i++) if (path.charCodeAt(i) === SLASH) count++;
  return count;
}

function checkLimits(name: string, result: string, depth: number, options: NormalizePathOptions): void {
  const maxDepth = options.maxDepth ?? PATH_LIMITS.maxDepth;
  if (depth > maxDepth) {
    throw new LayerkitError(
      ErrorCodes.ERR_LIMIT_EXCEEDED,
      `${describe(name, options)} is ${depth} components deep, more than the limit of ${maxDepth}; raise maxPathDepth if the archive is trusted`,
      { path: result, depth, limit: maxDepth },
    );
  }
  const maxLength = options.maxLength ?? PATH_LIMITS.maxLength;
  // UTF-8 needs at least one and at most three bytes per UTF-16 code unit.
  if (result.length * 3 > maxLength) {
    const bytes = nameByteLength(result);
    if (bytes > maxLength) {
      throw new LayerkitError(
        ErrorCodes.ERR_LIMIT_EXCEEDED,
        `${describe(name, options)} is ${bytes} bytes long, more than the limit of ${maxLength}; raise maxPathLength if the archive is trusted`,
        { path: result, length: bytes, limit: maxLength },
      );
    }
  }
}

function describe(name: string, options: NormalizePathOptions): string {
  return options.what ?? `entry ${quoteName(name)}`;
}

/**
 * Normalises a hardlink target (`linkname` of a type `1` entry) with the same rules as
 * {@link normalizeEntryPath}. An absolute target is taken as relative to the layer root, as
 * moby and containerd do (`/etc/passwd` links to the layer's `etc/passwd`), never to the host.
 * Symlink targets are *not* passed through here: they are stored as written and resolved inside
 * the root when followed.
 *
 * @throws `ERR_UNSAFE_PATH` for targets above the root; `ERR_LAYER_FORMAT` for a target that is
 *   the root itself (directories cannot be hardlinked).
 */
export function normalizeLinkTarget(target: string, options: NormalizePathOptions = {}): string {
  const what = options.what ?? `hardlink target ${quoteName(target)}`;
  const result = normalizeEntryPath(target, { ...options, what });
  if (result === '') {
    throw new LayerkitError(ErrorCodes.ERR_LAYER_FORMAT, `${what} names the layer root; a hardlink must name a file`, {
      path: target,
    });
  }
  return result;
}

/** Joins a normalised directory path and a name (`joinPath('', 'a') === 'a'`). */
export function joinPath(dir: string, name: string): string {
  if (dir === '') return name;
  if (name === '') return dir;
  return `${dir}/${name}`;
}

/** The parent of a normalised path (`'a/b'` → `'a'`, `'a'` → `''`, `''` → `''`). */
export function parentPath(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

/** The last component of a normalised path (`'a/b'` → `'b'`, `''` → `''`). */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * Orders normalised paths for writing a layer: byte order (by code point, which is UTF-8 byte
 * order) with `/` sorting as byte 0, as containerd's diff does, so every directory comes right
 * before its children (`a`, `a/b`, `a-b`). Sorting entries is the caller's job.
 */
export function compareTarPaths(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let ca = a.charCodeAt(i);
    let cb = b.charCodeAt(i);
    if (ca === cb) continue;
    ca = sortKey(ca);
    cb = sortKey(cb);
    return ca < cb ? -1 : 1;
  }
  return a.length - b.length;
}

/** Maps a UTF-16 code unit so that unit order equals code point order, with `/` lowest. */
function sortKey(c: number): number {
  if (c === SLASH) return -1;
  if (c >= 0xd800) return c < 0xe000 ? c + 0x2000 : c - 0x800;
  return c;
}
