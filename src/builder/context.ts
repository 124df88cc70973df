/**
 * The build context: a folder, filtered by `.dockerignore` (or `<Dockerfile>.dockerignore`) exactly
 * as BuildKit filters it. The folder is on disk (a path) or in any filesystem the caller injects
 * (`{ fs, dir }`, a subset of `fs.promises` as isomorphic-git injects `fs`: memfs, LightningFS, a
 * page's own). It is walked once, asynchronously, when opened (directories the ignore file
 * excludes with no `!` exception below them are skipped, as BuildKit's walker skips them); COPY/ADD
 * sources and wildcards (Go's `filepath.Match` per segment) are resolved against that walk. Files
 * are read when a step copies them, synchronously where the fs can (Node's, memfs), else during the
 * walk. Context owners count as 0:0, as the docker client sends them.
 */
import { createHash, localFs } from '#platform';
import {
  createIgnoreMatcher,
  dockerignoreCandidates,
  parseDockerignore,
  type IgnoreMatcher,
} from '../dockerfile/index.js';
import { ErrorCodes, LayerkitError } from '../errors.js';
import { globPaths } from './context-glob.js';

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
  /** The ignore files looked for, in order, relative to the context (`Dockerfile.dockerignore`, `.dockerignore`). */
  readonly ignoreCandidates: readonly string[];
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
  /**
   * Every path the walk looked at, sorted, `''` (the folder itself) and ignored paths included:
   * what a build of this context depends on (a changed folder's mtime shows an entry added or removed).
   */
  walked(): string[];
  /** Context paths matching a wildcard pattern (one level per `/`; `**` any depth with `globstar`), sorted, ignored ones left out. */
  glob(pattern: string, options?: { globstar?: boolean }): string[];
}

/** File hashes of a context by path, each with the stat fields that must match for it to be reused. */
export interface ContextHashes {
  version: 1;
  files: Record<string, { ino: number; size: number; mtimeMs: number; ctimeMs: number; sha256: string }>;
}

/** What a context's filesystem tells about one path (a subset of `fs.Stats`). */
export interface ContextStats {
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
  mode: number;
  size: number;
  mtimeMs: number;
  /** Change time; where the fs has none, `mtimeMs` stands in. */
  ctimeMs?: number;
  /** Inode number; where the fs has none, 0 (then a cached hash is reused on size and times). */
  ino?: number;
}

/**
 * The filesystem calls a build context needs: a subset of Node's `fs.promises`, the shape
 * isomorphic-git injects (`node:fs`, a memfs volume and LightningFS all have it). Where the fs also
 * has Node's synchronous `openSync`/`readSync`/`closeSync`/`readFileSync` (Node, memfs), files are
 * read when a step copies them; otherwise every file the ignore file keeps is read when the context
 * opens.
 */
export interface ContextFs {
  promises: {
    stat(path: string): Promise<ContextStats>;
    lstat(path: string): Promise<ContextStats>;
    readdir(path: string): Promise<unknown[]>;
    readFile(path: string): Promise<Uint8Array | string>;
    readlink(path: string): Promise<unknown>;
    realpath?(path: string): Promise<unknown>;
  };
}

/** A build context: a folder path on disk, or a folder in an injected filesystem. */
export type ContextSource = string | { fs: ContextFs; dir: string };

/**
 * Node's synchronous calls, used when the fs has them (a walk of many small calls runs ~3× faster,
 * and node:fs's promises API, about 2 ms to load, stays unloaded).
 */
interface SyncReads {
  statSync(path: string): ContextStats;
  realpathSync(path: string): unknown;
  lstatSync(path: string): ContextStats;
  readdirSync(path: string): unknown[];
  readlinkSync(path: string): unknown;
  openSync(path: string, flags: string): number;
  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null): number;
  closeSync(fd: number): void;
  readFileSync(path: string): Uint8Array;
}

