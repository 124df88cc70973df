/**
 * COPY and ADD onto a union view, with BuildKit's rules: a directory source copies its contents;
 * wildcards may match nothing; a trailing `/`, several sources or an existing directory mean
 * "copy into"; parents are created 0755; modes and mtimes are kept; owners are 0:0 from the
 * context and kept from another stage unless `--chown`; `--chmod` applies to every entry.
 *
 * Resolution (what goes where, and the inputs' fingerprints for the cache key) is separate from
 * writing, so a cache hit never touches the view.
 */
import { createHash } from '#platform';
import { posix } from 'node:path';
import { createIgnoreMatcher } from '../../dockerfile/index.js';
import { ErrorCodes, LayerkitError } from '../../errors.js';
import { stepError } from '../step-error.js';
import type { UnionFS } from '../../union/union-fs.js';
import { contextPath, hasWildcard } from '../context.js';
import type { FingerprintCache, InputSet } from '../content-digest.js';
import type { SourceEntry, SourceTree } from '../sources.js';
import { asTarArchive, unpackArchive } from './add-archive.js';

/** One thing a copy writes. */
export type CopyOp =
  | {
      kind: 'entry';
      tree: SourceTree;
      source: SourceEntry;
      dest: string /** created as the container of copied contents */;
      root?: boolean;
    }
  | { kind: 'content'; data: Buffer; dest: string; mode: number; mtime: number }
  /** ADD of a local tar: unpacked into `dest`. */
  | { kind: 'archive'; tar: Buffer; dest: string; source: string };

/** What a copy will do, and the fingerprints of what it reads. */
export interface CopyPlan {
  ops: CopyOp[];
  inputs: InputSet;
}

/** Options for {@link planCopy}. */
export interface PlanCopyOptions {
  tree: SourceTree;
  /** Source paths, expanded. */
  sources: string[];
  /** Heredoc sources, already expanded where they expand. */
  contents?: Array<{ name: string; data: Buffer }>;
  /** Destination, expanded. */
  dest: string;
  /** The stage's WORKDIR. */
  workdir: string;
  excludes: string[];
  /** Whether the view already has a directory at a path (decides "into" vs "as"). */
  isDirectory: (absolutePath: string) => boolean;
  cache: FingerprintCache;
  /** Seconds since the epoch for heredoc files. */
  now: number;
  /** For messages: `COPY` or `ADD`, and where. */
  what: string;
  /** ADD: unpack local tar archives (default false, for COPY). */
  unpackArchives?: boolean | undefined;
  /**
   * `COPY --parents`: each source keeps its path (the part after a `/./` pivot, if any) under the
   * destination, parent directories included with their source metadata; `**` matches any depth.
   */
  parents?: boolean | undefined;
}

