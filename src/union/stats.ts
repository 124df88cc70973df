/**
 * `fs.Stats`- and `fs.Dirent`-shaped objects for the union view, so code written for `node:fs`
 * reads them unchanged.
 */
import { constants } from 'node:fs';
import type { InodeType } from './upper-layer.js';

const TYPE_BITS: Record<InodeType, number> = {
  file: constants.S_IFREG,
  directory: constants.S_IFDIR,
  symlink: constants.S_IFLNK,
  char: constants.S_IFCHR,
  block: constants.S_IFBLK,
  fifo: constants.S_IFIFO,
};

/** The `st_dev` every node of a union view reports (one filesystem). */
export const UNION_DEV = 0x6c6b;

/** The plain fields a {@link UnionStats} is made of. */
export interface StatsFields {
  type: InodeType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** The link count, or how to count it (counted on first read: a view's hard links are counted over every entry). */
  nlink: number | (() => number);
  ino: number;
  atimeMs: number;
  mtimeMs: number;
  ctimeMs: number;
  birthtimeMs: number;
  devmajor?: number | undefined;
  devminor?: number | undefined;
}

/** glibc's `makedev`. */
function makedev(major: number, minor: number): number {
  return (major & 0xfff) * 256 + (minor & 0xff) + (minor >>> 8) * 0x100000 + Math.floor(major / 0x1000) * 2 ** 32;
}

/**
 * A node's attributes as `fs.Stats` shows them: `mode` with the type bits, times in ms and as
 * Dates, `blksize` 4096 and `blocks` in 512-byte units, `rdev` for devices.
 */
/** The `is…()` type predicates `fs.Stats` and `fs.Dirent` share. */
abstract class FileTypePredicates {
  /** @internal */
  protected abstract readonly entryType: InodeType;
  isFile(): boolean {
    return this.entryType === 'file';
  }
  isDirectory(): boolean {
    return this.entryType === 'directory';
  }
  isSymbolicLink(): boolean {
    return this.entryType === 'symlink';
  }
  isFIFO(): boolean {
    return this.entryType === 'fifo';
  }
  isCharacterDevice(): boolean {
    return this.entryType === 'char';
  }
  isBlockDevice(): boolean {
    return this.entryType === 'block';
  }
  isSocket(): boolean {
    return false;
  }
}

/** A file's status as `stat`/`lstat` return it, shaped like node:fs `Stats` (times from the layer). */
export class UnionStats extends FileTypePredicates {
  readonly dev = UNION_DEV;
  readonly mode: number;
  #nlink: number | (() => number);
  readonly uid: number;
  readonly gid: number;
  readonly rdev: number;
  readonly blksize = 4096;
  readonly ino: number;
  readonly size: number;
  readonly blocks: number;
  readonly atimeMs: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly birthtimeMs: number;
  /** @internal */
  protected readonly entryType: InodeType;

  constructor(f: StatsFields) {
    super();
    this.entryType = f.type;
    this.mode = TYPE_BITS[f.type] | (f.mode & 0o7777);
    this.#nlink = f.nlink;
    this.uid = f.uid;
    this.gid = f.gid;
    this.rdev = f.type === 'char' || f.type === 'block' ? makedev(f.devmajor ?? 0, f.devminor ?? 0) : 0;
    this.ino = f.ino;
    this.size = f.size;
    this.blocks = Math.ceil(f.size / 4096) * 8;
    this.atimeMs = f.atimeMs;
    this.mtimeMs = f.mtimeMs;
    this.ctimeMs = f.ctimeMs;
    this.birthtimeMs = f.birthtimeMs;
  }

  /** The number of names the file has in the view. */
  get nlink(): number {
    if (typeof this.#nlink === 'function') this.#nlink = this.#nlink();
    return this.#nlink;
  }

  get atime(): Date {
    return new Date(this.atimeMs);
  }
  get mtime(): Date {
    return new Date(this.mtimeMs);
  }
  get ctime(): Date {
    return new Date(this.ctimeMs);
  }
  get birthtime(): Date {
    return new Date(this.birthtimeMs);
  }
}

/** A directory entry as `readdir(..., { withFileTypes: true })` returns it. */
export class UnionDirent extends FileTypePredicates {
  readonly name: string;
  /** The directory the entry is in (absolute). */
  readonly parentPath: string;
  /** Alias of `parentPath` (Node 20). */
  readonly path: string;
  /** @internal */
  protected readonly entryType: InodeType;

  constructor(name: string, parentPath: string, type: InodeType) {
    super();
    this.name = name;
    this.parentPath = parentPath;
    this.path = parentPath;
    this.entryType = type;
  }
}
