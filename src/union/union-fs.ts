/**
 * The union view: an image's read-only layers stacked under one writable upper layer, behaving
 * like the kernel's overlayfs (copy-up, whiteouts, opaque directories), with the method names,
 * signatures and errors of `node:fs/promises` so code written for `fs` runs on it unchanged.
 * Semantics and the deliberate differences from the kernel: docs/union-semantics.md.
 */
import type { Readable, Writable } from 'node:stream';
import type { Digest } from '../digest/digest.js';
import { ErrorCodes, LayerkitError } from '../errors.js';
import type { LayerReader } from '../layer/types.js';
import { buildDiff, listChanges, type DiffEntry, type UnionChange } from './changes.js';
import { openTarget, parseOpenFlags, UnionFileHandle } from './file-handle.js';
import { accessSync, existsSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync } from './fs-read.js';
import { renameSync, rmdirSync, rmSync, unlinkSync } from './fs-remove.js';
import * as w from './fs-write.js';
import { LowerStack } from './lower-stack.js';
import type { UnionDirent, UnionStats } from './stats.js';
import {
  createUnionReadStream,
  createUnionWriteStream,
  type UnionReadStreamOptions,
  type UnionWriteStreamOptions,
} from './streams.js';
import { UnionCore } from './union-core.js';
import { UpperLayer } from './upper-layer.js';

/** Options of {@link createUnionFS}. */
export interface CreateUnionFSOptions {
  /** The image's layers, bottom first. */
  layers: readonly LayerReader[];
  /** Every write fails with `EROFS`. */
  readOnly?: boolean;
  /** The writable layer to continue (a reopened container); a new, empty one by default. */
  upper?: UpperLayer;
  /** Bits cleared from the mode of new files and directories (default `0o022`, as a shell's). */
  umask?: number;
  /** Milliseconds since the epoch for new times (default `Date.now`); pin it for reproducible layers. */
  clock?: () => number;
}

type ReadFileOptions = { encoding?: BufferEncoding | null; flag?: string } | BufferEncoding | null;

/**
 * Mounts a union view. Costs O(layers): the merged lookup structure is built lazily, one path
 * at a time. Throws `ERR_UNION_LOWER_MISMATCH` when `upper` was made on other layers.
 */
export function createUnionFS(options: CreateUnionFSOptions): UnionFS {
  return new UnionFS(createUnionCore(options));
}

/**
 * The state behind a union view, for subclasses of {@link UnionFS} (a view that can also commit
 * to a store, a container that can save itself). Same checks as {@link createUnionFS}.
 */
export function createUnionCore(options: CreateUnionFSOptions): UnionCore {
  const diffIds = options.layers.map((l) => l.diffId);
  const upper = options.upper ?? new UpperLayer();
  if (upper.lowerDiffIds === undefined) {
    upper.lowerDiffIds = diffIds;
  } else if (upper.lowerDiffIds.length !== diffIds.length || upper.lowerDiffIds.some((d, i) => d !== diffIds[i])) {
    throw new LayerkitError(
      ErrorCodes.ERR_UNION_LOWER_MISMATCH,
      `the upper layer was made on layers [${upper.lowerDiffIds.join(', ')}] but is mounted on [${diffIds.join(', ')}]; mount it on the image it was made from`,
      { expected: [...upper.lowerDiffIds], found: diffIds },
    );
  }
  return new UnionCore({
    stack: new LowerStack(options.layers),
    upper,
    readOnly: options.readOnly === true,
    umask: options.umask ?? 0o022,
    clock: options.clock ?? Date.now,
  });
}

/** A mounted union view. Paths are absolute inside the image; relative ones start at `/`. */
export class UnionFS {
  readonly #core: UnionCore;
  #nextFd = 3;

  /** Use {@link createUnionFS}. */
  constructor(core: UnionCore) {
    this.#core = core;
  }

  /** The writable layer (save it with `serializeUpper`). */
  get upper(): UpperLayer {
    return this.#core.upper;
  }
  /** The lower layers' diffIDs, bottom first. */
  get lowerDiffIds(): readonly Digest[] {
    return this.#core.stack.layers.map((l) => l.diffId);
  }
  /** True when writes fail with `EROFS`. */
  get readOnly(): boolean {
    return this.#core.readOnly;
  }

