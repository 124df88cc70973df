/**
 * Writing images: config and manifest blobs (canonical JSON for the ones layerkit creates, exact
 * bytes for the ones it was given), then the tag. Blobs first, `index.json` last, so a crash
 * leaves only unreferenced blobs behind.
 */
import { ErrorCodes, LayerkitError } from '../errors.js';
import { canonicalJsonBytes } from '../oci/canonical-json.js';
import { MediaTypes } from '../oci/media-types.js';
import type { Descriptor, ImageConfig, Manifest } from '../oci/types.js';
import type { Lease, Store } from '../store/store.js';
import { loadFromBlobs, type Image } from './image.js';
import { hostPlatform } from './platform.js';

/** Options for {@link writeImage}. */
export interface WriteImageOptions {
  store: Store;
  /** The config to serialise (canonical JSON), or its exact bytes. */
  config: ImageConfig | Buffer;
  /** Layer descriptors, bottom first (their blobs must already be in the store). */
  layers: Descriptor[];
  /** Manifest annotations. */
  annotations?: Record<string, string>;
  /** Tags to point at the new image. */
  tags?: string[];
  /** Protects the new blobs from a concurrent gc until the caller tags them. */
  lease?: Lease;
}

/** Writes config + manifest and tags the image; returns the loaded image. */
export async function writeImage({
  store,
  config,
  layers,
  annotations,
  tags = [],
  lease,
}: WriteImageOptions): Promise<Image> {
  const configBytes = Buffer.isBuffer(config) ? config : canonicalJsonBytes(config);
  const parsed = Buffer.isBuffer(config) ? (JSON.parse(config.toString('utf8')) as ImageConfig) : config;
  if (parsed.rootfs.diff_ids.length !== layers.length) {
    throw new LayerkitError(
      ErrorCodes.ERR_INVALID_MANIFEST,
      `an image needs one diff_id per layer: the config lists ${parsed.rootfs.diff_ids.length}, the manifest ${layers.length}`,
      {},
    );
  }
  for (const layer of layers) {
    const stat = store.blobs.stat(layer.digest);
    if (stat === undefined || stat.size !== layer.size) {
      throw new LayerkitError(
        ErrorCodes.ERR_NOT_FOUND,
        `layer ${layer.digest} is not in the store with size ${layer.size}`,
        { digest: layer.digest },
      );
    }
  }
  const configInfo = await store.blobs.put(configBytes);
  lease?.add(configInfo.digest);
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: MediaTypes.ociManifest,
    config: { mediaType: MediaTypes.ociConfig, digest: configInfo.digest, size: configInfo.size },
    layers: layers.map((l) => ({
      mediaType: l.mediaType,
      digest: l.digest,
      size: l.size,
      ...(l.annotations ? { annotations: l.annotations } : {}),
    })),
    ...(annotations && Object.keys(annotations).length > 0 ? { annotations } : {}),
  };
  const manifestInfo = await store.blobs.put(canonicalJsonBytes(manifest));
  lease?.add(manifestInfo.digest);
  const descriptor: Descriptor = {
    mediaType: MediaTypes.ociManifest,
    digest: manifestInfo.digest,
    size: manifestInfo.size,
  };
  for (const tag of tags) await store.tag(tag, descriptor);
  return loadFromBlobs({ blobs: store.blobs, descriptor, platform: hostPlatform(), names: tags });
}
