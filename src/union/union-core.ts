/**
 * The engine under `UnionFS`: path resolution (symlinks contained in the image root), copy-up,
 * whiteouts and opaque directories. Synchronous and allocation-light; the fs-shaped methods are
 * thin wrappers over it.
 */
import { FsError, type FsErrorCode } from '../errors.js';
import type { LowerNode, LowerStack } from './lower-stack.js';
import { joinPath } from '../tar/path.js';
import { splitComponents } from './paths.js';
import { UnionStats } from './stats.js';
import { WHITEOUT, type Inode, type InodeType, type UpperLayer, type UpperNode } from './upper-layer.js';

/** Most symlinks one resolution may follow (Linux `MAXSYMLINKS`). */
export const MAX_SYMLINK_HOPS = 40;

/** A path of the view: its upper record, and the lower node it shows or merges with. */
export interface Loc {
  readonly path: string;
  /** The upper node at `path`, when the upper has one. */
  up: UpperNode | undefined;
  /** The visible lower node (no `up`), or the lower directory merged under an upper one. */
  low: LowerNode | undefined;
  /** True when the upper holds a whiteout at `path` (the path is missing). */
  readonly whiteout: boolean;
}

/** The outcome of resolving a caller's path. */
export interface Resolved {
  /** The path's location; it may be missing when the caller allowed that. */
  readonly loc: Loc;
  /** The directory holding it (the root's parent is the root). */
  readonly parent: Loc;
  /** True when the caller's path ended in `/` or `/.` (it must be a directory). */
  readonly trailingSlash: boolean;
}

/** How to resolve: follow a final symlink, allow a missing last component, name errors. */
export interface ResolveOptions {
  follow: boolean;
  syscall: string;
  allowMissing?: boolean;
  /** The second path of two-path calls (rename, link), for error messages. */
  dest?: string | undefined;
}

/** Options of {@link UnionCore}. */
export interface UnionCoreOptions {
  stack: LowerStack;
  upper: UpperLayer;
  readOnly: boolean;
  umask: number;
  clock: () => number;
}

/** The union engine. */
export class UnionCore {
  readonly stack: LowerStack;
  readonly upper: UpperLayer;
  readonly readOnly: boolean;
  readonly umask: number;
  readonly clock: () => number;

  constructor(options: UnionCoreOptions) {
    this.stack = options.stack;
    this.upper = options.upper;
    this.readOnly = options.readOnly;
    this.umask = options.umask;
    this.clock = options.clock;
  }

  /** Throws `EROFS` on a read-only view. */
  writable(syscall: string, path: string, dest?: string): void {
    if (this.readOnly) throw new FsError('EROFS', syscall, path, dest);
  }

  /** The root's location. */
  root(): Loc {
    const up = this.upper.node('');
    return { path: '', up, low: this.stack.root, whiteout: false };
  }

  /** The child `name` of directory `dir`. */
  child(dir: Loc, name: string): Loc {
    const lowDir = dir.low?.dirLayers !== undefined ? dir.low : undefined;
    if (dir.up === undefined) {
      // Hot path: a purely lower directory has no upper records below it.
      const low = lowDir === undefined ? undefined : this.stack.child(lowDir, name);
      return { path: low === undefined ? joinPath(dir.path, name) : low.path, up: undefined, low, whiteout: false };
    }
    const path = joinPath(dir.path, name);
    const rec = this.upper.records.get(path);
    if (rec !== undefined) {
      if (rec.kind === 'whiteout') return { path, up: undefined, low: undefined, whiteout: true };
      let low: LowerNode | undefined;
      if (lowDir !== undefined && rec.inode.type === 'directory' && !rec.opaque) {
        low = this.stack.child(lowDir, name);
        if (low?.dirLayers === undefined) low = undefined;
      }
      return { path, up: rec, low, whiteout: false };
    }
    return {
      path,
      up: undefined,
      low: lowDir === undefined ? undefined : this.stack.child(lowDir, name),
      whiteout: false,
    };
  }

  /** The lower node a path would show if the upper had no record there (whiteouts need one). */
  lowerUnder(parent: Loc, name: string): LowerNode | undefined {
    const lowDir = parent.low?.dirLayers !== undefined ? parent.low : undefined;
    return lowDir === undefined ? undefined : this.stack.child(lowDir, name);
  }