/** Resolves sources against the tree and decides every destination path. */
export function planCopy(o: PlanCopyOptions): CopyPlan {
  const count = o.sources.length + (o.contents?.length ?? 0);
  let dest = o.dest === '' || o.dest === '.' ? './' : o.dest;
  const trailing = dest.endsWith('/') || dest.endsWith('/.');
  dest = posix.resolve(o.workdir || '/', dest);
  if (count > 1 && !trailing) {
    throw stepError(
      ErrorCodes.ERR_BUILD_STEP,
      `${o.what}: when copying more than one source, the destination must be a directory and end with a / (got ${JSON.stringify(o.dest)})`,
      {},
    );
  }
  const into = trailing || count > 1 || o.parents === true || o.isDirectory(dest);
  const ops: CopyOp[] = [];
  const inputs: InputSet = {};
  const excluder = o.excludes.length > 0 ? createIgnoreMatcher(o.excludes, { alwaysInclude: [] }) : undefined;
  const keptDirs = new Set<string>();
  for (const raw of o.sources) {
    const pattern = contextPath(raw);
    // --parents keeps the path below the pivot (`a/./b/c` keeps `b/c`), else all of it.
    const pivot = o.parents ? raw.indexOf('/./') : -1;
    const dropped = pivot >= 0 ? contextPath(raw.slice(0, pivot)).split('/').filter(Boolean).length : 0;
    const matches = hasWildcard(pattern) ? o.tree.glob(pattern, { globstar: o.parents === true }) : [pattern];
    for (const match of matches) {
      let entry = o.tree.stat(match);
      if (entry === undefined) {
        throw stepError(
          ErrorCodes.ERR_BUILD_CONTEXT,
          `${o.what}: "/${match}" not found in the ${o.tree.label}${o.tree.label === 'build context' ? ' (or excluded by .dockerignore)' : ''}`,
          { path: `/${match}` },
        );
      }
      const resolved = followSymlink(o.tree, entry);
      if (resolved) entry = resolved;
      if (excluder && match !== '' && excluder.ignores(posix.basename(match))) continue;
      const segments = match === '' ? [] : match.split('/');
      const kept = o.parents ? segments.slice(dropped).join('/') : undefined;
      if (kept !== undefined) {
        // The directories between the pivot and the match, copied with their own metadata.
        for (let i = dropped + 1; i < segments.length; i++) {
          const keptDir = segments.slice(dropped, i).join('/');
          if (keptDirs.has(keptDir)) continue;
          keptDirs.add(keptDir);
          const dir = o.tree.stat(segments.slice(0, i).join('/'));
          if (dir?.type !== 'directory') continue;
          ops.push({ kind: 'entry', tree: o.tree, source: dir, dest: posix.join(dest, keptDir) });
          inputs[dir.path] = o.cache.fingerprint(o.tree, dir);
        }
      }
      if (entry.type === 'directory') {
        // The contents of the directory, not the directory itself.
        const target = kept !== undefined ? posix.join(dest, kept) : dest;
        ops.push({ kind: 'entry', tree: o.tree, source: { ...entry, path: entry.path }, dest: target, root: true });
        inputs[entry.path === '' ? '.' : entry.path] = o.cache.fingerprint(o.tree, entry);
        const prefix = entry.path === '' ? '' : `${entry.path}/`;
        for (const child of o.tree.below(entry.path)) {
          const rel = child.path.slice(prefix.length);
          if (excluder?.ignores(rel)) continue;
          ops.push({ kind: 'entry', tree: o.tree, source: child, dest: posix.join(target, rel) });
          inputs[child.path] = o.cache.fingerprint(o.tree, child);
        }
      } else {
        inputs[entry.path] = o.cache.fingerprint(o.tree, entry);
        const tar =
          o.unpackArchives && entry.type === 'file'
            ? asTarArchive(o.tree.read(entry.path), `${o.what} ${match}`)
            : undefined;
        if (tar !== undefined) {
          ops.push({ kind: 'archive', tar, dest, source: match });
          continue;
        }
        const target =
          kept !== undefined ? posix.join(dest, kept) : into ? posix.join(dest, posix.basename(match)) : dest;
        ops.push({ kind: 'entry', tree: o.tree, source: entry, dest: target });
      }
    }
  }
  for (const c of o.contents ?? []) {
    const target = into ? posix.join(dest, c.name) : dest;
    ops.push({ kind: 'content', data: c.data, dest: target, mode: 0o644, mtime: o.now });
    inputs[`<<${c.name}`] = `file 644 0:0 ${c.data.length} ${createHash('sha256').update(c.data).digest('hex')}`;
  }
  return { ops, inputs };
}

/** The entry a source symlink points at, resolved inside the tree (BuildKit follows source symlinks). */
function followSymlink(tree: SourceTree, entry: SourceEntry): SourceEntry | undefined {
  let current = entry;
  for (let hops = 0; current.type === 'symlink' && hops < 40; hops++) {
    const target = current.linkTarget ?? '';
    const next = contextPath(target.startsWith('/') ? target : posix.join(posix.dirname(`/${current.path}`), target));
    const e = tree.stat(next);
    if (e === undefined) return undefined;
    current = e;
  }
  return current === entry ? undefined : current;
}

