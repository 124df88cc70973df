/**
 * The build context: a folder on disk, filtered by `.dockerignore` (or `<Dockerfile>.dockerignore`)
 * exactly as BuildKit filters it. COPY/ADD sources are resolved against it (wildcards with Go's
 * `filepath.Match` rules, via fast-glob with brace, extglob and globstar off) and only the paths a
 * step copies are read. Context owners count as 0:0, as the docker client sends them.
 */
import { createHash } from 'node:crypto';
import * as nodeFs from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import {
  createIgnoreMatcher,
  dockerignoreCandidates,
  parseDockerignore,
  type IgnoreMatcher,
} from '../dockerfile/index.js';
import { ErrorCodes, LayerkitError } from '../errors.js';

// fast-glob is loaded by the first walk or wildcard of a context, not with the library: ~40 ms of
// start-up that commands other than build never need.
let fastGlob: typeof import('fast-glob') | undefined;
function fg(): typeof import('fast-glob') {
  fastGlob ??= createRequire(import.meta.url)('fast-glob') as typeof import('fast-glob');
  return fastGlob;
}

/** One file, folder or symlink of the context. */
export interface ContextEntry {
  /** Path relative to the context root, `/`-separated (`src/app.js`). */
  path: string;
  type: 'file' | 'directory' | 'symlink';
  /** Permission bits (`& 0o7777`). */
  mode: number;
  size: number;
  mtimeMs: number;
  linkTarget?: string;
}

/** A build context. */
export interface BuildContext {
  /** The context folder (absolute). */
  readonly dir: string;
  /** The ignore file used, if any (relative to the context). */
  readonly ignoreFile: string | undefined;
  readonly ignore: IgnoreMatcher;
  /** Metadata of one path (symlinks not followed), or undefined when missing or ignored. */
  entry(path: string): ContextEntry | undefined;
  /** The contents of a file. */
  read(path: string): Buffer;
  /**
   * sha256 hex of a file's contents, read through one reused buffer (no per-file allocation); a
   * hash from an earlier build ({@link seedHashes}) is reused while the file's inode, size, mtime
   * and ctime are all unchanged, as BuildKit's content-hash cache does.
   */
  hash(path: string): string;
  /** Hashes an earlier build of this context computed (what {@link knownHashes} returned then). */
  seedHashes(known: ContextHashes): void;
  /**
   * The hashes worth keeping for the next build: files whose ctime and mtime are older than
   * `racyMs` before `now` (a file changed again within the clock's granularity could keep both
   * times and its size: such a one is hashed afresh next time, as git does with racy entries).
   */
  knownHashes(options?: { now?: number; racyMs?: number }): ContextHashes;
  /** Entries below `dir` (not `dir` itself), sorted, ignored paths left out. */
  walk(dir: string): ContextEntry[];
  /** Context paths matching a wildcard pattern (one level per `/`; `**` any depth with `globstar`), sorted, ignored ones left out. */
  glob(pattern: string, options?: { globstar?: boolean }): string[];
}

/** File hashes of a context by path, each with the stat fields that must match for it to be reused. */
export interface ContextHashes {
  version: 1;
  files: Record<string, { ino: number; size: number; mtimeMs: number; ctimeMs: number; sha256: string }>;
}

/** Options for {@link openContext}. */
export interface OpenContextOptions {
  /** The context folder. */
  dir: string;
  /** The Dockerfile's path relative to the context (for `<Dockerfile>.dockerignore`; default `Dockerfile`). */
  dockerfile?: string | undefined;
}

