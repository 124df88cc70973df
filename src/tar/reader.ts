/**
 * The tar reader: a synchronous push parser ({@link TarParser}) that reports every entry with
 * the byte offset of its data in the uncompressed stream, and hands file data on as zero-copy
 * `subarray`s of the chunks it is fed.
 *
 * Why not tar-stream's `extract()`: the store keeps each layer's uncompressed tar and indexes
 * every file's data offset, so reading a file later is one positioned read. tar-stream does not
 * expose those offsets; it also drops PAX uid/gid/mtime on read, turns mode 0 into 0644, clamps
 * big uids on write and crashes the process on unhandled sink errors. tar-stream stays in the
 * tests as an independent peer (its output must parse here, ours must parse there).
 *
 * Supported: ustar (with `prefix`), GNU (`L`/`K` long names, base-256 numbers), PAX local and
 * global headers (path, linkpath, size, uid, gid, mtime, uname, gname, `SCHILY.xattr.*`,
 * `LIBARCHIVE.xattr.*`), v7. Refused: sparse files, unknown typeflags, unsafe paths.
 */
import { ErrorCodes, LayerkitError } from '../errors.js';
import { sniffCompression } from './compression.js';
import { BLOCK_SIZE, decodeHeader, entryTypeOf, paddedSize, TYPEFLAG, type RawTarHeader } from './header.js';
import { parsePaxRecords, resolveHeader, type PaxRecords } from './pax.js';
import { decodeName, quoteName } from './name-encoding.js';
import { normalizeEntryPath, normalizeLinkTarget, PATH_LIMITS } from './path.js';
import type { TarEntryHeader } from './types.js';

/** Default reader limits. */
export const TAR_LIMITS = {
  /** Most entries one archive may hold. */
  maxEntries: 5_000_000,
  /** Largest PAX (`x`/`g`) or GNU long name/link (`L`/`K`) header data, in bytes. */
  maxHeaderSize: 1024 * 1024,
  maxPathDepth: PATH_LIMITS.maxDepth,
  maxPathLength: PATH_LIMITS.maxLength,
} as const;

/** Limits for {@link TarParser} (defaults: {@link TAR_LIMITS}). */
export interface TarParserOptions {
  maxEntries?: number;
  maxHeaderSize?: number;
  maxPathDepth?: number;
  maxPathLength?: number;
}

/** What {@link TarParser} calls, synchronously, as it parses. */
export interface TarParserHandlers {
  /**
   * A new entry. `dataOffset` is the byte offset of its data in the uncompressed stream (for
   * entries without data: where data would start, right after the header).
   */
  onEntry(header: TarEntryHeader, dataOffset: number): void;
  /** A piece of the current file's data: a `subarray` of a fed chunk, valid until you return. */
  onData?(chunk: Buffer): void;
  /** The current entry's data is complete (called for every entry, data or not). */
  onEntryEnd?(): void;
}

const State = {
  Header: 0,
  Meta: 1,
  Data: 2,
  Padding: 3,
  /** One zero block seen; the next block must be zero too (or the input must end). */
  AfterZero: 4,
  Done: 5,
} as const;
type State = (typeof State)[keyof typeof State];

/**
 * A synchronous push parser for tar streams. Feed it chunks split anywhere with
 * {@link TarParser.write} and call {@link TarParser.end} at EOF; it calls the handlers as
 * entries complete. It is O(bytes): headers split across chunks are gathered in one 512-byte
 * scratch block, file data is never copied or concatenated.
 *
 * It stops at the two zero blocks that end an archive and ignores anything after them (GNU tar
 * pads to a 10 KiB record). Like GNU tar and Go, it also accepts an archive that ends right
 * after an entry's padding, or after a single zero block.
 *
 * Errors (thrown from `write`/`end`, after which the parser stays failed): `ERR_LAYER_FORMAT`
 * for truncated archives, bad checksums, non-tar input, malformed PAX, sparse or unknown
 * entries; `ERR_UNSAFE_PATH` for names that escape the root; `ERR_LIMIT_EXCEEDED` for too many
 * entries, oversized PAX/long-name headers, and too deep or too long paths.
 */