  /** What differs from the image, `docker diff` style, sorted. O(changes). */
  changes(): UnionChange[] {
    return listChanges(this.#core);
  }
  /** The entries of the layer a commit would write, in layer order. O(changes). */
  diff(): DiffEntry[] {
    return buildDiff(this.#core);
  }

  // Synchronous API (the async one wraps it; use it where a promise would only add overhead).

  readFileSync(path: string, options?: { encoding?: null; flag?: string } | null): Buffer;
  readFileSync(path: string, options: BufferEncoding | { encoding: BufferEncoding; flag?: string }): string;
  readFileSync(path: string, options?: ReadFileOptions): Buffer | string {
    const o = typeof options === 'string' ? { encoding: options } : (options ?? {});
    const bytes = readFileSync(this.#core, path, o.flag);
    return o.encoding ? bytes.toString(o.encoding) : bytes;
  }
  writeFileSync(path: string, data: string | Uint8Array, options?: w.WriteFileOptions | BufferEncoding): void {
    w.writeFileSync(this.#core, path, data, options);
  }
  appendFileSync(path: string, data: string | Uint8Array, options?: w.WriteFileOptions | BufferEncoding): void {
    const o = typeof options === 'string' ? { encoding: options } : (options ?? {});
    w.writeFileSync(this.#core, path, data, { ...o, flag: o.flag ?? 'a' });
  }
  readdirSync(path: string, options?: { withFileTypes?: false } | BufferEncoding | null): string[];
  readdirSync(path: string, options: { withFileTypes: true }): UnionDirent[];
  readdirSync(path: string, options?: { withFileTypes?: boolean } | BufferEncoding | null): string[] | UnionDirent[] {
    return readdirSync(this.#core, path, typeof options === 'object' && options?.withFileTypes === true);
  }
  statSync(path: string): UnionStats {
    return statSync(this.#core, path, true);
  }
  lstatSync(path: string): UnionStats {
    return statSync(this.#core, path, false);
  }
  accessSync(path: string, mode?: number): void {
    accessSync(this.#core, path, mode);
  }
  existsSync(path: string): boolean {
    return existsSync(this.#core, path);
  }
  mkdirSync(path: string, options?: { recursive?: boolean; mode?: number } | number): string | undefined {
    return w.mkdirSync(this.#core, path, options);
  }
  rmSync(path: string, options?: { recursive?: boolean; force?: boolean }): void {
    rmSync(this.#core, path, options);
  }
  rmdirSync(path: string): void {
    rmdirSync(this.#core, path);
  }
  unlinkSync(path: string): void {
    unlinkSync(this.#core, path);
  }
  renameSync(from: string, to: string): void {
    renameSync(this.#core, from, to);
  }
  copyFileSync(from: string, to: string, mode?: number): void {
    w.copyFileSync(this.#core, from, to, mode);
  }
  symlinkSync(target: string, path: string): void {
    w.symlinkSync(this.#core, target, path);
  }
  readlinkSync(path: string): string {
    return readlinkSync(this.#core, path);
  }
  realpathSync(path: string): string {
    return realpathSync(this.#core, path);
  }
  linkSync(existing: string, newPath: string): void {
    w.linkSync(this.#core, existing, newPath);
  }
  chmodSync(path: string, mode: number): void {
    w.chmodSync(this.#core, path, mode, true);
  }
  lchmodSync(path: string, mode: number): void {
    w.chmodSync(this.#core, path, mode, false);
  }
  chownSync(path: string, uid: number, gid: number): void {
    w.chownSync(this.#core, path, uid, gid, true);
  }
  lchownSync(path: string, uid: number, gid: number): void {
    w.chownSync(this.#core, path, uid, gid, false);
  }
  utimesSync(path: string, atime: number | string | Date, mtime: number | string | Date): void {
    w.utimesSync(this.#core, path, atime, mtime, true);
  }
  lutimesSync(path: string, atime: number | string | Date, mtime: number | string | Date): void {
    w.utimesSync(this.#core, path, atime, mtime, false);
  }
  truncateSync(path: string, length?: number): void {
    w.truncateSync(this.#core, path, length);
  }
  openSync(path: string, flags?: string | number, mode?: number): UnionFileHandle {
    const m = parseOpenFlags(flags, path);
    return new UnionFileHandle(this.#core, this.#nextFd++, path, openTarget(this.#core, path, m, mode ?? 0o666), m);
  }

  // node:fs/promises API.

  readFile(path: string, options?: { encoding?: null; flag?: string } | null): Promise<Buffer>;
  readFile(path: string, options: BufferEncoding | { encoding: BufferEncoding; flag?: string }): Promise<string>;
  async readFile(path: string, options?: ReadFileOptions): Promise<Buffer | string> {
    return this.readFileSync(path, options as { encoding?: null });
  }
  async writeFile(
    path: string,
    data: string | Uint8Array,
    options?: w.WriteFileOptions | BufferEncoding,
  ): Promise<void> {
    this.writeFileSync(path, data, options);
  }
  async appendFile(
    path: string,
    data: string | Uint8Array,
    options?: w.WriteFileOptions | BufferEncoding,
  ): Promise<void> {
    this.appendFileSync(path, data, options);
  }
  readdir(path: string, options?: { withFileTypes?: false } | BufferEncoding | null): Promise<string[]>;
  readdir(path: string, options: { withFileTypes: true }): Promise<UnionDirent[]>;
  async readdir(
    path: string,
    options?: { withFileTypes?: boolean } | BufferEncoding | null,
  ): Promise<string[] | UnionDirent[]> {
    return readdirSync(this.#core, path, typeof options === 'object' && options?.withFileTypes === true);
  }
  async stat(path: string): Promise<UnionStats> {
    return this.statSync(path);
  }
  async lstat(path: string): Promise<UnionStats> {
    return this.lstatSync(path);
  }
  async access(path: string, mode?: number): Promise<void> {
    this.accessSync(path, mode);
  }
  /** True when `path` exists (following symlinks); never throws. */
  async exists(path: string): Promise<boolean> {
    return this.existsSync(path);
  }
  async mkdir(path: string, options?: { recursive?: boolean; mode?: number } | number): Promise<string | undefined> {
    return this.mkdirSync(path, options);
  }
  async rm(path: string, options?: { recursive?: boolean; force?: boolean }): Promise<void> {
    this.rmSync(path, options);
  }
  async rmdir(path: string): Promise<void> {
    this.rmdirSync(path);
  }
  async unlink(path: string): Promise<void> {
    this.unlinkSync(path);
  }
  async rename(from: string, to: string): Promise<void> {
    this.renameSync(from, to);
  }
  async copyFile(from: string, to: string, mode?: number): Promise<void> {
    this.copyFileSync(from, to, mode);
  }
  async symlink(target: string, path: string): Promise<void> {
    this.symlinkSync(target, path);
  }
  async readlink(path: string): Promise<string> {
    return this.readlinkSync(path);
  }
  async realpath(path: string): Promise<string> {
    return this.realpathSync(path);
  }
  async link(existing: string, newPath: string): Promise<void> {
    this.linkSync(existing, newPath);
  }
  async chmod(path: string, mode: number): Promise<void> {
    this.chmodSync(path, mode);
  }
  async lchmod(path: string, mode: number): Promise<void> {
    this.lchmodSync(path, mode);
  }
  async chown(path: string, uid: number, gid: number): Promise<void> {
    this.chownSync(path, uid, gid);
  }
  async lchown(path: string, uid: number, gid: number): Promise<void> {
    this.lchownSync(path, uid, gid);
  }
  async utimes(path: string, atime: number | string | Date, mtime: number | string | Date): Promise<void> {
    this.utimesSync(path, atime, mtime);
  }
  async lutimes(path: string, atime: number | string | Date, mtime: number | string | Date): Promise<void> {
    this.lutimesSync(path, atime, mtime);
  }
  async truncate(path: string, length?: number): Promise<void> {
    this.truncateSync(path, length);
  }
  /** Opens a file handle (`'r'` by default) for partial reads and writes. */
  async open(path: string, flags?: string | number, mode?: number): Promise<UnionFileHandle> {
    return this.openSync(path, flags, mode);
  }
  /** A readable stream of a file (as `fs.createReadStream`). */
  createReadStream(path: string, options?: UnionReadStreamOptions | BufferEncoding): Readable {
    const o = typeof options === 'string' ? { encoding: options } : (options ?? {});
    return createUnionReadStream(() => this.open(path, o.flags ?? 'r'), o);
  }
  /** A writable stream into a file (as `fs.createWriteStream`; flag `'w'` by default). */
  createWriteStream(path: string, options?: UnionWriteStreamOptions | BufferEncoding): Writable {
    const o = typeof options === 'string' ? { encoding: options } : (options ?? {});
    return createUnionWriteStream(() => this.open(path, o.flags ?? 'w', o.mode), o);
  }
}
