/**
 * The deterministic tar writer. The same entries always give the same bytes: ustar headers
 * with a PAX header only where needed, empty uname/gname, whole-second mtimes unless a fraction
 * was given, mtimes clamped to SOURCE_DATE_EPOCH when asked, whiteouts at mtime 0, and the
 * archive ended by exactly two zero blocks (no record padding).
 */
import { Readable } from 'node:stream';
import { ErrorCodes, LayerkitError } from '../errors.js';
import { BLOCK_SIZE, paddedSize } from './header.js';
import { encodeHeader } from './header-encode.js';
import { quoteName } from './name-encoding.js';
import { normalizeEntryPath, normalizeLinkTarget } from './path.js';
import type { TarEntryInput } from './types.js';
import { classifyWhiteout } from './whiteout.js';

/** Options for {@link TarWriter}. */
export interface TarWriterOptions {
  /** Clamp every mtime to at most this many seconds since the epoch (SOURCE_DATE_EPOCH). */
  sourceDateEpoch?: number | undefined;
  /** Bytes the output stream buffers before `add()` waits for the consumer (default 64 KiB). */
  highWaterMark?: number | undefined;
}

const ZEROS = Buffer.alloc(2 * BLOCK_SIZE);
/** Files up to this size are written as one chunk with their header and padding. */
const SMALL_FILE = 64 * 1024;

/**
 * Writes a tar archive as a stream, with backpressure: `add()` resolves once the consumer has
 * room for more, so nothing is ever buffered whole. Read the bytes from {@link TarWriter.stream}
 * (or iterate the writer). Call `add()` for each entry, one at a time, then `finish()`.
 *
 * Entry paths are normalised (`ERR_UNSAFE_PATH` for escapes); directories are written with a
 * trailing `/` and the root as `./`. A data source must yield exactly `size` bytes, otherwise
 * `add()` fails with `ERR_LAYER_FORMAT` and the stream is destroyed with the same error.
 */
export class TarWriter {
  readonly #epoch: number | undefined;
  readonly #highWaterMark: number;
  /** Chunks produced and not yet read, and their bytes. */
  readonly #queue: Buffer[] = [];
  #queued = 0;
  /** The producer (add/finish) waiting for the consumer to take chunks. */
  #wake: { resolve: () => void; reject: (err: unknown) => void } | undefined;
  /** The consumer waiting for a chunk. */
  #pull: { resolve: (r: IteratorResult<Buffer>) => void; reject: (err: unknown) => void } | undefined;
  #failure: unknown;
  #busy = false;
  #finished = false;
  #ended = false;
  #iterated = false;
  #bytes = 0;
  #stream: Readable | undefined;

  constructor(options: TarWriterOptions = {}) {
    this.#epoch = options.sourceDateEpoch;
    this.#highWaterMark = options.highWaterMark ?? 64 * 1024;
  }

  /**
   * The archive bytes as Node's Readable (Node only; made on first use). Read either this or the
   * writer itself (`for await`), not both. Destroying it abandons the archive.
   */
  get stream(): Readable {
    this.#stream ??= Readable.from(this, { objectMode: false, highWaterMark: this.#highWaterMark });
    return this.#stream;
  }

  /** Bytes of archive produced so far. */
  get bytesWritten(): number {
    return this.#bytes;
  }

