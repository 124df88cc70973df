/**
 * `open()` and the file handles of the union view: partial reads and writes at a position,
 * like `fs.promises.FileHandle`. Opening a lower file for writing copies it up then (as the
 * kernel does), metadata only; its bytes are copied on the first write or truncate.
 */
import { constants } from 'node:fs';
import { FsError } from '../errors.js';
import type { LowerNode } from './lower-stack.js';
import type { UnionStats } from './stats.js';
import { typeOf, type UnionCore } from './union-core.js';
import type { Inode } from './upper-layer.js';

/** What an open flag string or number asks for. */
export interface OpenMode {
  read: boolean;
  write: boolean;
  append: boolean;
  create: boolean;
  exclusive: boolean;
  truncate: boolean;
}

const STRING_FLAGS: Record<string, OpenMode> = {};
for (const [names, m] of [
  [['r', 'rs', 'sr'], { read: true, write: false, append: false, create: false, exclusive: false, truncate: false }],
  [['r+', 'rs+', 'sr+'], { read: true, write: true, append: false, create: false, exclusive: false, truncate: false }],
  [['w'], { read: false, write: true, append: false, create: true, exclusive: false, truncate: true }],
  [['wx', 'xw'], { read: false, write: true, append: false, create: true, exclusive: true, truncate: true }],
  [['w+'], { read: true, write: true, append: false, create: true, exclusive: false, truncate: true }],
  [['wx+', 'xw+'], { read: true, write: true, append: false, create: true, exclusive: true, truncate: true }],
  [['a', 'as', 'sa'], { read: false, write: true, append: true, create: true, exclusive: false, truncate: false }],
  [['ax', 'xa'], { read: false, write: true, append: true, create: true, exclusive: true, truncate: false }],
  [['a+', 'as+', 'sa+'], { read: true, write: true, append: true, create: true, exclusive: false, truncate: false }],
  [['ax+', 'xa+'], { read: true, write: true, append: true, create: true, exclusive: true, truncate: false }],
] as const) {
  for (const name of names) STRING_FLAGS[name] = m;
}

/** Parses Node's open flags (`'r'`, `'w+'`, `'ax'`, or `O_*` bits). */
export function parseOpenFlags(flags: string | number | undefined, path: string): OpenMode {
  if (flags === undefined) return STRING_FLAGS['r']!;
  if (typeof flags === 'string') {
    const m = STRING_FLAGS[flags];
    if (m === undefined) throw new FsError('EINVAL', 'open', path);
    return m;
  }
  const acc = flags & 3;
  return {
    read: acc === constants.O_RDONLY || acc === constants.O_RDWR,
    write: acc === constants.O_WRONLY || acc === constants.O_RDWR,
    append: (flags & constants.O_APPEND) !== 0,
    create: (flags & constants.O_CREAT) !== 0,
    exclusive: (flags & constants.O_EXCL) !== 0,
    truncate: (flags & constants.O_TRUNC) !== 0,
  };
}

/** What a handle reads and writes: an upper inode, a lower node (read-only) or a directory. */
type Target =
  | { kind: 'inode'; inode: Inode }
  | { kind: 'lower'; node: LowerNode }
  | { kind: 'dir'; stats: () => UnionStats };

/** Opens a path of the view (the core of `open`, `readFile`, `writeFile`, `appendFile`). */
export function openTarget(core: UnionCore, path: string, mode: OpenMode, createMode = 0o666): Target {
  if (mode.write || mode.create) core.writable('open', path);
  const r = core.resolve(path, { follow: true, syscall: 'open', allowMissing: mode.create });
  const type = typeOf(r.loc);
  if (type === undefined) {
    if (r.trailingSlash) throw new FsError('EISDIR', 'open', path);
    const inode = core.upper.newInode({ ...core.fresh('file', createMode), data: Buffer.alloc(0) });
    core.create(r, inode);
    return { kind: 'inode', inode };
  }
  if (mode.create && mode.exclusive) throw new FsError('EEXIST', 'open', path);
  if (type === 'directory') {
    if (mode.write) throw new FsError('EISDIR', 'open', path);
    const loc = r.loc;
    return { kind: 'dir', stats: () => core.stats(loc) };
  }
  if (mode.write) {
    const inode = core.copyUp(r).inode;
    if (mode.truncate && type === 'file') truncateInode(core, inode, 0);
    return { kind: 'inode', inode };
  }
  return r.loc.up !== undefined ? { kind: 'inode', inode: r.loc.up.inode } : { kind: 'lower', node: r.loc.low! };
}

