/**
 * The writable top layer of a union view: what changed, kept as records keyed by path. Every
 * record is a change (a node written or copied up, or a whiteout), so the records *are* the
 * dirty set: `changes()` and `diff()` read them and never walk the image.
 */
import type { Digest } from '../digest/digest.js';
import type { EntryType } from '../tar/entry.js';
import type { DataSource } from './lower-stack.js';
import { baseName, joinPath, parentPath } from '../tar/path.js';

/** The kinds of node the upper layer holds (a hardlink is two records sharing one inode). */
export type InodeType = Exclude<EntryType, 'hardlink'>;

/** One file, directory, symlink or device of the upper layer; names share it when hard-linked. */
export interface Inode {
  readonly ino: number;
  readonly type: InodeType;
  mode: number;
  uid: number;
  gid: number;
  atimeMs: number;
  mtimeMs: number;
  ctimeMs: number;
  birthtimeMs: number;
  /** Number of upper names for this inode (files, symlinks, devices). */
  nlink: number;
  /** Logical size of a file's data. */
  size: number;
  /** A file's bytes once materialised (`data.length` may exceed `size`: spare capacity). */
  data: Buffer | undefined;
  /** Metacopy: a copied-up file whose bytes are still the lower layer's. */
  lazy: DataSource | undefined;
  linkTarget?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: Record<string, string>;
}

/** A name in the upper layer: a node, or a whiteout hiding the lower layers' name. */
export type UpperRecord =
  | { readonly kind: 'whiteout' }
  | {
      readonly kind: 'node';
      readonly inode: Inode;
      /** Directories only: hide every lower child (a removed and remade directory). */
      opaque: boolean;
    };

/** A node record of the upper layer. */
export type UpperNode = Extract<UpperRecord, { kind: 'node' }>;

/** The record shared by every whiteout (they carry no data). */
export const WHITEOUT: UpperRecord = Object.freeze({ kind: 'whiteout' });

/**
 * The writable layer of a union view. Keep it to reopen a container later (see
 * `serializeUpper`); it is bound to the lower layers it was first mounted on.
 */
export class UpperLayer {
  /** Every changed path (normalised, relative) and its record. */
  readonly records = new Map<string, UpperRecord>();
  /** Names of the records directly below each upper directory. */
  readonly children = new Map<string, Set<string>>();
  /** The diffIDs of the lower layers this upper was made on (set at first mount). */
  lowerDiffIds: readonly Digest[] | undefined;
  #nextIno: number;

  constructor(options?: { nextIno?: number; lowerDiffIds?: readonly Digest[] }) {
    this.#nextIno = options?.nextIno ?? 2;
    this.lowerDiffIds = options?.lowerDiffIds;
  }

  /** The next inode number this layer will hand out. */
  get nextIno(): number {
    return this.#nextIno;
  }

  /** A new inode with the given attributes. */
  newInode(
    init: Omit<Inode, 'ino' | 'nlink' | 'data' | 'lazy' | 'size'> & Partial<Pick<Inode, 'size' | 'data' | 'lazy'>>,
  ): Inode {
    return { size: 0, data: undefined, lazy: undefined, ...init, ino: this.#nextIno++, nlink: 0 };
  }

  /** Restores an inode read back from storage, keeping its number. */
  adoptInode(inode: Inode): void {
    if (inode.ino >= this.#nextIno) this.#nextIno = inode.ino + 1;
  }

  /** Sets the record at `path`, keeping the children index and link counts right. */
  set(path: string, record: UpperRecord): void {
    const old = this.records.get(path);
    if (old?.kind === 'node') old.inode.nlink--;
    if (record.kind === 'node') record.inode.nlink++;
    this.records.set(path, record);
    if (old === undefined && path !== '') {
      const parent = parentPath(path);
      let set = this.children.get(parent);
      if (set === undefined) this.children.set(parent, (set = new Set()));
      set.add(baseName(path));
    }
  }

  /** Removes the record at `path` and every record below it. */
  deleteTree(path: string): void {
    const names = this.children.get(path);
    if (names !== undefined) {
      for (const name of names) this.deleteTree(joinPath(path, name));
      this.children.delete(path);
    }
    const old = this.records.get(path);
    if (old === undefined) return;
    if (old.kind === 'node') old.inode.nlink--;
    this.records.delete(path);
    if (path !== '') {
      const parent = parentPath(path);
      const set = this.children.get(parent);
      set?.delete(baseName(path));
      if (set?.size === 0) this.children.delete(parent);
    }
  }

  /** The node record at `path`, if the upper has one (whiteouts excluded). */
  node(path: string): UpperNode | undefined {
    const r = this.records.get(path);
    return r?.kind === 'node' ? r : undefined;
  }
}
