/**
 * Converting an image's layers to eStargz (what `push --compression estargz` and
 * `build --compression estargz` store and send): each layer's uncompressed tar, kept by its index,
 * is streamed through the eStargz writer into a new blob, indexed in the same pass; the config
 * gets the new diffIDs (the eStargz tar has a landmark and a TOC entry more), the manifest the new
 * descriptors with their TOC annotations. Layers already in eStargz are kept as they are.
 */
import { pipeline } from 'node:stream';
import { Digester, type Digest } from '../digest/digest.js';
import { throwIfAborted } from '../errors.js';
import { LayerIndexer } from '../layer/layer-indexer.js';
import { openLayerIndex } from '../layer/layer-store.js';
import { canonicalJsonBytes } from '../oci/canonical-json.js';
import { isIndexMediaType, isManifestMediaType, MediaTypes } from '../oci/media-types.js';
import type { Descriptor, ImageIndex, Platform } from '../oci/types.js';
import type { Lease, Store } from '../store/store.js';
import { TOC_DIGEST_ANNOTATION, UNCOMPRESSED_SIZE_ANNOTATION } from '../tar/estargz.js';
import { EstargzWriter } from '../tar/estargz-writer.js';
import { isLoadedImage, loadFromBlobs, resolveImage, type Image, type ImageLike } from './image.js';
import { hostPlatform, isAttestation } from './platform.js';
import { writeImage } from './write-image.js';

/** Options for {@link convertToEstargz}. */
export interface ConvertToEstargzOptions {
  store: Store;
  image: ImageLike;
  /** For an index: which platform (default: the host's). */
  platform?: Platform | undefined;
  /** Tags for the converted image (default: none; it is kept until gc unless tagged or pushed). */
  tags?: string[] | undefined;
  /** Files larger than this are cut into chunks of this size (default 4 MiB). */
  chunkSize?: number | undefined;
  /** gzip level 0–9 (default 6). */
  gzipLevel?: number | undefined;
  /** Files to put first in the layers holding them, before `.prefetch.landmark` (lazy readers prefetch them). */
  prefetch?: readonly string[] | undefined;
  lease?: Lease | undefined;
  signal?: AbortSignal | undefined;
}

/** True when a layer descriptor says its blob is eStargz (it carries the TOC digest annotation). */
export function isEstargzLayer(descriptor: Descriptor): boolean {
  return typeof descriptor.annotations?.[TOC_DIGEST_ANNOTATION] === 'string';
}

/**
 * Writes the image again with eStargz layers and returns it (the same image when every layer
 * already is eStargz). Deterministic: converting the same image twice gives the same digest.
 * @example const lazy = await convertToEstargz({ store, image: 'app:1', tags: ['app:1-esgz'] });
 */
export async function convertToEstargz(options: ConvertToEstargzOptions): Promise<Image> {
  const { store, signal } = options;
  const image = await resolveImage({ store, image: options.image, platform: options.platform });
  if (image.layers.every(isEstargzLayer)) {
    for (const tag of options.tags ?? []) await store.tag(tag, image.descriptor);
    return image;
  }
  const work = async (lease: Lease): Promise<Image> => {
    const layers: Descriptor[] = [];
    const diffIds: Digest[] = [];
    for (let i = 0; i < image.layers.length; i++) {
      throwIfAborted(signal);
      const descriptor = image.layers[i]!;
      if (isEstargzLayer(descriptor)) {
        layers.push(descriptor);
        diffIds.push(image.diffIds[i]!);
        continue;
      }
      const converted = await convertLayer(store, descriptor, image.diffIds[i]!, options, lease);
      layers.push(converted.descriptor);
      diffIds.push(converted.diffId);
    }
    const config = { ...image.config, rootfs: { ...image.config.rootfs, diff_ids: diffIds } };
    return writeImage({
      store,
      config,
      layers,
      ...(image.manifest.annotations ? { annotations: image.manifest.annotations } : {}),
      tags: options.tags ?? [],
      lease,
    });
  };
  return options.lease ? work(options.lease) : store.withLease(work, signal ? { signal } : {});
}

