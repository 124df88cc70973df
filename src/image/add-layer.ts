/**
 * Writing a new layer into the store: entries → deterministic tar → gzip → blob, with diffID,
 * digest and index from the same pass (so the new image mounts at once).
 */
import type { Digest } from '../digest/digest.js';
import { LayerIndexer } from '../layer/layer-indexer.js';
import type { LayerIndex } from '../layer/layer-index.js';
import { MediaTypes } from '../oci/media-types.js';
import type { Descriptor } from '../oci/types.js';
import type { Lease, Store } from '../store/store.js';
import { layerBlob, type LayerEntryInput } from '../tar/layer-writer.js';

/** Options for {@link addLayer}. */
export interface AddLayerOptions {
  store: Store;
  /** Entries in layer order (parents first; see `compareTarPaths`). */
  entries: Iterable<LayerEntryInput> | AsyncIterable<LayerEntryInput>;
  /** `gzip` (default), `none`, or `estargz` (gzip in the lazily pullable eStargz layout). */
  compression?: 'gzip' | 'none' | 'estargz' | undefined;
  gzipLevel?: number | undefined;
  /** Clamp mtimes to SOURCE_DATE_EPOCH (seconds). */
  sourceDateEpoch?: number | undefined;
  lease?: Lease | undefined;
  signal?: AbortSignal | undefined;
}

/** A layer that is now in the store. */
export interface AddedLayer {
  descriptor: Descriptor;
  diffId: Digest;
  index: LayerIndex;
}

/**
 * Writes a layer blob into the store and indexes it, in one pass: the tar is indexed (entries,
 * file hashes, an uncompressed copy when compressed) as it is produced, while zlib compresses it
 * on the threadpool; nothing is read back.
 */
export async function addLayer({
  store,
  entries,
  compression = 'gzip',
  gzipLevel,
  sourceDateEpoch,
  lease,
  signal,
}: AddLayerOptions): Promise<AddedLayer> {
  const indexer = new LayerIndexer({ store, copy: compression !== 'none' });
  try {
    const { chunks, result } = layerBlob({
      entries,
      compression,
      ...(gzipLevel !== undefined ? { gzipLevel } : {}),
      ...(sourceDateEpoch !== undefined ? { sourceDateEpoch } : {}),
      onTarChunk: (chunk) => indexer.write(chunk),
      ...(signal ? { signal } : {}),
    });
    const info = await store.blobs.put(chunks, { signal });
    const written = await result;
    lease?.add(info.digest);
    const descriptor: Descriptor = {
      mediaType: compression === 'none' ? MediaTypes.ociLayer : MediaTypes.ociLayerGzip,
      digest: info.digest,
      size: info.size,
      ...(written.annotations ? { annotations: written.annotations } : {}),
    };
    const { index } = indexer.finish({
      diffId: written.diffId,
      dataBlob: compression === 'none' ? info.digest : undefined,
    });
    return { descriptor, diffId: written.diffId, index };
  } catch (err) {
    indexer.abort();
    throw err;
  }
}
