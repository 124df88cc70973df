/**
 * The manifest bytes a reference points at, exactly as stored: what `crane manifest` and
 * `crane digest` print. An index stays an index unless a platform is asked for.
 */
import type { Digest } from '../digest/digest.js';
import type { Descriptor, Platform } from '../oci/types.js';
import type { Store } from '../store/store.js';
import { loadImage } from './image.js';
import { resolveImageRef } from './resolve-image.js';

/** Options for {@link readRawManifest}. */
export interface ReadRawManifestOptions {
  store: Store;
  /** A ref name, digest or unique digest prefix. */
  image: string;
  /** Pick this platform's manifest from an index (default: the index itself, as crane does). */
  platform?: Platform | undefined;
}

/** A manifest or index as stored. */
export interface RawManifest {
  descriptor: Descriptor;
  /** The exact stored bytes (their sha256 is `descriptor.digest`). */
  bytes: Buffer;
  digest: Digest;
}

/**
 * Reads the manifest (or index) a reference names, verified against its digest.
 * @example const { digest, bytes } = await readRawManifest({ store, image: 'app:1' });
 */
export async function readRawManifest({ store, image, platform }: ReadRawManifestOptions): Promise<RawManifest> {
  if (platform) {
    const loaded = await loadImage({ store, image, platform });
    return { descriptor: loaded.descriptor, bytes: loaded.manifestBytes, digest: loaded.descriptor.digest };
  }
  const { descriptor } = resolveImageRef({ store, query: image });
  const bytes = await store.blobs.read(descriptor.digest, { size: descriptor.size });
  return { descriptor, bytes, digest: descriptor.digest };
}