/** Sets a file inode's size, zero-filling growth; materialises lazy bytes unless emptied. */
export function truncateInode(core: UnionCore, inode: Inode, length: number): void {
  if (length === 0) {
    inode.lazy = undefined;
    inode.data = Buffer.alloc(0);
  } else {
    core.materialize(inode);
    const data = inode.data!;
    if (length > data.length) {
      const grown = Buffer.alloc(length);
      data.copy(grown, 0, 0, inode.size);
      inode.data = grown;
    } else if (length < inode.size) {
      data.fill(0, length, inode.size);
    }
  }
  inode.size = length;
  const now = core.clock();
  inode.mtimeMs = now;
  inode.ctimeMs = now;
}

/** Writes bytes into a file inode at `position` (zero-filling any gap), growing it. */
export function writeInode(core: UnionCore, inode: Inode, bytes: Uint8Array, position: number): void {
  core.materialize(inode);
  const end = position + bytes.length;
  let data = inode.data!;
  if (end > data.length) {
    const grown = Buffer.alloc(Math.max(end, Math.min(data.length * 2, end + 64 * 1024 * 1024)));
    data.copy(grown, 0, 0, inode.size);
    inode.data = data = grown;
  }
  data.set(bytes, position);
  if (end > inode.size) inode.size = end;
  const now = core.clock();
  inode.mtimeMs = now;
  inode.ctimeMs = now;
}

/** Reads a target's bytes in a range. */
function readTarget(core: UnionCore, target: Target, position: number, length: number): Buffer {
  if (target.kind === 'dir') throw new FsError('EISDIR', 'read');
  if (target.kind === 'inode')
    return target.inode.type === 'file' ? core.readInode(target.inode, position, length) : Buffer.alloc(0);
  const size = target.node.entry.size;
  if (position >= size || target.node.source === undefined) return Buffer.alloc(0);
  return core.stack.read(target.node, position, Math.min(length, size - position));
}

/** Reads a whole target (`readFile`). */
export function readWholeTarget(core: UnionCore, target: Target): Buffer {
  if (target.kind === 'dir') throw new FsError('EISDIR', 'read');
  if (target.kind === 'inode') return target.inode.type === 'file' ? core.readInode(target.inode) : Buffer.alloc(0);
  return target.node.source === undefined ? Buffer.alloc(0) : core.stack.read(target.node);
}

/** Options of {@link UnionFileHandle.read} in its object form. */
export interface ReadOptions {
  buffer?: Uint8Array;
  offset?: number;
  length?: number;
  position?: number | null;
}

/** An open file of the view, shaped like `fs.promises.FileHandle`. */
export class UnionFileHandle {
  /** A number unique among this view's open handles. */
  readonly fd: number;
  readonly #core: UnionCore;
  readonly #target: Target;
  readonly #mode: OpenMode;
  readonly #path: string;
  #position = 0;
  #closed = false;

  constructor(core: UnionCore, fd: number, path: string, target: Target, mode: OpenMode) {
    this.#core = core;
    this.fd = fd;
    this.#path = path;
    this.#target = target;
    this.#mode = mode;
  }

  #check(syscall: string): void {
    if (this.#closed) throw new FsError('EBADF', syscall);
  }

  /** Reads into a buffer at `position` (or the current position, which then advances). */
  async read(
    bufferOrOptions?: Uint8Array | ReadOptions,
    offset?: number,
    length?: number,
    position?: number | null,
  ): Promise<{ bytesRead: number; buffer: Uint8Array }> {
    return this.readSync(bufferOrOptions, offset, length, position);
  }