/** Opens a context folder and reads its ignore file. */
export function openContext({ dir, dockerfile }: OpenContextOptions): BuildContext {
  const fs = nodeFs;
  let st: nodeFs.Stats;
  try {
    st = fs.statSync(dir);
  } catch (err) {
    throw new LayerkitError(
      ErrorCodes.ERR_BUILD_CONTEXT,
      `build context ${dir} does not exist`,
      { path: dir },
      { cause: err },
    );
  }
  if (!st.isDirectory())
    throw new LayerkitError(ErrorCodes.ERR_BUILD_CONTEXT, `build context ${dir} is not a folder`, { path: dir });
  const root = fs.realpathSync(dir);
  let ignoreFile: string | undefined;
  let patterns: string[] = [];
  for (const candidate of dockerignoreCandidates(dockerfile ? { dockerfile } : {})) {
    const p = join(root, candidate);
    if (fs.existsSync(p)) {
      ignoreFile = candidate;
      patterns = parseDockerignore(fs.readFileSync(p));
      break;
    }
  }
  const scratch = Buffer.allocUnsafe(256 * 1024);
  /** Stat fields of every file seen this build (walk, entry): a hash is valid for exactly these. */
  const seen = new Map<string, { ino: number; size: number; mtimeMs: number; ctimeMs: number }>();
  let earlier: ContextHashes['files'] = {};
  const hashed = new Map<string, string>();
  /** Reads and hashes a file; `size` (from its lstat) saves the read that would only find EOF. */
  const readHash = (path: string, size: number): string => {
    const h = createHash('sha256');
    // Context paths are relative and normalised already: no need for join()'s normalisation.
    const fd = fs.openSync(`${root}/${path}`, 'r');
    try {
      for (let total = 0; ; ) {
        const n = fs.readSync(fd, scratch, 0, scratch.length, null);
        if (n === 0) break;
        h.update(n === scratch.length ? scratch : scratch.subarray(0, n));
        total += n;
        // A short read that reaches the size lstat gave is the end (a file still growing is read on).
        if (n < scratch.length && total === size) break;
      }
    } finally {
      fs.closeSync(fd);
    }
    return h.digest('hex');
  };
  const ignore = createIgnoreMatcher(patterns, {
    alwaysInclude: [dockerfile ?? 'Dockerfile', ...(ignoreFile ? [ignoreFile] : [])],
  });
  const describe = (path: string, stats: nodeFs.Stats): ContextEntry | undefined => {
    const type = stats.isDirectory()
      ? 'directory'
      : stats.isSymbolicLink()
        ? 'symlink'
        : stats.isFile()
          ? 'file'
          : undefined;
    if (type === undefined) return undefined; // sockets, fifos, devices are not part of a context
    const e: ContextEntry = {
      path,
      type,
      mode: stats.mode & 0o7777,
      size: type === 'file' ? stats.size : 0,
      mtimeMs: stats.mtimeMs,
    };
    if (type === 'file')
      seen.set(path, { ino: stats.ino, size: stats.size, mtimeMs: stats.mtimeMs, ctimeMs: stats.ctimeMs });
    if (type === 'symlink') e.linkTarget = fs.readlinkSync(join(root, path));
    return e;
  };
  return {
    dir: root,
    ignoreFile,
    ignore,
    entry(path) {
      if (path !== '' && ignore.ignores(path)) return undefined;
      try {
        return describe(path, fs.lstatSync(path === '' ? root : join(root, path)));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR')
          return undefined;
        throw err;
      }
    },
    read(path) {
      return fs.readFileSync(join(root, path));
    },
    hash(path) {
      let now = seen.get(path);
      if (now === undefined) {
        const st = fs.lstatSync(join(root, path));
        now = { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs };
        seen.set(path, now);
      }
      const before = earlier[path];
      const sha256 =
        before !== undefined &&
        before.ino === now.ino &&
        before.size === now.size &&
        before.mtimeMs === now.mtimeMs &&
        before.ctimeMs === now.ctimeMs
          ? before.sha256
          : readHash(path, now.size);
      hashed.set(path, sha256);
      return sha256;
    },
    seedHashes(known) {
      earlier = known.version === 1 && known.files !== null && typeof known.files === 'object' ? known.files : {};
    },
    knownHashes({ now = Date.now(), racyMs = 2000 } = {}) {
      const files: ContextHashes['files'] = {};
      for (const [path, sha256] of hashed) {
        const st = seen.get(path)!;
        if (Math.max(st.mtimeMs, st.ctimeMs) > now - racyMs) continue;
        files[path] = { ...st, sha256 };
      }
      // Files not hashed this build keep their entries while they look unchanged to the walk.
      for (const [path, e] of Object.entries(earlier)) {
        if (files[path] !== undefined || hashed.has(path)) continue;
        const st = seen.get(path);
        if (
          st !== undefined &&
          st.ino === e.ino &&
          st.size === e.size &&
          st.mtimeMs === e.mtimeMs &&
          st.ctimeMs === e.ctimeMs
        )
          files[path] = e;
      }
      return { version: 1, files };
    },
    walk(dir) {
      const base = dir === '' ? root : join(root, dir);
      const found = fg().sync('**', {
        cwd: base,
        dot: true,
        onlyFiles: false,
        followSymbolicLinks: false,
        stats: true,
        unique: true,
        suppressErrors: false,
      });
      const out: ContextEntry[] = [];
      for (const f of found) {
        const path = dir === '' ? f.path : `${dir}/${f.path}`;
        if (ignore.ignores(path)) continue;
        const e = describe(path, f.stats as nodeFs.Stats);
        if (e) out.push(e);
      }
      return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    },
    glob(pattern, options) {
      const found = fg().sync(pattern, {
        cwd: root,
        dot: true,
        onlyFiles: false,
        followSymbolicLinks: false,
        braceExpansion: false,
        extglob: false,
        globstar: options?.globstar === true,
        caseSensitiveMatch: true,
        unique: true,
      });
      return found.filter((p) => !ignore.ignores(p)).sort();
    },
  };
}

/** True when a COPY source contains Go `filepath.Match` wildcards. */
export function hasWildcard(pattern: string): boolean {
  return /[*?[]/.test(pattern);
}

/**
 * Normalises a COPY/ADD source against the context root: leading `/` and `..` escapes are clamped
 * to the root (BuildKit does the same), trailing slashes dropped. Returns `''` for the root.
 */
export function contextPath(source: string): string {
  const parts: string[] = [];
  for (const part of source.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return parts.join('/');
}
