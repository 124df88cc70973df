/**
 * Writes an OCI layer blob in one pass: entries → deterministic tar (hashed: the diffID) →
 * optional gzip in parallel blocks (hashed: the digest). Both digests and sizes come out of the
 * same pass.
 */
import { type Readable, Transform, pipeline, type TransformCallback } from 'node:stream';
import { Digester, type Digest } from '../digest/digest.js';
import { ErrorCodes, LayerkitError, throwIfAborted } from '../errors.js';
import type { TarEntryInput } from './types.js';
import { EstargzWriter } from './estargz-writer.js';
import { TOC_DIGEST_ANNOTATION, UNCOMPRESSED_SIZE_ANNOTATION } from './estargz.js';
import { ParallelGzip } from './parallel-gzip.js';
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

/** A tap that hashes and counts the bytes passing through (and shows them to `onChunk`). */
class HashTap extends Transform {
  readonly digester = new Digester('sha256');
  readonly #onChunk: ((chunk: Buffer) => void) | undefined;
  constructor(onChunk?: (chunk: Buffer) => void) {
    super();
    this.#onChunk = onChunk;
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.digester.update(chunk);
    try {
      this.#onChunk?.(chunk);
    } catch (err) {
      done(err as Error);
      return;
    }
    done(null, chunk);
  }
}

/**
 * Streams a layer blob. Read `stream` to the end (into the store, a file, a registry upload);
 * `result` resolves once it has ended, with the diffID, digest and sizes computed in the same
 * pass. Errors (a bad entry, a data source of the wrong size, abort) fail both `stream` and
 * `result`. The output is deterministic: the same entries and options give the same bytes.
 */
export function writeLayer(options: WriteLayerOptions): { stream: Readable; result: Promise<LayerWriteResult> } {
  const { signal } = options;
  const writer = new TarWriter({ sourceDateEpoch: options.sourceDateEpoch });
  const tarTap = new HashTap(options.onTarChunk);
  const blobTap = new HashTap();
  const stages: Array<NodeJS.ReadableStream | NodeJS.WritableStream> = [writer.stream];
  // eStargz rewrites the tar (landmark first, TOC last): the diffID is of what it writes.
  const esgz =
    options.compression === 'estargz'
      ? new EstargzWriter({
          level: options.gzipLevel ?? 6,
          chunkSize: options.chunkSize,
          onUncompressed: (chunk) => {
            tarTap.digester.update(chunk);
            options.onTarChunk?.(chunk);
          },
        })
      : undefined;
  if (esgz) stages.push(esgz);
  else stages.push(tarTap);
  if (options.compression === 'gzip') stages.push(new ParallelGzip({ level: options.gzipLevel ?? 6 }));
  stages.push(blobTap);

  let settle!: { resolve: (r: LayerWriteResult) => void; reject: (e: unknown) => void };
  const result = new Promise<LayerWriteResult>((resolve, reject) => {
    settle = { resolve, reject };
  });
  result.catch(() => {}); // callers that only watch `stream` must not get an unhandled rejection

  let failure: unknown;
  const fail = (err: unknown): void => {
    failure ??= err;
    writer.destroy(failure);
    if (!blobTap.destroyed) blobTap.destroy(failure instanceof Error ? failure : undefined);
    settle.reject(failure);
  };
  (pipeline as (...args: unknown[]) => void)(...stages, (err: Error | null | undefined) => {
    if (err) fail(err);
  });
  blobTap.on('end', () => {
    if (failure !== undefined) return;
    const done = (annotations?: Record<string, string>): void =>
      settle.resolve({
        diffId: tarTap.digester.digest(),
        digest: blobTap.digester.digest(),
        size: blobTap.digester.size,
        uncompressedSize: tarTap.digester.size,
        ...(annotations ? { annotations } : {}),
      });
    if (!esgz) return done();
    esgz.result.then(
      (r) =>
        done({
          [TOC_DIGEST_ANNOTATION]: r.tocDigest,
          [UNCOMPRESSED_SIZE_ANNOTATION]: String(r.uncompressedSize),
        }),
      fail,
    );
  });
  blobTap.on('close', () => {
    if (!blobTap.readableEnded) {
      // A stage that failed (a throwing tap, zlib) destroyed the pipeline: report its error;
      // a consumer that stopped reading is an abort.
      const own = blobTap.errored as NodeJS.ErrnoException | null;
      fail(
        own && own.code !== 'ABORT_ERR'
          ? own
          : new LayerkitError(ErrorCodes.ERR_ABORTED, 'the layer stream was closed before the layer was written'),
      );
    }
  });

  const onAbort = (): void =>
    fail(new LayerkitError(ErrorCodes.ERR_ABORTED, 'writing the layer was aborted', {}, { cause: signal?.reason }));
  if (signal?.aborted) queueMicrotask(onAbort);
  signal?.addEventListener('abort', onAbort, { once: true });

  const feed = async (): Promise<void> => {
    for await (const entry of options.entries) {
      throwIfAborted(signal);
      await writer.add(entry.header, entry.data);
    }
    throwIfAborted(signal);
    await writer.finish();
  };
  feed().then(
    () => signal?.removeEventListener('abort', onAbort),
    (err: unknown) => {
      signal?.removeEventListener('abort', onAbort);
      fail(err);
    },
  );
  return { stream: blobTap, result };
}
