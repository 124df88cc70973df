/**
 * Reading an uncompressed layer tar by ranges: its headers are read window by window, the bytes
 * of every file skipped over (one range request per window, and none for the data of big files),
 * and a file's bytes are then read where they lie, in pieces of at most {@link PIECE} bytes. A
 * window after a skipped file is small (the next entry may be another big file) and doubles while
 * windows hold only headers and small files; the bytes of small files that come with the headers
 * are kept, so reading them asks for nothing more.
 *
 * What can be checked: the tar's structure (header checksums, hostile names, entries that run
 * past the blob) as it is read. What cannot: the bytes against the blob's digest, which covers
 * only the whole blob. A lazily read uncompressed layer trusts its transport (HTTPS) for the
 * bytes it reads; eStargz layers, whose chunks carry digests, do not. `verified` says which.
 */
import type { Digest } from '../digest/digest.js';
import { ErrorCodes, LayerkitError, throwIfAborted } from '../errors.js';
import { TarParser, type TarParserOptions } from '../tar/reader.js';
import { classifyWhiteout } from '../tar/whiteout.js';
import { RangeLayer, type RangeChunk, type RangeLayerTables, type RangeSource } from './range-layer.js';
import type { LayerEntry } from './types.js';

/** The first window of a scan (`[0, TAR_WINDOW)`), and the first after a skipped file. */
export const TAR_WINDOW = 4 << 10;
/** The largest window: windows double up to it while they hold only headers and small files. */
const MAX_WINDOW = 64 << 10;
/** Files up to this size that come whole with the headers are kept. */
const KEEP = 64 << 10;
/** The most bytes of a file one chunk (one range request) holds. */
const PIECE = 1 << 20;

/** Options for {@link openTarRangeLayer}. */
export interface OpenTarRangeLayerOptions {
  source: RangeSource;
  /** The blob's digest (names it in errors). */
  blob: Digest;
  /** The layer's diffID (for an uncompressed layer, the blob's digest). */
  diffId: Digest;
  /** Reader limits (entries, header sizes, path depth). */
  limits?: TarParserOptions | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * Opens an uncompressed layer tar by reading its headers (see the module comment).
 * @throws `ERR_LAYER_FORMAT` (not a tar, a bad checksum, an entry past the blob's end),
 *   `ERR_UNSAFE_PATH`, `ERR_LIMIT_EXCEEDED`; each naming the blob.
 */
export async function openTarRangeLayer(options: OpenTarRangeLayerOptions): Promise<TarRangeLayer> {
  const { source, blob, signal } = options;
  const where = `layer blob ${blob}`;
  const tables: RangeLayerTables<RangeChunk> = {
    entries: new Map(),
    chunks: new Map(),
    whiteouts: new Set(),
    opaque: new Set(),
  };
  let scanned = 0;
  /** Bytes of small files that came whole with the headers, by data offset. */
  const kept = new Map<number, Buffer>();
  let small: { offset: number; size: number; parts: Buffer[]; got: number } | undefined;
  const parser = new TarParser(
    {
      onData: (chunk) => {
        if (small === undefined) return;
        small.parts.push(Buffer.from(chunk));
        small.got += chunk.length;
      },
      onEntryEnd: () => {
        if (small !== undefined && small.got === small.size) kept.set(small.offset, Buffer.concat(small.parts));
        small = undefined;
      },
      onEntry: (header, dataOffset) => {
        small = undefined;
        const wh = classifyWhiteout(header.path);
        if (wh !== undefined) {
          if (wh.kind === 'whiteout') tables.whiteouts.add(wh.target);
          else if (wh.kind === 'opaque') tables.opaque.add(wh.dir);
          return;
        }
        if (header.path === '' && header.type !== 'directory') return;
        const { rawName: _raw, uname: _u, gname: _g, ...entry } = header;
        // The last entry for a path wins (duplicates are forbidden but found in the wild).
        tables.entries.delete(header.path);
        tables.entries.set(header.path, entry as LayerEntry);
        tables.chunks.delete(header.path);
        if (header.type === 'file' && header.size > 0) {
          if (dataOffset + header.size > source.size) {
            throw new LayerkitError(
              ErrorCodes.ERR_LAYER_FORMAT,
              `${where}: ${JSON.stringify(header.path)} runs to byte ${dataOffset + header.size}, past the blob's ${source.size}`,
              { digest: blob, path: header.path },
            );
          }
          const chunks: RangeChunk[] = [];
          for (let at = 0; at < header.size; at += PIECE) {
            const size = Math.min(PIECE, header.size - at);
            chunks.push({ start: dataOffset + at, end: dataOffset + at + size, at, size });
          }
          tables.chunks.set(header.path, chunks);
          if (header.size <= KEEP) small = { offset: dataOffset, size: header.size, parts: [], got: 0 };
        }
      },
    },
    options.limits ?? {},
  );
  try {
    let at = 0;
    let window = TAR_WINDOW;
    while (!parser.done) {
      throwIfAborted(signal);
      if (at >= source.size) {
        if (at > source.size) {
          throw new LayerkitError(ErrorCodes.ERR_LAYER_FORMAT, `${where}: the tar ends inside an entry`, {
            digest: blob,
          });
        }
        parser.end();
        break;
      }
      const bytes = await source.read(at, Math.min(source.size, at + window), signal);
      scanned += bytes.length;
      parser.write(bytes);
      // What is left of a file's bytes past this window is not read: the next window starts after it.
      window = parser.skipData() > 0 ? TAR_WINDOW : Math.min(MAX_WINDOW, window * 2);
      at = parser.offset;
    }
  } catch (err) {
    if (err instanceof LayerkitError && !err.message.startsWith(where)) {
      throw new LayerkitError(err.code, `${where}: ${err.message}`, { ...err.data, digest: blob }, { cause: err });
    }
    throw err;
  }
  return new TarRangeLayer({ source, blob, diffId: options.diffId, where, tables, kept, scanned });
}

/** A {@link RangeLayer} over an uncompressed layer tar: each chunk a piece of a file, read where it lies. */
export class TarRangeLayer extends RangeLayer<RangeChunk> {
  /** False: the bytes read cannot be checked against the blob's digest (see the module comment). */
  readonly verified = false;
  /** Blob bytes read to list the entries (headers, and file bytes that shared their windows). */
  readonly bytesScanned: number;

  /** @internal Use {@link openTarRangeLayer}. */
  constructor(o: {
    source: RangeSource;
    blob: Digest;
    diffId: Digest;
    where: string;
    tables: RangeLayerTables<RangeChunk>;
    /** Bytes of small files read with the headers, by data offset. */
    kept?: ReadonlyMap<number, Buffer> | undefined;
    /** Blob bytes the header scan read. */
    scanned?: number | undefined;
  }) {
    super(o);
    this.bytesScanned = o.scanned ?? 0;
    if (o.kept === undefined || o.kept.size === 0) return;
    for (const chunks of o.tables.chunks.values()) {
      const bytes = chunks.length === 1 ? o.kept.get(chunks[0]!.start) : undefined;
      if (bytes !== undefined && bytes.length === chunks[0]!.size) this.keep(chunks[0]!, bytes);
    }
  }

  protected async load(_path: string, c: RangeChunk, signal: AbortSignal | undefined): Promise<Buffer> {
    const bytes = await this.source.read(c.start, c.end, signal);
    this.bytesFetched += bytes.length;
    return bytes;
  }
}