  /** Synchronous {@link read}. */
  readSync(
    bufferOrOptions?: Uint8Array | ReadOptions,
    offset?: number,
    length?: number,
    position?: number | null,
  ): { bytesRead: number; buffer: Uint8Array } {
    this.#check('read');
    if (!this.#mode.read) throw new FsError('EBADF', 'read');
    let buffer: Uint8Array;
    if (bufferOrOptions === undefined || !(bufferOrOptions instanceof Uint8Array)) {
      const o = bufferOrOptions ?? {};
      buffer = o.buffer ?? Buffer.alloc(16384);
      offset = o.offset;
      length = o.length;
      position = o.position;
    } else {
      buffer = bufferOrOptions;
    }
    const off = offset ?? 0;
    const len = length ?? buffer.byteLength - off;
    const at = position ?? this.#position;
    const bytes = readTarget(this.#core, this.#target, at, len);
    buffer.set(bytes, off);
    if (position === undefined || position === null) this.#position += bytes.length;
    return { bytesRead: bytes.length, buffer };
  }

  /** Writes bytes (or a string) at `position`, the current position, or the end in append mode. */
  async write(
    data: Uint8Array | string,
    offsetOrPosition?: number | null,
    lengthOrEncoding?: number | BufferEncoding,
    position?: number | null,
  ): Promise<{ bytesWritten: number; buffer: Uint8Array | string }> {
    return this.writeSync(data, offsetOrPosition, lengthOrEncoding, position);
  }

  /** Synchronous {@link write}. */
  writeSync(
    data: Uint8Array | string,
    offsetOrPosition?: number | null,
    lengthOrEncoding?: number | BufferEncoding,
    position?: number | null,
  ): { bytesWritten: number; buffer: Uint8Array | string } {
    this.#check('write');
    if (!this.#mode.write || this.#target.kind !== 'inode') throw new FsError('EBADF', 'write');
    let bytes: Uint8Array;
    let at: number | null | undefined;
    if (typeof data === 'string') {
      bytes = Buffer.from(data, typeof lengthOrEncoding === 'string' ? lengthOrEncoding : 'utf8');
      at = offsetOrPosition;
    } else {
      const off = offsetOrPosition ?? 0;
      const len = typeof lengthOrEncoding === 'number' ? lengthOrEncoding : data.byteLength - off;
      bytes = data.subarray(off, off + len);
      at = position;
    }
    const inode = this.#target.inode;
    const explicit = at !== undefined && at !== null;
    const where = this.#mode.append ? inode.size : explicit ? at! : this.#position;
    writeInode(this.#core, inode, bytes, where);
    if (!explicit || this.#mode.append) this.#position = where + bytes.length;
    return { bytesWritten: bytes.length, buffer: data };
  }

  /** Reads from the current position to the end. */
  async readFile(options?: BufferEncoding | { encoding?: BufferEncoding | null }): Promise<Buffer | string> {
    this.#check('read');
    const size =
      this.#target.kind === 'inode'
        ? this.#target.inode.size
        : this.#target.kind === 'lower'
          ? this.#target.node.entry.size
          : 0;
    const { buffer } = this.readSync(Buffer.alloc(Math.max(0, size - this.#position)), 0, undefined, null);
    const enc = typeof options === 'string' ? options : options?.encoding;
    return enc ? Buffer.from(buffer).toString(enc) : Buffer.from(buffer);
  }

  /** Writes all of `data` at the current position (the end in append mode). */
  async writeFile(data: Uint8Array | string): Promise<void> {
    this.writeSync(data);
  }

  /** Appends `data`. */
  async appendFile(data: Uint8Array | string): Promise<void> {
    this.#check('write');
    if (this.#target.kind !== 'inode') throw new FsError('EBADF', 'write');
    this.writeSync(data, this.#target.inode.size);
  }

  /** The file's attributes. */
  async stat(): Promise<UnionStats> {
    this.#check('fstat');
    const t = this.#target;
    if (t.kind === 'dir') return t.stats();
    const loc =
      t.kind === 'inode'
        ? {
            path: this.#path,
            up: { kind: 'node' as const, inode: t.inode, opaque: false },
            low: undefined,
            whiteout: false,
          }
        : { path: this.#path, up: undefined, low: t.node, whiteout: false };
    return this.#core.stats(loc);
  }

  /** Cuts or zero-extends the file to `length` bytes. */
  async truncate(length = 0): Promise<void> {
    this.#check('ftruncate');
    if (!this.#mode.write || this.#target.kind !== 'inode') throw new FsError('EINVAL', 'ftruncate');
    truncateInode(this.#core, this.#target.inode, length);
  }

  /** Nothing to flush: the view lives in memory. */
  async sync(): Promise<void> {
    this.#check('fsync');
  }

  /** Closes the handle; later calls fail with `EBADF`. */
  async close(): Promise<void> {
    this.#closed = true;
  }
}
