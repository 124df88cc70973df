/**
 * What a union view changed, read from the upper layer's records only (O(changes), never a
 * walk of the image): `changes()` for people (`docker diff`), `diff()` for the layer a commit
 * writes.
 */
import type { TarEntryHeader } from '../tar/types.js';
import { OPAQUE_MARKER, WHITEOUT_PREFIX } from '../tar/whiteout.js';
import type { LowerNode } from './lower-stack.js';
import { compareTarPaths } from '../tar/path.js';
import { baseName, joinPath, parentPath } from '../tar/path.js';
import { toAbsolute } from './paths.js';
import type { UnionCore } from './union-core.js';
import type { UpperNode } from './upper-layer.js';

/** One path that differs from the image. */
export interface UnionChange {
  kind: 'added' | 'modified' | 'deleted';
  /** Absolute path in the image (`/etc/passwd`). */
  path: string;
}

/**
 * A layer tar header as `diff()` produces it: the tar reader's header without the archive-only
 * fields, so it is the tar writer's input as it is. `mtime` is whole seconds (moby/containerd
 * truncate too).
 */
export type DiffHeader = Omit<TarEntryHeader, 'rawName' | 'uname' | 'gname'>;

/** One entry of the layer a commit writes. */
export interface DiffEntry {
  header: DiffHeader;
  /** A file's bytes (regular files only); read it before changing the view further. */
  data?: () => Buffer;
}

/** Upper records in layer order (root left out: layer appliers skip it). */
function sortedRecords(core: UnionCore): string[] {
  const paths: string[] = [];
  for (const path of core.upper.records.keys()) if (path !== '') paths.push(path);
  return paths.sort(compareTarPaths);
}

/**
 * The lower node visible at `path` were the upper to have no record at `path` itself: the upper
 * ancestors decide (an opaque, whited-out or non-directory ancestor hides the lower layers).
 */
function lowerBeneath(core: UnionCore, path: string, memo: Map<string, LowerNode | null>): LowerNode | undefined {
  const dir = parentPath(path);
  let low = memo.get(dir);
  if (low === undefined) {
    low = lowerDir(core, dir, memo);
    memo.set(dir, low);
  }
  return low === null ? undefined : core.stack.child(low, baseName(path));
}

function lowerDir(core: UnionCore, dir: string, memo: Map<string, LowerNode | null>): LowerNode | null {
  if (dir === '') return core.stack.root;
  const rec = core.upper.records.get(dir);
  if (rec !== undefined && (rec.kind === 'whiteout' || rec.inode.type !== 'directory' || rec.opaque)) return null;
  const low = lowerBeneath(core, dir, memo);
  return low?.dirLayers === undefined ? null : low;
}

/** A directory the upper only copied up: not opaque, and mode, owner, mtime (seconds) and xattrs as in the image. */
function isUnchangedDir(
  rec: UpperNode & { kind: 'node' },
  image: { type: string; mode: number; uid: number; gid: number; mtime: number; xattrs?: Record<string, string> },
): boolean {
  const i = rec.inode;
  return (
    i.type === 'directory' &&
    image.type === 'directory' &&
    !rec.opaque &&
    i.mode === image.mode &&
    i.uid === image.uid &&
    i.gid === image.gid &&
    Math.floor(i.mtimeMs / 1000) === Math.floor(image.mtime) &&
    JSON.stringify(i.xattrs ?? {}) === JSON.stringify(image.xattrs ?? {})
  );
}

/**
 * `docker diff` of the view: `added` (the image lacks the path), `modified`, `deleted`, sorted
 * in layer order. Compared with the image itself: a directory whose attributes (mode, owner,
 * mtime seconds) are unchanged is not listed for being copied up, but the parent of an added or
 * deleted path is listed as modified (as docker does). An opaque directory (removed and made
 * again) is `modified`, with each image child it hides listed as `deleted` unless the upper
 * made it again (then it is `modified` itself); docker instead reports the directory as
 * deleted and its new children as added.
 */
export function listChanges(core: UnionCore): UnionChange[] {
  const kinds = new Map<string, UnionChange['kind']>();
  const parentChanged = (path: string): void => {
    const parent = parentPath(path);
    if (parent !== '' && kinds.get(parent) !== 'added') kinds.set(parent, 'modified');
  };
  for (const path of sortedRecords(core)) {
    const rec = core.upper.records.get(path)!;
    const image = core.stack.lookup(path);
    if (rec.kind === 'whiteout') {
      if (image === undefined) continue;
      kinds.set(path, 'deleted');
      parentChanged(path);
      continue;
    }
    if (image === undefined) {
      kinds.set(path, 'added');
      parentChanged(path);
      continue;
    }
    const sameDir = isUnchangedDir(rec, image.entry);
    if (!sameDir && kinds.get(path) === undefined) kinds.set(path, 'modified');
    if (rec.opaque && image.dirLayers !== undefined) {
      for (const name of core.stack.names(image)) {
        const child = joinPath(path, name);
        if (core.upper.node(child) !== undefined) continue;
        kinds.set(child, 'deleted');
        parentChanged(child);
      }
    }
  }
  return [...kinds.keys()].sort(compareTarPaths).map((path) => ({ kind: kinds.get(path)!, path: toAbsolute(path) }));
}