  /**
   * Resolves a caller's path inside the image: absolute or relative to `/`, symlinks followed
   * inside the root (an absolute target starts again at the image root, `..` stops at the
   * root), ELOOP after {@link MAX_SYMLINK_HOPS} links.
   */
  resolve(input: string, opts: ResolveOptions): Resolved {
    if (input === '') fail('ENOENT', opts, input);
    const trailingSlash = input.length > 1 && (input.endsWith('/') || input.endsWith('/.') || input === '.');
    let queue = splitComponents(input);
    let qi = 0;
    let cur = this.root();
    const chain: Loc[] = [];
    let hops = 0;
    while (qi < queue.length) {
      const name = queue[qi++]!;
      if (name === '..') {
        cur = chain.pop() ?? cur;
        continue;
      }
      const last = qi === queue.length;
      const child = this.child(cur, name);
      const type = typeOf(child);
      if (type === undefined) {
        if (last && opts.allowMissing === true) return { loc: child, parent: cur, trailingSlash };
        return fail('ENOENT', opts, input);
      }
      if (type === 'symlink' && (!last || opts.follow || trailingSlash)) {
        if (++hops > MAX_SYMLINK_HOPS) fail('ELOOP', opts, input);
        const target = this.linkTarget(child);
        if (target === '') fail('ENOENT', opts, input);
        if (target.charCodeAt(0) === 47) {
          cur = this.root();
          chain.length = 0;
        }
        queue = splitComponents(target).concat(queue.slice(qi));
        qi = 0;
        continue;
      }
      if (last) {
        if (trailingSlash && type !== 'directory') fail('ENOTDIR', opts, input);
        return { loc: child, parent: cur, trailingSlash };
      }
      if (type !== 'directory') fail('ENOTDIR', opts, input);
      chain.push(cur);
      cur = child;
    }
    return { loc: cur, parent: chain[chain.length - 1] ?? cur, trailingSlash };
  }

  /** A symlink's target as written. */
  linkTarget(loc: Loc): string {
    return loc.up !== undefined ? (loc.up.inode.linkTarget ?? '') : (loc.low?.entry.linkTarget ?? '');
  }

  /** The node's attributes as `fs.Stats`. */
  stats(loc: Loc): UnionStats {
    const up = loc.up;
    if (up !== undefined) {
      const i = up.inode;
      return new UnionStats({
        type: i.type,
        mode: i.mode,
        uid: i.uid,
        gid: i.gid,
        size: sizeOf(i.type, i.size, i.linkTarget),
        nlink: i.type === 'directory' ? 1 : i.nlink,
        ino: i.ino,
        atimeMs: i.atimeMs,
        mtimeMs: i.mtimeMs,
        ctimeMs: i.ctimeMs,
        birthtimeMs: i.birthtimeMs,
        devmajor: i.devmajor,
        devminor: i.devminor,
      });
    }
    const low = loc.low!;
    const e = low.entry;
    const t = e.mtime * 1000;
    return new UnionStats({
      type: e.type as InodeType,
      mode: e.mode,
      uid: e.uid,
      gid: e.gid,
      size: sizeOf(e.type as InodeType, e.size, e.linkTarget),
      nlink: e.type === 'directory' ? 1 : () => this.stack.nlink(low),
      ino: low.ino,
      atimeMs: t,
      mtimeMs: t,
      ctimeMs: t,
      birthtimeMs: t,
      devmajor: e.devmajor,
      devminor: e.devminor,
    });
  }

  /** Sorted names in a directory of the view: upper names, then visible lower ones. */
  names(dir: Loc): string[] {
    const lowDir = dir.low?.dirLayers !== undefined ? dir.low : undefined;
    const upNames = dir.up === undefined ? undefined : this.upper.children.get(dir.path);
    if (upNames === undefined) return lowDir === undefined ? [] : this.stack.names(lowDir).slice();
    const out: string[] = [];
    for (const name of upNames) if (this.upper.records.get(joinPath(dir.path, name))?.kind === 'node') out.push(name);
    if (lowDir !== undefined) for (const name of this.stack.names(lowDir)) if (!upNames.has(name)) out.push(name);
    return out.sort();
  }

  /** A file's bytes: a range, or all of them. */
  read(loc: Loc, position = 0, length?: number): Buffer {
    if (loc.up !== undefined) return this.readInode(loc.up.inode, position, length);
    const low = loc.low!;
    if (position === 0 && length === undefined) return this.stack.read(low);
    const size = low.entry.size;
    if (position >= size) return Buffer.alloc(0);
    return this.stack.read(low, position, Math.min(length ?? size, size - position));
  }

  /** An upper inode's bytes (lazy ones read from the lower layer). */
  readInode(inode: Inode, position = 0, length?: number): Buffer {
    const end = Math.min(inode.size, length === undefined ? inode.size : position + length);
    if (position >= end) return Buffer.alloc(0);
    if (inode.lazy !== undefined) {
      if (position === 0 && end === inode.size) return this.stack.readSource(inode.lazy);
      return this.stack.readSource(inode.lazy, position, end - position);
    }
    return Buffer.from(inode.data!.subarray(position, end));
  }

  /** Gives a lazily copied-up file its own bytes, so they can change. */
  materialize(inode: Inode): void {
    if (inode.lazy !== undefined) {
      const bytes = this.stack.readSource(inode.lazy);
      inode.data = bytes;
      inode.size = bytes.length;
      inode.lazy = undefined;
    } else if (inode.data === undefined) {
      inode.data = Buffer.alloc(0);
    }
  }

