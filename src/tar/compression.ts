/**
 * Layer compression: sniff the magic bytes (never trust the media type: Docker's
 * `rootfs.diff.tar` is often gzip), decompress gzip (every concatenated member) and zstd where
 * the runtime has it, and compress with gzip. bzip2 and xz are recognised but not decoded.
 */
import { decoder as platformDecoder } from '#platform';
import { ErrorCodes, LayerkitError, throwIfAborted } from '../errors.js';
import { parallelGzip } from './parallel-gzip.js';

/** A compression recognised by {@link sniffCompression}. */
export type Compression = 'gzip' | 'zstd' | 'bzip2' | 'xz' | 'none';

/** How many leading bytes {@link sniffCompression} needs to tell every format apart. */
export const SNIFF_BYTES = 6;

/**
 * Names the compression of a blob from its first bytes: gzip `1f 8b 08`, zstd `28 b5 2f fd` or
 * a skippable frame (`5? 2a 4d 18`, as zstd:chunked writes first), bzip2 `BZh`, xz
 * `fd 37 7a 58 5a 00`; anything else (including too few bytes to tell) is `'none'`.
 */
export function sniffCompression(bytes: Uint8Array): Compression {
  const b0 = bytes[0];
  const b1 = bytes[1];
  const b2 = bytes[2];
  const b3 = bytes[3];
  if (b0 === 0x1f && b1 === 0x8b && b2 === 0x08) return 'gzip';
  if (b0 === 0x28 && b1 === 0xb5 && b2 === 0x2f && b3 === 0xfd) return 'zstd';
  if (b0 !== undefined && (b0 & 0xf0) === 0x50 && b1 === 0x2a && b2 === 0x4d && b3 === 0x18) return 'zstd';
  if (b0 === 0x42 && b1 === 0x5a && b2 === 0x68) return 'bzip2';
  if (b0 === 0xfd && b1 === 0x37 && b2 === 0x7a && b3 === 0x58 && bytes[4] === 0x5a && bytes[5] === 0x00) return 'xz';
  return 'none';
}

/** Options for {@link decompressStream}. */
export interface DecompressOptions {
  signal?: AbortSignal;
}

/** Options for {@link compressStream}. */
export interface CompressOptions {
  /** gzip level 0–9 (default 6, gzip's own default; 1 is about 1.6× faster and ~5 % bigger). */
  level?: number;
  signal?: AbortSignal;
}

const CHUNK = 64 * 1024;

/**
 * Decompresses a layer blob, whatever its media type says: the first bytes are sniffed and the
 * matching decoder is used (uncompressed data passes through untouched). gzip decodes every
 * concatenated member (eStargz); zstd decodes every frame, including skippable ones.
 *
 * @throws `ERR_UNSUPPORTED_COMPRESSION` for zstd on a runtime without zlib zstd (Node < 22.15),
 *   bzip2 and xz; `ERR_LAYER_FORMAT` for corrupt or truncated compressed data; `ERR_ABORTED`.
 *   Errors from `source` itself pass through unchanged.
 */