export class TarParser {
  readonly #handlers: TarParserHandlers;
  readonly #maxEntries: number;
  readonly #maxHeaderSize: number;
  readonly #pathLimits: { maxDepth: number; maxLength: number };
  readonly #block = Buffer.alloc(BLOCK_SIZE);
  #blockFill = 0;
  #state: State = State.Header;
  #offset = 0;
  /** Bytes left in the current Meta/Data/Padding section. */
  #remaining = 0;
  /** Padding that follows the current data. */
  #padding = 0;
  #meta: Buffer | undefined;
  #metaFill = 0;
  #metaType = 0;
  #metaStart = 0;
  #global: PaxRecords | undefined;
  #local: PaxRecords | undefined;
  #longName: string | undefined;
  #longLink: string | undefined;
  #entries = 0;
  #current: TarEntryHeader | undefined;
  #error: unknown;
  #ended = false;

  constructor(handlers: TarParserHandlers, options: TarParserOptions = {}) {
    this.#handlers = handlers;
    this.#maxEntries = options.maxEntries ?? TAR_LIMITS.maxEntries;
    this.#maxHeaderSize = options.maxHeaderSize ?? TAR_LIMITS.maxHeaderSize;
    this.#pathLimits = {
      maxDepth: options.maxPathDepth ?? TAR_LIMITS.maxPathDepth,
      maxLength: options.maxPathLength ?? TAR_LIMITS.maxPathLength,
    };
  }

  /** Bytes consumed so far (including anything ignored after the end marker). */
  get offset(): number {
    return this.#offset;
  }

  /** Entries reported so far. */
  get entryCount(): number {
    return this.#entries;
  }

  /** True once the end-of-archive marker has been read. */
  get done(): boolean {
    return this.#state === State.Done;
  }

  /** Bytes of the current entry's data (and its padding) not fed yet: what {@link skipData} would skip. */
  get dataRemaining(): number {
    if (this.#state === State.Data) return this.#remaining + this.#padding;
    if (this.#state === State.Padding) return this.#remaining;
    return 0;
  }

  /**
   * Skips the rest of the current entry's data and padding without being fed them, for a reader
   * that seeks instead (an archive on disk whose members are read later, by offset): it then
   * continues feeding from {@link offset}. The handlers see no more `onData` for the entry, but
   * `onEntryEnd` as usual. Whether those bytes exist is the caller's to check (the parser cannot
   * see a file end it skipped over). Returns the number of bytes skipped (0 outside entry data).
   */
  skipData(): number {
    if (this.#error !== undefined) throw this.#error;
    const skipped = this.dataRemaining;
    if (skipped === 0) return 0;
    const inData = this.#state === State.Data;
    this.#offset += skipped;
    this.#remaining = 0;
    this.#state = State.Header;
    if (inData) this.#handlers.onEntryEnd?.();
    return skipped;
  }

  /** Feeds the next chunk. Throws the parse error, or a handler's error, as it happens. */
  write(chunk: Buffer): void {
    if (this.#error !== undefined) throw this.#error;
    if (this.#ended) throw new LayerkitError(ErrorCodes.ERR_LAYER_FORMAT, 'tar parser: write() after end()');
    try {
      this.#consume(chunk);
    } catch (err) {
      this.#error = err;
      throw err;
    }
  }

  /** Signals EOF. Throws `ERR_LAYER_FORMAT` when the archive is truncated. */
  end(): void {
    if (this.#error !== undefined) throw this.#error;
    if (this.#ended) return;
    this.#ended = true;
    try {
      this.#finish();
    } catch (err) {
      this.#error = err;
      throw err;
    }
  }

  #consume(chunk: Buffer): void {
    const len = chunk.length;
    let pos = 0;
    while (pos < len) {
      switch (this.#state) {
        case State.Header:
        case State.AfterZero: {
          if (this.#blockFill === 0 && len - pos >= BLOCK_SIZE) {
            const start = this.#offset;
            this.#offset += BLOCK_SIZE;
            pos += BLOCK_SIZE;
            this.#onBlock(chunk, pos - BLOCK_SIZE, start);
          } else {
            const n = Math.min(BLOCK_SIZE - this.#blockFill, len - pos);
            chunk.copy(this.#block, this.#blockFill, pos, pos + n);
            this.#blockFill += n;
            this.#offset += n;
            pos += n;
            if (this.#blockFill === BLOCK_SIZE) {
              this.#blockFill = 0;
              this.#onBlock(this.#block, 0, this.#offset - BLOCK_SIZE);
            }
          }
          break;
        }
        case State.Data: {
          const n = Math.min(this.#remaining, len - pos);
          const from = pos;
          this.#remaining -= n;
          this.#offset += n;
          pos += n;
          const finished = this.#remaining === 0;
          if (finished) this.#afterData();
          if (this.#handlers.onData !== undefined) this.#handlers.onData(chunk.subarray(from, pos));
          if (finished) this.#handlers.onEntryEnd?.();
          break;
        }
        case State.Padding: {
          const n = Math.min(this.#remaining, len - pos);
          this.#remaining -= n;
          this.#offset += n;
          pos += n;
          if (this.#remaining === 0) this.#state = State.Header;
          break;
        }
        case State.Meta: {
          const n = Math.min(this.#remaining, len - pos);
          if (this.#meta === undefined) {
            if (n === this.#remaining) {
              // The whole header data is in this chunk: parse it in place.
              const data = chunk.subarray(pos, pos + n);
              this.#offset += n;
              pos += n;
              this.#remaining = 0;
              this.#onMeta(data);
              break;
            }
            this.#meta = Buffer.allocUnsafe(this.#remaining);
            this.#metaFill = 0;
          }
          chunk.copy(this.#meta, this.#metaFill, pos, pos + n);
          this.#metaFill += n;
          this.#remaining -= n;
          this.#offset += n;
          pos += n;
          if (this.#remaining === 0) {
            const data = this.#meta;
            this.#meta = undefined;
            this.#onMeta(data);
          }
          break;
        }
        case State.Done:
          this.#offset += len - pos;
          pos = len;
          break;
      }
    }
  }

  /** After an entry's data: skip its padding, then expect a header. */
  #afterData(): void {
    this.#remaining = this.#padding;
    this.#state = this.#padding > 0 ? State.Padding : State.Header;
  }

  #onBlock(buf: Buffer, at: number, start: number): void {
    let raw: RawTarHeader | null;
    try {
      raw = decodeHeader(buf, at);
    } catch (err) {
      throw this.#headerError(err as LayerkitError, buf, at, start);
    }
    if (raw === null) {
      if (this.#state === State.AfterZero) {
        this.#state = State.Done;
        return;
      }
      if (this.#pendingExtended()) {
        throw new LayerkitError(
          ErrorCodes.ERR_LAYER_FORMAT,
          `bad tar: an extended header is followed by the end-of-archive marker at byte ${start} instead of an entry`,
          { offset: start },
        );
      }
      this.#state = State.AfterZero;
      return;
    }
    if (this.#state === State.AfterZero) {
      throw new LayerkitError(
        ErrorCodes.ERR_LAYER_FORMAT,
        `bad tar: a zero block at byte ${start - BLOCK_SIZE} is followed by another header (${quoteName(raw.name)}); the archive is corrupt or two archives were concatenated`,
        { offset: start },
      );
    }
    const t = raw.typeflag;
    if (
      t === TYPEFLAG.paxLocal ||
      t === TYPEFLAG.paxGlobal ||
      t === TYPEFLAG.gnuLongName ||
      t === TYPEFLAG.gnuLongLink
    ) {
      this.#startMeta(raw, start);
      return;
    }
    this.#startEntry(raw, start);
  }

  #headerError(err: LayerkitError, buf: Buffer, at: number, start: number): LayerkitError {
    if (start === 0) {
      return notTar(
        `the first 512 bytes are not a tar header (${err.message})`,
        buf.subarray(at, at + BLOCK_SIZE),
        err,
      );
    }
    const after = this.#current === undefined ? '' : ` after entry ${quoteName(this.#current.rawName)}`;
    return new LayerkitError(
      ErrorCodes.ERR_LAYER_FORMAT,
      `corrupt tar: header at byte ${start}${after}: ${err.message}`,
      { ...err.data, offset: start },
      { cause: err },
    );
  }

  #pendingExtended(): boolean {
    return this.#local !== undefined || this.#longName !== undefined || this.#longLink !== undefined;
  }

  #startMeta(raw: RawTarHeader, start: number): void {
    if (raw.size > this.#maxHeaderSize) {
      throw new LayerkitError(
        ErrorCodes.ERR_LIMIT_EXCEEDED,
        `tar ${metaName(raw.typeflag)} at byte ${start} declares ${raw.size} bytes, more than the limit of ${this.#maxHeaderSize}; the archive is broken or malicious (raise maxHeaderSize if it is trusted)`,
        { offset: start, size: raw.size, limit: this.#maxHeaderSize },
      );
    }
    this.#metaType = raw.typeflag;
    this.#metaStart = start;
    this.#meta = undefined;
    this.#padding = paddedSize(raw.size) - raw.size;
    if (raw.size === 0) {
      this.#onMeta(Buffer.alloc(0));
      return;
    }
    this.#remaining = raw.size;
    this.#state = State.Meta;
  }

  #onMeta(data: Buffer): void {
    this.#afterData();
    try {
      switch (this.#metaType) {
        case TYPEFLAG.paxLocal:
          this.#local = parsePaxRecords(data, this.#local);
          break;
        case TYPEFLAG.paxGlobal:
          this.#global = parsePaxRecords(data, new Map(this.#global));
          break;
        case TYPEFLAG.gnuLongName:
          this.#longName = cString(data);
          break;
        default:
          this.#longLink = cString(data);
      }
    } catch (err) {
      const e = err as LayerkitError;
      throw new LayerkitError(
        ErrorCodes.ERR_LAYER_FORMAT,
        `corrupt tar: ${metaName(this.#metaType)} at byte ${this.#metaStart}: ${e.message}`,
        { offset: this.#metaStart },
        { cause: err },
      );
    }
  }

  #startEntry(raw: RawTarHeader, start: number): void {
    const ext = { global: this.#global, local: this.#local, longName: this.#longName, longLink: this.#longLink };
    this.#local = undefined;
    this.#longName = undefined;
    this.#longLink = undefined;
    const r = resolveHeader(raw, ext);
    if (++this.#entries > this.#maxEntries) {
      throw new LayerkitError(
        ErrorCodes.ERR_LIMIT_EXCEEDED,
        `tar has more than ${this.#maxEntries} entries (entry ${quoteName(r.name)} at byte ${start}); raise maxEntries if the archive is trusted`,
        { offset: start, limit: this.#maxEntries },
      );
    }
    const type = entryTypeOf(raw.typeflag, r.name) ?? 'file';
    const path = normalizeEntryPath(r.name, this.#pathLimits);
    const size = type === 'file' ? r.size : 0;
    const header: TarEntryHeader = {
      path,
      rawName: r.name,
      type,
      mode: raw.mode,
      uid: r.uid,
      gid: r.gid,
      mtime: r.mtime,
      size,
    };
    if (type === 'hardlink') {
      const what = `hardlink target ${quoteName(r.linkname)} of entry ${quoteName(r.name)}`;
      header.linkTarget = normalizeLinkTarget(r.linkname, { ...this.#pathLimits, what });
    } else if (type === 'symlink') {
      if (r.linkname.includes('\0')) {
        throw new LayerkitError(
          ErrorCodes.ERR_UNSAFE_PATH,
          `symlink target of entry ${quoteName(r.name)} holds a NUL byte`,
          { path: r.name },
        );
      }
      header.linkTarget = r.linkname;
    } else if (type === 'char' || type === 'block') {
      header.devmajor = raw.devmajor;
      header.devminor = raw.devminor;
    }
    if (r.xattrs !== undefined) header.xattrs = r.xattrs;
    if (r.uname !== '') header.uname = r.uname;
    if (r.gname !== '') header.gname = r.gname;
    this.#current = header;
    this.#remaining = size;
    this.#padding = paddedSize(size) - size;
    this.#state = size > 0 ? State.Data : State.Header;
    this.#handlers.onEntry(header, start + BLOCK_SIZE);
    if (size === 0) this.#handlers.onEntryEnd?.();
  }

  #finish(): void {
    switch (this.#state) {
      case State.Done:
        return;
      case State.Header:
      case State.AfterZero: {
        if (this.#blockFill > 0 && this.#block.subarray(0, this.#blockFill).some((b) => b !== 0)) {
          const start = this.#offset - this.#blockFill;
          if (start === 0)
            throw notTar(`it is only ${this.#blockFill} bytes long`, this.#block.subarray(0, this.#blockFill));
          throw new LayerkitError(
            ErrorCodes.ERR_LAYER_FORMAT,
            `truncated tar: the header at byte ${start} has only ${this.#blockFill} of 512 bytes`,
            { offset: start },
          );
        }
        if (this.#pendingExtended()) {
          throw new LayerkitError(
            ErrorCodes.ERR_LAYER_FORMAT,
            `truncated tar: the archive ends after an extended header, before its entry`,
            { offset: this.#offset },
          );
        }
        this.#state = State.Done;
        return;
      }
      case State.Meta:
        throw new LayerkitError(
          ErrorCodes.ERR_LAYER_FORMAT,
          `truncated tar: the ${metaName(this.#metaType)} at byte ${this.#metaStart} needs ${this.#remaining} more bytes`,
          { offset: this.#metaStart, missing: this.#remaining },
        );
      case State.Data:
      case State.Padding: {
        // The archive ends right after an entry's data, before any of its padding: Go's tar
        // reader takes that as the end (umoci insert writes such layers), and so do we.
        if (this.#state === State.Padding && this.#remaining === this.#padding && !this.#pendingExtended()) {
          this.#state = State.Done;
          return;
        }
        const name = this.#current?.rawName ?? '';
        const missing = this.#state === State.Data ? this.#remaining + this.#padding : this.#remaining;
        throw new LayerkitError(
          ErrorCodes.ERR_LAYER_FORMAT,
          `truncated tar: entry ${quoteName(name)} needs ${missing} more bytes${this.#state === State.Padding ? ' of padding' : ''}; the layer is incomplete, fetch it again`,
          { path: this.#current?.path, missing },
        );
      }
    }
  }
}

/** The error for input that is not a tar at all, with a hint about compression. */
function notTar(reason: string, head: Buffer, cause?: unknown): LayerkitError {
  const kind = sniffCompression(head);
  const hint =
    kind === 'none'
      ? 'is it compressed with something unsupported, or not a tar at all?'
      : `it looks ${kind}-compressed: decompress it first (decompressStream)`;
  return new LayerkitError(
    ErrorCodes.ERR_LAYER_FORMAT,
    `input is not a tar archive: ${reason}; ${hint}`,
    { offset: 0, compression: kind },
    cause === undefined ? undefined : { cause },
  );
}

function metaName(typeflag: number): string {
  switch (typeflag) {
    case TYPEFLAG.paxLocal:
      return 'PAX header';
    case TYPEFLAG.paxGlobal:
      return 'PAX global header';
    case TYPEFLAG.gnuLongName:
      return 'GNU long-name header';
    default:
      return 'GNU long-link header';
  }
}

/** A GNU long name: the data up to the first NUL. */
function cString(data: Buffer): string {
  const nul = data.indexOf(0);
  return decodeName(data, 0, nul < 0 ? data.length : nul);
}