  /** Makes sure directory `path` (visible in the view) exists in the upper, copying up parents. */
  ensureUpperDir(path: string): UpperNode {
    const hit = this.upper.node(path);
    if (hit !== undefined) return hit;
    let low: LowerNode | undefined = this.stack.root;
    let rec = this.upper.node('');
    if (rec === undefined) {
      rec = { kind: 'node', inode: this.copyInode(low), opaque: false };
      this.upper.set('', rec);
    }
    let p = '';
    for (const name of path === '' ? [] : path.split('/')) {
      p = joinPath(p, name);
      low = low === undefined ? undefined : this.stack.child(low, name);
      const existing = this.upper.node(p);
      if (existing !== undefined) {
        rec = existing;
        continue;
      }
      if (low?.dirLayers === undefined) throw new Error(`union: cannot copy up '${p}': it is not a lower directory`);
      rec = { kind: 'node', inode: this.copyInode(low), opaque: false };
      this.upper.set(p, rec);
    }
    return rec;
  }

  /** Copies an existing path up (metadata only: file bytes stay a lazy pointer). */
  copyUp(r: Resolved): UpperNode {
    const loc = r.loc;
    if (loc.up !== undefined) return loc.up;
    this.ensureUpperDir(r.parent.path);
    const rec: UpperNode = { kind: 'node', inode: this.copyInode(loc.low!), opaque: false };
    this.upper.set(loc.path, rec);
    loc.up = rec;
    if (loc.low?.dirLayers === undefined) loc.low = undefined;
    return rec;
  }

  /** A new upper inode with a lower node's attributes (and a lazy pointer to its bytes). */
  copyInode(low: LowerNode): Inode {
    const e = low.entry;
    const t = e.mtime * 1000;
    const init: Parameters<UpperLayer['newInode']>[0] = {
      type: e.type as InodeType,
      mode: e.mode,
      uid: e.uid,
      gid: e.gid,
      atimeMs: t,
      mtimeMs: t,
      ctimeMs: t,
      birthtimeMs: t,
    };
    if (low.source !== undefined) {
      init.size = e.size;
      init.lazy = low.source;
    }
    if (e.linkTarget !== undefined && e.type === 'symlink') init.linkTarget = e.linkTarget;
    if (e.devmajor !== undefined) init.devmajor = e.devmajor;
    if (e.devminor !== undefined) init.devminor = e.devminor;
    if (e.xattrs !== undefined) init.xattrs = { ...e.xattrs };
    return this.upper.newInode(init);
  }

  /**
   * Puts a new node at a missing path. A directory made where a whiteout was becomes opaque
   * (kernel `ovl_create_over_whiteout`); any node made there replaces the whiteout.
   */
  create(r: Resolved, inode: Inode): UpperNode {
    this.ensureUpperDir(r.parent.path);
    const rec: UpperNode = { kind: 'node', inode, opaque: inode.type === 'directory' && r.loc.whiteout };
    this.upper.set(r.loc.path, rec);
    r.loc.up = rec;
    this.touch(r.parent);
    return rec;
  }

  /** Removes an existing path and its subtree; leaves a whiteout where a lower layer has it. */
  remove(r: Resolved): void {
    const name = r.loc.path.slice(r.loc.path.lastIndexOf('/') + 1);
    const lower = this.lowerUnder(r.parent, name);
    this.ensureUpperDir(r.parent.path);
    this.upper.deleteTree(r.loc.path);
    if (lower !== undefined) this.upper.set(r.loc.path, WHITEOUT);
    this.touch(r.parent);
  }

  /** Sets a directory's mtime and ctime to now (its entries changed). */
  touch(dir: Loc): void {
    const rec = dir.up ?? this.ensureUpperDir(dir.path);
    const now = this.clock();
    rec.inode.mtimeMs = now;
    rec.inode.ctimeMs = now;
  }

  /** Attributes for a new node: now, owned by root, mode minus the umask. */
  fresh(type: InodeType, mode: number): Parameters<UpperLayer['newInode']>[0] {
    const now = this.clock();
    return {
      type,
      mode: mode & ~this.umask & 0o7777,
      uid: 0,
      gid: 0,
      atimeMs: now,
      mtimeMs: now,
      ctimeMs: now,
      birthtimeMs: now,
    };
  }
}

function fail(code: FsErrorCode, opts: ResolveOptions, input: string): never {
  throw new FsError(code, opts.syscall, input, opts.dest);
}

/** The node type at a location, or undefined when the path is missing. */
export function typeOf(loc: Loc): InodeType | undefined {
  if (loc.up !== undefined) return loc.up.inode.type;
  return loc.low === undefined ? undefined : (loc.low.entry.type as InodeType);
}

function sizeOf(type: InodeType, size: number, linkTarget: string | undefined): number {
  if (type === 'file') return size;
  if (type === 'symlink') return Buffer.byteLength(linkTarget ?? '');
  if (type === 'directory') return 4096;
  return 0;
}
