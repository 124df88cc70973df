/**
 * The build context: a folder on disk, filtered by `.dockerignore` (or `<Dockerfile>.dockerignore`)
 * exactly as BuildKit filters it. COPY/ADD sources are resolved against it (wildcards with Go's
 * `filepath.Match` rules, via fast-glob with brace, extglob and globstar off) and only the paths a
 * step copies are read. Context owners count as 0:0, as the docker client sends them.
 */
import { createHash } from 'node:crypto';
import * as nodeFs from 'node:fs';
import { join } from 'node:path';
import fg from 'fast-glob';
import { createIgnoreMatcher, dockerignoreCandidates, parseDockerignore, type IgnoreMatcher } from '../dockerfile/index.js';
import { ErrorCodes, LayerkitError } from '../errors.js';

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
  /** sha256 hex of a file's contents, read through one reused buffer (no per-file allocation). */
  hash(path: string): string;
  /** Entries below `dir` (not `dir` itself), sorted, ignored paths left out. */
  walk(dir: string): ContextEntry[];
  /** Context paths matching a wildcard pattern (one level per `/`; `**` any depth with `globstar`), sorted, ignored ones left out. */
  glob(pattern: string, options?: { globstar?: boolean }): string[];
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
    throw new LayerkitError(ErrorCodes.ERR_BUILD_CONTEXT, `build context ${dir} does not exist`, { path: dir }, { cause: err });
  }
  if (!st.isDirectory()) throw new LayerkitError(ErrorCodes.ERR_BUILD_CONTEXT, `build context ${dir} is not a folder`, { path: dir });
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
  const ignore = createIgnoreMatcher(patterns, { alwaysInclude: [dockerfile ?? 'Dockerfile', ...(ignoreFile ? [ignoreFile] : [])] });
  const describe = (path: string, stats: nodeFs.Stats): ContextEntry | undefined => {
    const type = stats.isDirectory() ? 'directory' : stats.isSymbolicLink() ? 'symlink' : stats.isFile() ? 'file' : undefined;
    if (type === undefined) return undefined; // sockets, fifos, devices are not part of a context
    const e: ContextEntry = { path, type, mode: stats.mode & 0o7777, size: type === 'file' ? stats.size : 0, mtimeMs: stats.mtimeMs };
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
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
        throw err;
      }
    },
    read(path) {
      return fs.readFileSync(join(root, path));
    },
    hash(path) {
      const h = createHash('sha256');
      const fd = fs.openSync(join(root, path), 'r');
      try {
        for (;;) {
          const n = fs.readSync(fd, scratch, 0, scratch.length, null);
          if (n === 0) break;
          h.update(n === scratch.length ? scratch : scratch.subarray(0, n));
        }
      } finally {
        fs.closeSync(fd);
      }
      return h.digest('hex');
    },
    walk(dir) {
      const base = dir === '' ? root : join(root, dir);
      const found = fg.sync('**', { cwd: base, dot: true, onlyFiles: false, followSymbolicLinks: false, stats: true, unique: true, suppressErrors: false });
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
      const found = fg.sync(pattern, { cwd: root, dot: true, onlyFiles: false, followSymbolicLinks: false, braceExpansion: false, extglob: false, globstar: options?.globstar === true, caseSensitiveMatch: true, unique: true });
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
