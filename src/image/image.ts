/**
 * An image in the store: manifest + config + layers, with the exact bytes of the manifest and
 * config kept (their digests are their identity; they are never re-serialised).
 */
import type { Digest } from '../digest/digest.js';
import { ErrorCodes, LayerkitError } from '../errors.js';
import {
  isConfigMediaType,
  isIndexMediaType,
  isLayerMediaType,
  isManifestMediaType,
  MediaTypes,
} from '../oci/media-types.js';
import type { Descriptor, ImageConfig, ImageIndex, Manifest, Platform } from '../oci/types.js';
import type { BlobStore } from '../store/blobs.js';
import type { Store } from '../store/store.js';
import { hostPlatform, selectManifest } from './platform.js';
import { resolveImageRef } from './resolve-image.js';

/** An image, loaded: descriptors, parsed JSON and the exact bytes behind it. */
export interface Image {
  /** The manifest's descriptor. */
  descriptor: Descriptor;
  manifest: Manifest;
  manifestBytes: Buffer;
  config: ImageConfig;
  configBytes: Buffer;
  /** Layer descriptors, bottom first; the same layer may appear twice. */
  layers: Descriptor[];
  /** `config.rootfs.diff_ids`, one per layer. */
  diffIds: Digest[];
  /** The ref names pointing at this image (or at the index it came from). */
  names: string[];
}

/** Options for {@link loadImage}. */
export interface LoadImageOptions {
  store: Store;
  /** A ref name, digest or unique digest prefix; or a descriptor. */
  image: string | Descriptor;
  /** For an index: which platform to pick (default: the host's). */
  platform?: Platform;
}

/** What the functions that read an image accept: a ref name, digest or digest prefix; a descriptor; or a loaded image. */
export type ImageLike = string | Descriptor | Image;

/** True when `image` is already loaded. */
export function isLoadedImage(image: ImageLike): image is Image {
  return typeof image === 'object' && 'manifest' in image && 'configBytes' in image;
}

/** A loaded image as is; anything else loaded from the store ({@link loadImage}). */
export async function resolveImage({
  store,
  image,
  platform,
}: {
  store: Store;
  image: ImageLike;
  platform?: Platform | undefined;
}): Promise<Image> {
  if (isLoadedImage(image)) return image;
  return loadImage({ store, image, ...(platform ? { platform } : {}) });
}

/** Loads an image from the store, verifying the manifest and config it reads. */
export async function loadImage({ store, image, platform }: LoadImageOptions): Promise<Image> {
  let descriptor: Descriptor;
  let names: string[] = [];
  if (typeof image === 'string') {
    const resolved = resolveImageRef({ store, query: image });
    descriptor = resolved.descriptor;
    names = resolved.names;
  } else {
    descriptor = image;
  }
  const where = typeof image === 'string' ? image : descriptor.digest;
  return loadFromBlobs({ blobs: store.blobs, descriptor, platform: platform ?? hostPlatform(), names, where });
}

/** Options for {@link loadFromBlobs}. */
export interface LoadFromBlobsOptions {
  blobs: BlobStore;
  descriptor: Descriptor;
  platform: Platform;
  names?: string[];
  where?: string;
}

/** Loads an image given a manifest or index descriptor, resolving nested indexes. */
export async function loadFromBlobs({
  blobs,
  descriptor,
  platform,
  names = [],
  where = descriptor.digest,
}: LoadFromBlobsOptions): Promise<Image> {
  let current = descriptor;
  for (let depth = 0; ; depth++) {
    if (depth > 8) throw invalid(`${where}: indexes nested more than 8 deep`, current.digest);
    const { value, bytes } = await blobs.readJson<Partial<Manifest & ImageIndex>>(current.digest, {
      size: current.size,
    });
    const mediaType = current.mediaType ?? value.mediaType;
    if (
      value.mediaType !== undefined &&
      current.mediaType !== undefined &&
      value.mediaType !== current.mediaType &&
      !(isIndexMediaType(value.mediaType) && isIndexMediaType(current.mediaType))
    ) {
      throw invalid(
        `${where}: the descriptor of ${current.digest} says ${current.mediaType} but the blob says ${value.mediaType}; refusing to read it as either (media type confusion)`,
        current.digest,
      );
    }
    if (isIndexMediaType(mediaType) || (mediaType === undefined && Array.isArray(value.manifests))) {
      if (!Array.isArray(value.manifests))
        throw invalid(`${where}: index ${current.digest} has no manifests array`, current.digest);
      current = selectManifest(value.manifests, platform, where);
      continue;
    }
    if (!isManifestMediaType(mediaType) && !(mediaType === undefined && value.config !== undefined)) {
      throw new LayerkitError(
        ErrorCodes.ERR_UNSUPPORTED_MEDIA_TYPE,
        `${where}: ${current.digest} is ${mediaType}, not an image manifest or index`,
        { digest: current.digest, mediaType },
      );
    }
    const manifest = value as Manifest;
    if (manifest.schemaVersion !== 2 || typeof manifest.config !== 'object' || !Array.isArray(manifest.layers)) {
      throw invalid(`${where}: manifest ${current.digest} is not a schema 2 image manifest`, current.digest);
    }
    if (!isConfigMediaType(manifest.config.mediaType)) {
      throw new LayerkitError(
        ErrorCodes.ERR_UNSUPPORTED_MEDIA_TYPE,
        `${where}: config ${manifest.config.digest} has media type ${manifest.config.mediaType}; this is not a container image (an artifact?)`,
        { digest: manifest.config.digest, mediaType: manifest.config.mediaType },
      );
    }
    for (const layer of manifest.layers) {
      if (!isLayerMediaType(layer.mediaType)) {
        throw new LayerkitError(
          ErrorCodes.ERR_UNSUPPORTED_MEDIA_TYPE,
          `${where}: layer ${layer.digest} has media type ${layer.mediaType}, which is not a layer type layerkit can unpack`,
          { digest: layer.digest, mediaType: layer.mediaType },
        );
      }
    }
    const { value: config, bytes: configBytes } = await blobs.readJson<ImageConfig>(manifest.config.digest, {
      size: manifest.config.size,
    });
    const diffIds = config.rootfs?.diff_ids;
    if (config.rootfs?.type !== 'layers' || !Array.isArray(diffIds))
      throw invalid(`${where}: config ${manifest.config.digest} has no rootfs.diff_ids`, manifest.config.digest);
    if (diffIds.length !== manifest.layers.length) {
      throw invalid(
        `${where}: manifest has ${manifest.layers.length} layers but the config lists ${diffIds.length} diff_ids`,
        current.digest,
      );
    }
    return {
      descriptor: { mediaType: mediaType ?? MediaTypes.ociManifest, digest: current.digest, size: current.size },
      manifest,
      manifestBytes: bytes,
      config,
      configBytes,
      layers: manifest.layers,
      diffIds,
      names,
    };
  }
}

function invalid(message: string, digest: Digest): LayerkitError {
  return new LayerkitError(ErrorCodes.ERR_INVALID_MANIFEST, message, { digest });
}