  /**
   * Iterates the archive bytes (one reader). Stopping early (`break`, `return()`) abandons the
   * archive: pending and later `add()`/`finish()` calls reject with `ERR_ABORTED`.
   */
  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    if (this.#iterated) throw new LayerkitError(ErrorCodes.ERR_LAYER_FORMAT, 'TarWriter: the archive is read once');
    this.#iterated = true;
    return {
      next: () => {
        const chunk = this.#queue.shift();
        if (chunk !== undefined) {
          this.#queued -= chunk.length;
          if (this.#queued < this.#highWaterMark) this.#release();
          return Promise.resolve({ value: chunk, done: false });
        }
        if (this.#failure !== undefined) return Promise.reject(this.#failure);
        if (this.#ended) return Promise.resolve({ value: undefined, done: true });
        this.#release();
        return new Promise((resolve, reject) => {
          this.#pull = { resolve, reject };
        });
      },
      return: () => {
        if (!this.#ended || this.#queue.length > 0) this.#abandon();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  /**
   * Appends one entry. `data` is required for files with a non-zero size (a Buffer, or an
   * async iterable of chunks, which is streamed) and refused for other types. A file's size
   * defaults to the Buffer's length, or 0 without data; a streamed file needs `header.size`.
   */
  async add(header: TarEntryInput, data?: Buffer | AsyncIterable<Uint8Array>): Promise<void> {
    this.#enter();
    try {
      const { bytes, size } = this.#encode(header, data);
      if (data === undefined || size === 0) {
        await this.#push(bytes);
      } else if (Buffer.isBuffer(data)) {
        if (data.length !== size) throw this.#sizeError(header.path, size, data.length);
        if (size <= SMALL_FILE) {
          // One chunk per small file: header, data and padding (fewer, bigger writes downstream).
          const out = Buffer.allocUnsafe(bytes.length + paddedSize(size));
          bytes.copy(out, 0);
          data.copy(out, bytes.length);
          out.fill(0, bytes.length + size);
          await this.#push(out);
        } else {
          await this.#push(bytes);
          await this.#push(data);
          await this.#pad(size);
        }
      } else {
        await this.#push(bytes);
        let written = 0;
        for await (const chunk of data) {
          if (chunk.length === 0) continue;
          written += chunk.length;
          if (written > size) throw this.#sizeError(header.path, size, written, true);
          await this.#push(
            Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength),
          );
        }
        if (written !== size) throw this.#sizeError(header.path, size, written);
        await this.#pad(size);
      }
    } catch (err) {
      this.destroy(err);
      throw err;
    } finally {
      this.#busy = false;
    }
  }

  /** Writes the two zero blocks that end the archive and ends the stream. */
  async finish(): Promise<void> {
    this.#enter();
    try {
      this.#finished = true;
      await this.#push(ZEROS);
      this.#ended = true;
      const pull = this.#pull;
      this.#pull = undefined;
      pull?.resolve({ value: undefined, done: true });
    } catch (err) {
      this.destroy(err);
      throw err;
    } finally {
      this.#busy = false;
    }
  }

  /** Abandons the archive: the reader fails with `err` (if given, else `ERR_ABORTED`). */
  destroy(err?: unknown): void {
    if (this.#ended && this.#queue.length === 0) return;
    this.#failure ??= err ?? new LayerkitError(ErrorCodes.ERR_ABORTED, 'the tar writer was destroyed');
    this.#queue.length = 0;
    this.#queued = 0;
    const pull = this.#pull;
    this.#pull = undefined;
    pull?.reject(this.#failure);
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.reject(this.#failure);
    if (this.#stream !== undefined && !this.#stream.destroyed)
      this.#stream.destroy(err instanceof Error ? err : undefined);
  }

  /** The reader stopped before the end. */
  #abandon(): void {
    this.#failure ??= new LayerkitError(
      ErrorCodes.ERR_ABORTED,
      'the tar stream was closed before the archive was finished',
    );
    this.#queue.length = 0;
    this.#queued = 0;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.reject(this.#failure);
  }

  /** Lets a producer waiting for room go on. */
  #release(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.resolve();
  }

  #enter(): void {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#busy) {
      throw new LayerkitError(
        ErrorCodes.ERR_LAYER_FORMAT,
        'TarWriter: add() or finish() called before the previous call finished; await each call',
      );
    }
    if (this.#finished)
      throw new LayerkitError(ErrorCodes.ERR_LAYER_FORMAT, 'TarWriter: the archive is already finished');
    this.#busy = true;
  }

  #encode(
    header: TarEntryInput,
    data: Buffer | AsyncIterable<Uint8Array> | undefined,
  ): { bytes: Buffer; size: number } {
    const path = normalizeEntryPath(header.path);
    const what = (): string => `entry ${quoteName(header.path)}`;
    const type = header.type;
    let size = header.size ?? (data === undefined ? 0 : Buffer.isBuffer(data) ? data.length : undefined);
    if (type === 'file') {
      if (size === undefined) {
        throw new LayerkitError(
          ErrorCodes.ERR_LAYER_FORMAT,
          `cannot write ${what()}: a file streamed from an iterable needs header.size`,
          { path },
        );
      }
      if (size > 0 && data === undefined) {
        throw new LayerkitError(
          ErrorCodes.ERR_LAYER_FORMAT,
          `cannot write ${what()}: size is ${size} but no data was given`,
          { path },
        );
      }
    } else {
      if (data !== undefined || (size ?? 0) !== 0) {
        throw new LayerkitError(ErrorCodes.ERR_LAYER_FORMAT, `cannot write ${what()}: a ${type} entry has no data`, {
          path,
        });
      }
      size = 0;
    }
    if (path === '' && type !== 'directory') {
      throw new LayerkitError(ErrorCodes.ERR_LAYER_FORMAT, `cannot write ${what()}: the root can only be a directory`, {
        path,
      });
    }
    let mtime = header.mtime;
    if (this.#epoch !== undefined && mtime > this.#epoch) mtime = this.#epoch;
    const whiteout = classifyWhiteout(path);
    if (whiteout !== undefined && whiteout.kind !== 'aufs-meta') {
      if (type !== 'file' || size !== 0) {
        throw new LayerkitError(
          ErrorCodes.ERR_LAYER_FORMAT,
          `cannot write ${what()}: a whiteout must be an empty regular file`,
          { path },
        );
      }
      mtime = 0;
    }
    let linkname: string | undefined;
    if (type === 'hardlink' || type === 'symlink') {
      if (header.linkTarget === undefined) {
        throw new LayerkitError(ErrorCodes.ERR_LAYER_FORMAT, `cannot write ${what()}: a ${type} needs linkTarget`, {
          path,
        });
      }
      linkname =
        type === 'hardlink'
          ? normalizeLinkTarget(header.linkTarget, { what: `hardlink target of ${what()}` })
          : header.linkTarget;
    }
    const device = type === 'char' || type === 'block';
    const bytes = encodeHeader({
      name: type === 'directory' ? (path === '' ? './' : `${path}/`) : path,
      type,
      mode: header.mode,
      uid: header.uid,
      gid: header.gid,
      mtime,
      size,
      linkname,
      devmajor: device ? (header.devmajor ?? 0) : undefined,
      devminor: device ? (header.devminor ?? 0) : undefined,
      xattrs: header.xattrs !== undefined && Object.keys(header.xattrs).length > 0 ? header.xattrs : undefined,
    });
    return { bytes, size };
  }

  #sizeError(path: string, size: number, got: number, more = false): LayerkitError {
    return new LayerkitError(
      ErrorCodes.ERR_LAYER_FORMAT,
      `cannot write entry ${quoteName(path)}: its header says ${size} bytes but its data source yielded ${more ? 'more' : got}${more ? ` (at least ${got})` : ''}; the archive was abandoned`,
      { path, expected: size, found: got },
    );
  }

  async #pad(size: number): Promise<void> {
    const pad = paddedSize(size) - size;
    if (pad > 0) await this.#push(ZEROS.subarray(0, pad));
  }

  #push(buf: Buffer): Promise<void> | undefined {
    if (this.#failure !== undefined) throw this.#failure;
    this.#bytes += buf.length;
    const pull = this.#pull;
    if (pull !== undefined) {
      this.#pull = undefined;
      pull.resolve({ value: buf, done: false });
      return undefined;
    }
    this.#queue.push(buf);
    this.#queued += buf.length;
    if (this.#queued < this.#highWaterMark) return undefined;
    return new Promise<void>((resolve, reject) => {
      this.#wake = { resolve, reject };
    });
  }
}
