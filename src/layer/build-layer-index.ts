/**
 * Builds a {@link LayerIndex} in one streaming pass over a layer blob: the blob is verified
 * against its digest, decompressed (the compression is sniffed, whatever the media type says),
 * hashed for the diffID, copied once as an uncompressed tar when it was compressed, and parsed;
 * every file's sha256 and data offset is recorded on the way. Nothing is buffered whole.
 */
import type { Digest } from '../digest/digest.js';
import { ErrorCodes, LayerkitError, throwIfAborted } from '../errors.js';
import type { Descriptor } from '../oci/types.js';
import type { Store } from '../store/store.js';
import { WorkerDigester } from '../store/worker-digester.js';
import { decompressStream, sniffCompression } from '../tar/compression.js';
import type { TarParserOptions } from '../tar/reader.js';
import type { LayerIndex } from './layer-index.js';
import { LayerIndexer } from './layer-indexer.js';

/** Options for {@link buildLayerIndex}. */
export interface BuildLayerIndexOptions {
  store: Store;
  /** The layer blob's descriptor (its blob must be in the store). */
  descriptor: Descriptor;
  /** The diffID the image config claims; a different content hash is `ERR_INVALID_MANIFEST`. */
  expectedDiffId?: Digest | undefined;
  /** Reader limits (entries, header sizes, path depth). */
  limits?: TarParserOptions | undefined;
  signal?: AbortSignal | undefined;
}

/** Reads a layer blob once and stores its index (and uncompressed copy) under its diffID. */
export async function buildLayerIndex(
  options: BuildLayerIndexOptions,
): Promise<{ index: LayerIndex; created: boolean }> {
  const { store, descriptor, expectedDiffId, limits, signal } = options;
  throwIfAborted(signal);
  const where = `layer ${descriptor.digest}`;
  const compression = sniffCompression(headBytes(store, descriptor.digest));
  const copy = compression !== 'none';
  const indexer = new LayerIndexer({ store, copy, limits });
  // An uncompressed blob is its own tar: its digest (verified at the end of the read) is the
  // diffID, so the bytes are hashed once, not twice. A compressed one's diffID is computed on a
  // worker thread (when it is big) while this thread parses and hashes the files.
  const diff = copy ? new WorkerDigester() : undefined;
  try {
    try {
      // A tar error stops the indexing but not the read: a corrupt blob must be reported as
      // EINTEGRITY (it fails its digest at the end), not as whatever its garbage looks like.
      let formatError: unknown;
      for await (const chunk of decompressStream(
        store.blobs.chunks(descriptor.digest, { size: descriptor.size }),
        signal ? { signal } : {},
      )) {
        const behind = diff?.update(chunk);
        if (formatError === undefined) {
          try {
            indexer.write(chunk);
          } catch (err) {
            formatError = err;
          }
        }
        if (behind) await behind;
      }
      if (formatError !== undefined) throw formatError;
      indexer.end();
    } catch (err) {
      throw withContext(await rootCause(store, descriptor, err), where);
    }
    const diffId = diff ? await diff.digest() : descriptor.digest;
    if (expectedDiffId !== undefined && diffId !== expectedDiffId) {
      throw new LayerkitError(
        ErrorCodes.ERR_INVALID_MANIFEST,
        `${where}: diffID mismatch: the image config says ${expectedDiffId} but the uncompressed layer hashes to ${diffId}; the image is corrupt`,
        { digest: descriptor.digest, expected: expectedDiffId, found: diffId },
      );
    }
    try {
      return indexer.finish({ diffId, dataBlob: copy ? undefined : descriptor.digest });
    } catch (err) {
      throw withContext(err, where);
    }
  } catch (err) {
    diff?.discard();
    indexer.abort();
    throw err;
  }
}

function headBytes(store: Store, digest: Digest): Buffer {
  let fd: number;
  try {
    fd = store.fs.openSync(store.blobs.path(digest), 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new LayerkitError(
        ErrorCodes.ERR_NOT_FOUND,
        `layer blob ${digest} is not in the store; re-import the image`,
        { digest },
      );
    }
    throw err;
  }
  try {
    const buf = Buffer.alloc(8);
    return buf.subarray(0, store.fs.readSync(fd, buf, 0, 8, 0));
  } finally {
    store.fs.closeSync(fd);
  }
}

/**
 * A damaged compressed blob usually breaks its decoder (gzip 'invalid block type') long before
 * the digest can be checked at the end of the read: when reading the layer failed for any reason
 * but a digest, size or abort error, re-hash the blob and report a mismatch (the cause) rather
 * than the garbage it decoded to.
 */
async function rootCause(store: Store, descriptor: Descriptor, err: unknown): Promise<unknown> {
  if (
    err instanceof LayerkitError &&
    (err.code === ErrorCodes.EINTEGRITY || err.code === ErrorCodes.EBADSIZE || err.code === ErrorCodes.ERR_ABORTED)
  )
    return err;
  const problem = await store.blobs.check(descriptor.digest, { size: descriptor.size }).catch(() => undefined);
  if (problem === undefined) return err;
  return new LayerkitError(problem.code, problem.message, problem.data, { cause: err });
}

function withContext(err: unknown, where: string): unknown {
  if (err instanceof LayerkitError && !err.message.startsWith(where)) {
    return new LayerkitError(
      err.code,
      `${where}: ${err.message}`,
      { ...err.data, layer: where.slice(6) },
      { cause: err },
    );
  }
  return err;
}