/**
 * The entries of the layer a commit of this view writes, in layer order: every upper node
 * (its parents are upper nodes too) except a directory the upper only copied up and under which
 * nothing is written (what BuildKit's differ leaves out too: `mkdir x; rmdir x` in an image's
 * `/root` adds nothing, nor does `mkdir /a/b/c; rmdir /a/b/c`), a `.wh.<name>` whiteout (empty file, mode 0, mtime 0) for
 * each removed path the lower layers have, and a `.wh..wh..opq` marker for each opaque directory
 * that hides lower children. Never a whiteout under a removed or opaque parent, never a whiteout
 * for a path the image lacks, never a node and a whiteout for one path. A second name of an
 * upper inode becomes a `hardlink` entry to the first name (in layer order).
 */
export function buildDiff(core: UnionCore): DiffEntry[] {
  const out: DiffEntry[] = [];
  const memo = new Map<string, LowerNode | null>();
  const firstName = new Map<number, string>();
  const paths = sortedRecords(core);
  // Deepest first: a directory is written when it changed or when something written lies below
  // it (BuildKit's overlay differ skips a same directory; its tar writer adds the parents of what
  // it writes). A parent copied up only for a child that turned out unchanged is left out too.
  const written = new Set<string>();
  const holdsWritten = new Set<string>();
  for (let i = paths.length - 1; i >= 0; i--) {
    const path = paths[i]!;
    const rec = core.upper.records.get(path)!;
    let write: boolean;
    if (rec.kind === 'whiteout') write = lowerBeneath(core, path, memo) !== undefined;
    else if (holdsWritten.has(path)) write = true;
    else {
      // What the lower layers show here through the upper: nothing under an opaque, removed or
      // replaced ancestor (a directory renamed away and back is new, whatever the image has).
      const image = lowerBeneath(core, path, memo);
      write = image === undefined || !isUnchangedDir(rec, image.entry);
    }
    if (!write) continue;
    written.add(path);
    for (let p = parentPath(path); p !== '' && !holdsWritten.has(p); p = parentPath(p)) holdsWritten.add(p);
  }
  for (const path of paths) {
    if (!written.has(path)) continue;
    const rec = core.upper.records.get(path)!;
    if (rec.kind === 'whiteout') {
      out.push(marker(joinPath(parentPath(path), WHITEOUT_PREFIX + baseName(path))));
      continue;
    }
    out.push(nodeEntry(core, path, rec, firstName));
    if (rec.opaque) {
      const low = lowerBeneath(core, path, memo);
      if (low?.dirLayers !== undefined && core.stack.names(low).length > 0)
        out.push(marker(joinPath(path, OPAQUE_MARKER)));
    }
  }
  return out.sort((a, b) => compareTarPaths(a.header.path, b.header.path));
}

function marker(path: string): DiffEntry {
  return { header: { path, type: 'file', mode: 0, uid: 0, gid: 0, mtime: 0, size: 0 } };
}

function nodeEntry(core: UnionCore, path: string, rec: UpperNode, firstName: Map<number, string>): DiffEntry {
  const i = rec.inode;
  const header: DiffHeader = {
    path,
    type: i.type,
    mode: i.mode,
    uid: i.uid,
    gid: i.gid,
    mtime: Math.floor(i.mtimeMs / 1000),
    size: 0,
  };
  if (i.xattrs !== undefined) header.xattrs = { ...i.xattrs };
  if (i.type !== 'directory' && i.nlink > 1) {
    const first = firstName.get(i.ino);
    if (first !== undefined) {
      header.type = 'hardlink';
      header.linkTarget = first;
      return { header };
    }
    firstName.set(i.ino, path);
  }
  if (i.type === 'symlink') header.linkTarget = i.linkTarget ?? '';
  if (i.type === 'char' || i.type === 'block') {
    header.devmajor = i.devmajor ?? 0;
    header.devminor = i.devminor ?? 0;
  }
  if (i.type !== 'file') return { header };
  header.size = i.size;
  return { header, data: () => core.readInode(i) };
}
