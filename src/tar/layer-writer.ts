/**
 * Writes an OCI layer blob in one pass: entries → deterministic tar (hashed: the diffID) →
 * optional gzip in parallel blocks (hashed: the digest). Both digests and sizes come out of the
 * same pass.
 */
import { Readable, type Transform, pipeline } from 'node:stream';
import { Digester, type Digest } from '../digest/digest.js';
import { ErrorCodes, LayerkitError, throwIfAborted } from '../errors.js';
import type { TarEntryInput } from './types.js';
import { EstargzWriter } from './estargz-writer.js';
import { TOC_DIGEST_ANNOTATION, UNCOMPRESSED_SIZE_ANNOTATION } from './estargz.js';
import { parallelGzip } from './parallel-gzip.js';
import { TarWriter } from './writer.js';

/** One entry to write: its header and, for files, its data. */
export interface LayerEntryInput {
  header: TarEntryInput;
  data?: Buffer | AsyncIterable<Uint8Array> | undefined;
}

/** Options for {@link writeLayer}. */
export interface WriteLayerOptions {
  /** The entries, already in the order to write them (see `compareTarPaths`). */
  entries: AsyncIterable<LayerEntryInput> | Iterable<LayerEntryInput>;
  /**
   * `'gzip'` for `...tar+gzip` layers, `'none'` for `...tar` layers, `'estargz'` for `...tar+gzip`
   * layers in the eStargz layout (lazily pullable; the tar gains a landmark and a TOC entry).
   */
  compression: 'gzip' | 'none' | 'estargz';
  /** eStargz: files larger than this are cut into chunks of this size (default 4 MiB). */
  chunkSize?: number;
  /** eStargz: files to put first, before `.prefetch.landmark` (lazy readers prefetch them). */
  prefetch?: readonly string[];
  /** gzip level 0–9 (default 6). */
  gzipLevel?: number;
  /** Clamp mtimes to at most this many seconds since the epoch (SOURCE_DATE_EPOCH). */
  sourceDateEpoch?: number;
  /**
   * Sees every chunk of the uncompressed tar, in order, as it is produced (to index the layer in
   * the same pass). Throwing fails the layer.
   */
  onTarChunk?: (chunk: Buffer) => void;
  signal?: AbortSignal;
}

/** What a written layer is. */
export interface LayerWriteResult {
  /** sha256 of the uncompressed tar (the config's `rootfs.diff_ids` entry). */
  diffId: Digest;
  /** sha256 of the blob as stored (the manifest's layer digest); equals diffId when uncompressed. */
  digest: Digest;
  /** Bytes of the blob. */
  size: number;
  /** Bytes of the uncompressed tar. */
  uncompressedSize: number;
  /** eStargz: the annotations the layer's descriptor must carry (TOC digest, uncompressed size). */
  annotations?: Record<string, string>;
}

/**
 * Streams a layer blob. Read `stream` to the end (into the store, a file, a registry upload);
 * `result` resolves once it has ended, with the diffID, digest and sizes computed in the same
 * pass. Errors (a bad entry, a data source of the wrong size, abort) fail both `stream` and
 * `result`. The output is deterministic: the same entries and options give the same bytes.
 * `stream` is Node's Readable over {@link layerBlob}, which is the same without Node streams.
 */
export function writeLayer(options: WriteLayerOptions): { stream: Readable; result: Promise<LayerWriteResult> } {
  const { chunks, result } = layerBlob(options);
  return { stream: Readable.from(chunks, { objectMode: false }), result };
}

/**
 * A layer blob as an async iterable of chunks (as {@link writeLayer}, in Node and in a page):
 * read `chunks` to the end; `result` resolves once they have ended. A reader that stops early
 * abandons the layer (`result` rejects with `ERR_ABORTED`).
 */