export async function* decompressStream(
  source: AsyncIterable<Uint8Array>,
  options: DecompressOptions = {},
): AsyncGenerator<Buffer, void, undefined> {
  const { signal } = options;
  throwIfAborted(signal);
  const it = source[Symbol.asyncIterator]();
  let sourceDone = false;
  try {
    const head: Buffer[] = [];
    let headLength = 0;
    while (headLength < SNIFF_BYTES) {
      const r = await it.next();
      if (r.done) {
        sourceDone = true;
        break;
      }
      const b = toBuffer(r.value);
      if (b.length === 0) continue;
      head.push(b);
      headLength += b.length;
    }
    const prefix = head.length === 1 ? (head[0] as Buffer) : Buffer.concat(head, Math.min(headLength, SNIFF_BYTES * 2));
    const kind = sniffCompression(prefix);
    if (kind === 'none') {
      for (const b of head) yield b;
      while (!sourceDone) {
        throwIfAborted(signal);
        const r = await it.next();
        if (r.done) sourceDone = true;
        else if (r.value.length > 0) yield toBuffer(r.value);
      }
      return;
    }
    let decode: Decoder;
    if (kind === 'gzip') decode = platformDecoder('gzip', CHUNK)!;
    else if (kind === 'zstd') {
      const make = platformDecoder('zstd', CHUNK);
      if (make === undefined) {
        throw new LayerkitError(
          ErrorCodes.ERR_UNSUPPORTED_COMPRESSION,
          `this layer is zstd-compressed, and decoding zstd needs Node >= 22.15 (this is Node ${process.versions.node}); run layerkit on a newer Node, or convert the image to gzip layers first, e.g. 'skopeo copy --dest-compress-format gzip oci:SRC:TAG oci:DST:TAG'`,
          { compression: kind, node: process.versions.node },
        );
      }
      decode = make;
    } else {
      throw new LayerkitError(
        ErrorCodes.ERR_UNSUPPORTED_COMPRESSION,
        `this layer is ${kind}-compressed, which OCI images do not use and layerkit does not decode; recompress it with gzip (e.g. 'skopeo copy --dest-compress-format gzip')`,
        { compression: kind },
      );
    }
    sourceDone = true; // the replay generator below owns the iterator from here on
    yield* runDecoder(
      replay(head, it, signal),
      decode,
      signal,
      (err) =>
        new LayerkitError(
          ErrorCodes.ERR_LAYER_FORMAT,
          `${kind} data is corrupt: ${err.message}; the blob is damaged or truncated, fetch it again`,
          { compression: kind },
          { cause: err },
        ),
    );
  } finally {
    if (!sourceDone) await it.return?.();
  }
}

/**
 * gzip-compresses a byte stream, deflating blocks in parallel (see `parallelGzip`); deterministic
 * for a given level and zlib: the header carries no name and mtime 0.
 */
export async function* compressStream(
  source: AsyncIterable<Uint8Array>,
  options: CompressOptions = {},
): AsyncGenerator<Buffer, void, undefined> {
  throwIfAborted(options.signal);
  const it = source[Symbol.asyncIterator]();
  yield* runDecoder(
    replay([], it, options.signal),
    (input) => parallelGzip(input, { level: options.level ?? 6 }),
    options.signal,
    (err) =>
      new LayerkitError(ErrorCodes.ERR_LAYER_FORMAT, `gzip compression failed: ${err.message}`, {}, { cause: err }),
  );
}

/** Marks errors thrown by the caller's source so they are not mistaken for decoder errors. */
class SourceFailure {
  constructor(readonly error: unknown) {}
}

async function* replay(
  head: Buffer[],
  it: AsyncIterator<Uint8Array>,
  signal: AbortSignal | undefined,
): AsyncGenerator<Buffer, void, undefined> {
  let done = false;
  try {
    for (const b of head) yield b;
    for (;;) {
      let r: IteratorResult<Uint8Array>;
      try {
        throwIfAborted(signal);
        r = await it.next();
      } catch (err) {
        done = true;
        throw new SourceFailure(err);
      }
      if (r.done) {
        done = true;
        return;
      }
      if (r.value.length > 0) yield toBuffer(r.value);
    }
  } finally {
    if (!done) await it.return?.();
  }
}

/** What {@link runDecoder} runs: bytes in, bytes out, errors in the data with a `Z_*` code. */
type Decoder = (source: AsyncIterable<Buffer>, signal?: AbortSignal) => AsyncIterable<Buffer>;

async function* runDecoder(
  input: AsyncIterable<Buffer>,
  decode: Decoder,
  signal: AbortSignal | undefined,
  wrap: (err: Error) => LayerkitError,
): AsyncGenerator<Buffer, void, undefined> {
  try {
    for await (const chunk of decode(input, signal)) {
      throwIfAborted(signal);
      yield chunk;
    }
  } catch (err) {
    if (err instanceof SourceFailure) throw err.error;
    if (err instanceof LayerkitError) throw err;
    if (signal?.aborted)
      throw new LayerkitError(ErrorCodes.ERR_ABORTED, 'the operation was aborted', {}, { cause: signal.reason });
    const e = err as NodeJS.ErrnoException;
    if (typeof e.code === 'string' && e.code.startsWith('Z_')) throw wrap(e);
    throw err;
  }
}

function toBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}