async function convertLayer(
  store: Store,
  descriptor: Descriptor,
  diffId: Digest,
  options: ConvertToEstargzOptions,
  lease: Lease,
): Promise<{ descriptor: Descriptor; diffId: Digest }> {
  const { signal } = options;
  const index = await openLayerIndex({ store, descriptor, diffId, signal });
  const indexer = new LayerIndexer({ store, copy: true });
  const tar = new Digester();
  try {
    const writer = new EstargzWriter({
      level: options.gzipLevel,
      chunkSize: options.chunkSize,
      prioritized: options.prefetch,
      onUncompressed: (chunk) => {
        tar.update(chunk);
        indexer.write(chunk);
      },
    });
    const source = store.fs.createReadStream(index.dataPath, { start: 0, end: Math.max(0, index.data.tarSize - 1) });
    pipeline(source, writer, (err) => {
      if (err) writer.destroy(err);
    });
    const info = await store.blobs.put(writer, { signal });
    const written = await writer.result;
    lease.add(info.digest);
    const newDiffId = tar.digest();
    indexer.finish({ diffId: newDiffId });
    return {
      descriptor: {
        mediaType: MediaTypes.ociLayerGzip,
        digest: info.digest,
        size: info.size,
        annotations: {
          [TOC_DIGEST_ANNOTATION]: written.tocDigest,
          [UNCOMPRESSED_SIZE_ANNOTATION]: String(written.uncompressedSize),
        },
      },
      diffId: newDiffId,
    };
  } catch (err) {
    indexer.abort();
    throw err;
  }
}

/** Options for {@link convertIndexToEstargz}. */
export type ConvertIndexToEstargzOptions = Omit<ConvertToEstargzOptions, 'platform' | 'tags'>;

/**
 * Converts every platform of an image index to eStargz and writes a new OCI index of them (the
 * same platforms and annotations, in the same order); attestation manifests, which describe the
 * images they came with, are left out. Given a single image, converts it. Returns the top
 * descriptor written (an index, or the image's manifest).
 * @throws `ERR_NOT_FOUND` when a platform's manifest is not in the store (pull with `--all-platforms`).
 */
export async function convertIndexToEstargz(
  options: ConvertIndexToEstargzOptions & { image: ImageLike },
): Promise<Descriptor> {
  const { store, image, signal } = options;
  let top: Descriptor;
  if (isLoadedImage(image)) top = image.descriptor;
  else if (typeof image === 'string') top = store.resolveRef(image).descriptor;
  else top = image;
  if (!isIndexMediaType(top.mediaType)) return (await convertToEstargz({ ...options, image: top })).descriptor;
  const work = async (lease: Lease): Promise<Descriptor> => {
    const { value: index } = await store.blobs.readJson<ImageIndex>(top.digest, { size: top.size });
    const manifests: Descriptor[] = [];
    for (const child of index.manifests ?? []) {
      throwIfAborted(signal);
      if (!isManifestMediaType(child.mediaType) || isAttestation(child)) continue;
      const platform = child.platform ?? hostPlatform();
      const loaded = await loadFromBlobs({ blobs: store.blobs, descriptor: child, platform, where: top.digest });
      const converted = await convertToEstargz({ ...options, image: loaded, lease });
      manifests.push({ ...child, ...converted.descriptor, ...(child.platform ? { platform: child.platform } : {}) });
    }
    const bytes = canonicalJsonBytes({
      schemaVersion: 2,
      mediaType: MediaTypes.ociIndex,
      manifests,
      ...(index.annotations ? { annotations: index.annotations } : {}),
    });
    const put = await store.blobs.put(bytes);
    lease.add(put.digest);
    return { mediaType: MediaTypes.ociIndex, digest: put.digest, size: put.size };
  };
  return options.lease ? work(options.lease) : store.withLease(work, signal ? { signal } : {});
}