/** Ownership and permissions to apply while writing. */
export interface CopyAttributes {
  /** `--chown`, resolved; undefined keeps the source owners. */
  owner?: { uid: number; gid: number } | undefined;
  /** `--chmod`: a function of the source mode (octal or symbolic), or undefined. */
  chmod?: ((mode: number, isDirectory: boolean) => number) | undefined;
}

/** Writes a plan into the view. */
export async function applyCopy(fs: UnionFS, plan: CopyPlan, attrs: CopyAttributes): Promise<void> {
  const parentOwner = attrs.owner ?? { uid: 0, gid: 0 };
  const ensureParents = (path: string): void => {
    const parent = posix.dirname(path);
    if (parent === '/' || fs.existsSync(parent)) return;
    ensureParents(parent);
    fs.mkdirSync(parent, { mode: attrs.chmod ? attrs.chmod(0o755, true) : 0o755 });
    fs.chmodSync(parent, attrs.chmod ? attrs.chmod(0o755, true) : 0o755);
    fs.lchownSync(parent, parentOwner.uid, parentOwner.gid);
  };
  for (const op of plan.ops) {
    ensureParents(op.dest);
    if (op.kind === 'archive') {
      await unpackArchive(fs, op.tar, op.dest, attrs.owner, `ADD ${op.source}`);
      continue;
    }
    if (op.kind === 'content') {
      replaceNonDirectory(fs, op.dest);
      fs.writeFileSync(op.dest, op.data);
      finish(fs, op.dest, 'file', op.mode, parentOwner, op.mtime, attrs);
      continue;
    }
    const s = op.source;
    const owner = attrs.owner ?? { uid: s.uid, gid: s.gid };
    if (s.type === 'directory') {
      const st = lstatOrUndefined(fs, op.dest);
      if (st === undefined) {
        fs.mkdirSync(op.dest, { mode: 0o755 });
      } else if (!st.isDirectory()) {
        // The destination root resolves through symlinks, as BuildKit's does (`COPY dir /bin/` with
        // /bin -> usr/bin fills /usr/bin); any other non-directory in the way is BuildKit's error.
        if (op.root && st.isSymbolicLink() && isDirectory(fs, op.dest)) continue;
        throw new LayerkitError(
          ErrorCodes.ERR_BUILD_STEP,
          `cannot copy to non-directory: ${op.dest} (remove it first, or copy to another path)`,
          { path: op.dest },
        );
      } else if (op.root) {
        continue; // copying contents into an existing directory keeps its attributes
      }
      finish(fs, op.dest, 'directory', s.mode, owner, s.mtime, attrs);
      continue;
    }
    replaceNonDirectory(fs, op.dest);
    if (s.type === 'file') fs.writeFileSync(op.dest, op.tree.read(s.path));
    else if (s.type === 'symlink') fs.symlinkSync(s.linkTarget ?? '', op.dest);
    else continue; // devices and fifos are not copied (the view has no mknod)
    finish(fs, op.dest, s.type, s.mode, owner, s.mtime, attrs);
  }
}

function lstatOrUndefined(fs: UnionFS, path: string): ReturnType<UnionFS['lstatSync']> | undefined {
  try {
    return fs.lstatSync(path);
  } catch {
    return undefined;
  }
}

function isDirectory(fs: UnionFS, path: string): boolean {
  try {
    return fs.statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function replaceNonDirectory(fs: UnionFS, path: string): void {
  const st = lstatOrUndefined(fs, path);
  if (st === undefined) return;
  if (st.isDirectory()) {
    throw new LayerkitError(ErrorCodes.ERR_BUILD_STEP, `cannot copy a file to ${path}: it is a directory`, { path });
  }
  fs.unlinkSync(path);
}

function finish(
  fs: UnionFS,
  path: string,
  type: string,
  mode: number,
  owner: { uid: number; gid: number },
  mtime: number,
  attrs: CopyAttributes,
): void {
  fs.lchownSync(path, owner.uid, owner.gid);
  if (type !== 'symlink') fs.chmodSync(path, attrs.chmod ? attrs.chmod(mode, type === 'directory') : mode);
  fs.lutimesSync(path, mtime, mtime);
}