export function layerBlob(options: WriteLayerOptions): {
  chunks: AsyncIterable<Buffer>;
  result: Promise<LayerWriteResult>;
} {
  const { signal } = options;
  const writer = new TarWriter({ sourceDateEpoch: options.sourceDateEpoch });
  const onTarChunk = options.onTarChunk;
  const tarDigester = new Digester('sha256');
  const blobDigester = new Digester('sha256');

  let settle!: { resolve: (r: LayerWriteResult) => void; reject: (e: unknown) => void };
  const result = new Promise<LayerWriteResult>((resolve, reject) => {
    settle = { resolve, reject };
  });
  result.catch(() => {}); // callers that only read `chunks` must not get an unhandled rejection

  let failure: unknown;
  const fail = (err: unknown): void => {
    failure ??= err;
    writer.destroy(failure);
    settle.reject(failure);
  };
  const onAbort = (): void =>
    fail(new LayerkitError(ErrorCodes.ERR_ABORTED, 'writing the layer was aborted', {}, { cause: signal?.reason }));

  // eStargz rewrites the tar (landmark first, TOC last): the diffID is of what it writes. It is a
  // Node Transform, so eStargz layers are written on Node only.
  const esgz =
    options.compression === 'estargz'
      ? new EstargzWriter({
          level: options.gzipLevel ?? 6,
          chunkSize: options.chunkSize,
          prioritized: options.prefetch,
          onUncompressed: (chunk) => {
            tarDigester.update(chunk);
            onTarChunk?.(chunk);
          },
        })
      : undefined;

  async function* tar(): AsyncGenerator<Buffer, void, undefined> {
    for await (const chunk of writer) {
      tarDigester.update(chunk);
      onTarChunk?.(chunk);
      yield chunk;
    }
  }
  async function* blob(): AsyncGenerator<Buffer, void, undefined> {
    let ended = false;
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    feed().catch(fail);
    try {
      const bytes = esgz
        ? through(writer, esgz)
        : options.compression === 'gzip'
          ? parallelGzip(tar(), { level: options.gzipLevel ?? 6 })
          : tar();
      for await (const chunk of bytes) {
        if (failure !== undefined) throw failure;
        blobDigester.update(chunk);
        yield chunk;
      }
      if (failure !== undefined) throw failure;
      const toc = esgz ? await esgz.result : undefined;
      ended = true;
      settle.resolve({
        diffId: tarDigester.digest(),
        digest: blobDigester.digest(),
        size: blobDigester.size,
        uncompressedSize: tarDigester.size,
        ...(toc
          ? {
              annotations: {
                [TOC_DIGEST_ANNOTATION]: toc.tocDigest,
                [UNCOMPRESSED_SIZE_ANNOTATION]: String(toc.uncompressedSize),
              },
            }
          : {}),
      });
    } catch (err) {
      // Node's Readable over these chunks, destroyed by its reader, throws an AbortError in here.
      fail(
        (err as NodeJS.ErrnoException).code === 'ABORT_ERR'
          ? new LayerkitError(ErrorCodes.ERR_ABORTED, 'the layer stream was closed before the layer was written')
          : err,
      );
      throw failure;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      // A reader that stopped before the end is an abort.
      if (!ended)
        fail(new LayerkitError(ErrorCodes.ERR_ABORTED, 'the layer stream was closed before the layer was written'));
    }
  }
  const feed = async (): Promise<void> => {
    for await (const entry of options.entries) {
      throwIfAborted(signal);
      await writer.add(entry.header, entry.data);
    }
    throwIfAborted(signal);
    await writer.finish();
  };
  return { chunks: blob(), result };
}

/** Node's Transform between two async iterables (the eStargz writer). */
async function* through(source: AsyncIterable<Buffer>, transform: Transform): AsyncGenerator<Buffer, void, undefined> {
  pipeline(Readable.from(source, { objectMode: false }), transform, () => {
    /* errors surface through the iteration below */
  });
  try {
    for await (const chunk of transform) yield chunk as Buffer;
  } finally {
    if (!transform.destroyed) transform.destroy();
  }
}