/** Options for {@link openContext}. */
export interface OpenContextOptions {
  /** The context folder (absolute, or relative to the working directory on Node). */
  dir: string;
  /** The filesystem the folder is in (default: Node's own). */
  fs?: ContextFs | undefined;
  /** The Dockerfile's path relative to the context (for `<Dockerfile>.dockerignore`; default `Dockerfile`). */
  dockerfile?: string | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * Opens a context folder: reads its ignore file and walks it. Throws `ERR_BUILD_CONTEXT` when the
 * folder is missing or not a folder.
 */
export async function openContext({
  dir,
  fs: injected,
  dockerfile,
  signal,
}: OpenContextOptions): Promise<BuildContext> {
  const fs: ContextFs | undefined = injected ?? localFs();
  if (fs === undefined)
    throw new LayerkitError(
      ErrorCodes.ERR_UNSUPPORTED,
      `build context ${dir}: no filesystem to read it from here; pass context: { fs, dir }`,
      { path: dir, reason: 'no-default-fs' },
    );
  const sync = hasSyncReads(fs) ? fs : undefined;
  let st: ContextStats;
  try {
    st = sync ? sync.statSync(dir) : await fs.promises.stat(dir);
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
  const realpath = sync ? (path: string) => sync.realpathSync(path) : fs.promises.realpath?.bind(fs.promises);
  const root = realpath ? String(await realpath(dir)) : dir.length > 1 ? dir.replace(/\/+$/, '') : dir;
  let ignoreFile: string | undefined;
  let patterns: string[] = [];
  const ignoreCandidates = dockerignoreCandidates(dockerfile ? { dockerfile } : {});
  for (const candidate of ignoreCandidates) {
    const text = await readIfFile(fs, sync, `${root}/${candidate}`);
    if (text !== undefined) {
      ignoreFile = candidate;
      patterns = parseDockerignore(text);
      break;
    }
  }
  const ignore = createIgnoreMatcher(patterns, {
    alwaysInclude: [dockerfile ?? 'Dockerfile', ...(ignoreFile ? [ignoreFile] : [])],
  });

  /** Every path the walk found, ignored ones included (COPY of an ignored path finds nothing). */
  const all = new Map<string, ContextEntry>();
  /** Stat fields of every file: a hash is valid for exactly these. */
  const seen = new Map<string, { ino: number; size: number; mtimeMs: number; ctimeMs: number }>();
  /** File contents read during the walk (an fs without synchronous reads). */
  const contents = new Map<string, Uint8Array>();
  const describe = async (path: string, stats: ContextStats): Promise<ContextEntry | undefined> => {
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
    if (type === 'file') {
      seen.set(path, {
        ino: stats.ino ?? 0,
        size: stats.size,
        mtimeMs: stats.mtimeMs,
        ctimeMs: stats.ctimeMs ?? stats.mtimeMs,
      });
      if (sync === undefined && !ignore.ignores(path))
        contents.set(path, toBytes(await fs.promises.readFile(`${root}/${path}`)));
    }
    if (type === 'symlink') e.linkTarget = String(await readlink(`${root}/${path}`));
    return e;
  };
  // The walk's calls: the synchronous ones where the fs has them (Node's, memfs), else fs.promises.
  const lstat = sync ? (path: string) => sync.lstatSync(path) : (path: string) => fs.promises.lstat(path);
  const readdir = sync ? (path: string) => sync.readdirSync(path) : (path: string) => fs.promises.readdir(path);
  const readlink = sync ? (path: string) => sync.readlinkSync(path) : (path: string) => fs.promises.readlink(path);
  const rootEntry = await describe('', await lstat(root));
  if (rootEntry) all.set('', rootEntry);
  const walkDir = async (rel: string): Promise<void> => {
    throwIfAbortedContext(signal, root);
    const names = (await readdir(rel === '' ? root : `${root}/${rel}`)).map(String).sort();
    const subdirs: string[] = [];
    await Promise.all(
      names.map(async (name) => {
        const path = rel === '' ? name : `${rel}/${name}`;
        const e = await describe(path, await lstat(`${root}/${path}`));
        if (e === undefined) return;
        all.set(path, e);
        if (e.type === 'directory' && !ignore.mayPruneDirectory(path)) subdirs.push(path);
      }),
    );
    for (const d of subdirs.sort()) await walkDir(d);
  };
  await walkDir('');
  const sorted = [...all.keys()].sort();
  const kept = sorted.filter((path) => path !== '' && !ignore.ignores(path));

  const scratch = new Uint8Array(256 * 1024);
  let earlier: ContextHashes['files'] = {};
  const hashed = new Map<string, string>();
  const readBytes = (path: string): Uint8Array => {
    const held = contents.get(path);
    if (held !== undefined) return held;
    if (sync !== undefined) return sync.readFileSync(`${root}/${path}`);
    throw new LayerkitError(ErrorCodes.ERR_BUILD_CONTEXT, `build context: ${path} is not a file of the context`, {
      path,
    });
  };
  /** Reads and hashes a file; `size` (from its lstat) saves the read that would only find EOF. */
  const readHash = (path: string, size: number): string => {
    const h = createHash('sha256');
    if (sync === undefined) return h.update(readBytes(path)).digest('hex');
    // Context paths are relative and normalised already: no need for join()'s normalisation.
    const fd = sync.openSync(`${root}/${path}`, 'r');
    try {
      for (let total = 0; ; ) {
        const n = sync.readSync(fd, scratch, 0, scratch.length, null);
        if (n === 0) break;
        h.update(n === scratch.length ? scratch : scratch.subarray(0, n));
        total += n;
        // A short read that reaches the size lstat gave is the end (a file still growing is read on).
        if (n < scratch.length && total === size) break;
      }
    } finally {
      sync.closeSync(fd);
    }
    return h.digest('hex');
  };
  return {
    dir: root,
    ignoreFile,
    ignoreCandidates,
    ignore,
    entry(path) {
      if (path !== '' && ignore.ignores(path)) return undefined;
      return all.get(path);
    },
    read(path) {
      const bytes = readBytes(path);
      return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },
    hash(path) {
      const now = seen.get(path);
      if (now === undefined)
        throw new LayerkitError(ErrorCodes.ERR_BUILD_CONTEXT, `build context: ${path} is not a file of the context`, {
          path,
        });
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
    walked() {
      return [...sorted];
    },
    walk(dir) {
      const prefix = dir === '' ? '' : `${dir}/`;
      const out: ContextEntry[] = [];
      for (const path of kept) if (path.startsWith(prefix)) out.push(all.get(path)!);
      return out;
    },
    glob(pattern, options) {
      return globPaths(kept, pattern, options);
    },
  };
}

function hasSyncReads(fs: ContextFs): fs is ContextFs & SyncReads {
  const f = fs as Partial<SyncReads>;
  return (
    typeof f.statSync === 'function' &&
    typeof f.realpathSync === 'function' &&
    typeof f.lstatSync === 'function' &&
    typeof f.readdirSync === 'function' &&
    typeof f.readlinkSync === 'function' &&
    typeof f.openSync === 'function' &&
    typeof f.readSync === 'function' &&
    typeof f.closeSync === 'function' &&
    typeof f.readFileSync === 'function'
  );
}

/** The text of a file, or undefined when there is none (or it is not a file). */
async function readIfFile(fs: ContextFs, sync: SyncReads | undefined, path: string): Promise<Uint8Array | undefined> {
  try {
    if (!(sync ? sync.statSync(path) : await fs.promises.stat(path)).isFile()) return undefined;
    return toBytes(sync ? sync.readFileSync(path) : await fs.promises.readFile(path));
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

function toBytes(data: Uint8Array | string): Uint8Array {
  return typeof data === 'string' ? new TextEncoder().encode(data) : data;
}

function throwIfAbortedContext(signal: AbortSignal | undefined, root: string): void {
  if (signal?.aborted)
    throw new LayerkitError(
      ErrorCodes.ERR_ABORTED,
      `opening build context ${root} was aborted`,
      { path: root },
      {
        cause: signal.reason,
      },
    );
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
