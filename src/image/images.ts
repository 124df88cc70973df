/**
 * The images in a store, as `docker images` shows them, and removing them (`docker rmi`).
 * Untagged images (imported without a name) are kept as roots and listed without a name.
 */
import type { Digest } from '../digest/digest.js';
import { ErrorCodes, LayerkitError } from '../errors.js';
import { isIndexMediaType, isManifestMediaType } from '../oci/media-types.js';
import type { Descriptor } from '../oci/types.js';
import { digestPrefix, refMatches, REF_NAME_ANNOTATION } from '../store/refs.js';
import type { Store } from '../store/store.js';
import { loadImage } from './image.js';

/** The root kind untagged images are kept under. */
export const UNTAGGED_ROOT = 'untagged';

/** One row of `layerkit images`. */
export interface ImageSummary {
  names: string[];
  /** The manifest (or index) digest. */
  digest: Digest;
  /** The config digest (Docker's image ID). */
  id: Digest | undefined;
  created: string | undefined;
  /** Bytes of config and layer blobs as stored. */
  size: number;
  layers: number;
  mediaType: string;
}

/** Lists the images of a store, grouped by digest, in the order they were tagged. */
export async function listImages({ store }: { store: Store }): Promise<ImageSummary[]> {
  const byDigest = new Map<string, { descriptor: Descriptor; names: string[] }>();
  for (const { name, descriptor } of store.listRefs()) {
    const e = byDigest.get(descriptor.digest) ?? { descriptor, names: [] };
    e.names.push(name);
    byDigest.set(descriptor.digest, e);
  }
  for (const root of store.listRoots()) {
    if (root.kind !== UNTAGGED_ROOT) continue;
    for (const d of root.digests) {
      if (!byDigest.has(d) && store.blobs.has(d))
        byDigest.set(d, { descriptor: { mediaType: '', digest: d, size: store.blobs.stat(d)?.size ?? 0 }, names: [] });
    }
  }
  const out: ImageSummary[] = [];
  for (const { descriptor, names } of byDigest.values()) {
    if (descriptor.mediaType && !isManifestMediaType(descriptor.mediaType) && !isIndexMediaType(descriptor.mediaType))
      continue;
    try {
      const image = await loadImage({
        store,
        image: descriptor.mediaType ? descriptor : await sniffDescriptor(store, descriptor.digest),
      });
      out.push({
        names,
        digest: descriptor.digest,
        id: image.manifest.config.digest,
        created: image.config.created,
        size: image.manifest.config.size + image.layers.reduce((n, l) => n + l.size, 0),
        layers: image.layers.length,
        mediaType: image.descriptor.mediaType,
      });
    } catch {
      out.push({
        names,
        digest: descriptor.digest,
        id: undefined,
        created: undefined,
        size: 0,
        layers: 0,
        mediaType: descriptor.mediaType,
      });
    }
  }
  return out;
}

async function sniffDescriptor(store: Store, digest: Digest): Promise<Descriptor> {
  const { value, bytes } = await store.blobs.readJson<{ mediaType?: string; manifests?: unknown }>(digest);
  const mediaType =
    value.mediaType ??
    (value.manifests ? 'application/vnd.oci.image.index.v1+json' : 'application/vnd.oci.image.manifest.v1+json');
  return { mediaType, digest, size: bytes.length };
}

/** Options for {@link removeImage}. */
export interface RemoveImageOptions {
  store: Store;
  /** A name (removes that name) or a digest / unique prefix (removes every name of that image). */
  ref: string;
}

/** Removes a name, or an image with all its names. Blobs stay until `gc`. Returns the removed names. */
export async function removeImage({ store, ref }: RemoveImageOptions): Promise<{ removed: string[]; digest: Digest }> {
  const named = store.listRefs().filter((r) => refMatches(r.name, ref));
  if (named.length > 0) {
    await store.untag(ref);
    return { removed: named.map((r) => r.name), digest: named[named.length - 1]!.descriptor.digest };
  }
  const prefix = digestPrefix(ref);
  if (prefix === undefined)
    throw new LayerkitError(
      ErrorCodes.ERR_NOT_FOUND,
      `no image named ${JSON.stringify(ref)} in the store; 'layerkit images' lists what is there`,
      { ref },
    );
  const untagged = store.listRoots().filter((r) => r.kind === UNTAGGED_ROOT && r.name.startsWith(prefix));
  let digest: Digest;
  try {
    digest = store.resolveRef(ref).descriptor.digest;
  } catch (err) {
    if (untagged.length !== 1) throw err;
    digest = untagged[0]!.name as Digest;
  }
  const removed: string[] = [];
  await store.updateIndex((index) => ({
    index: {
      ...index,
      manifests: index.manifests.filter((d) => {
        if (d.digest !== digest) return true;
        const n = d.annotations?.[REF_NAME_ANNOTATION];
        if (n) removed.push(n);
        return false;
      }),
    },
    result: undefined,
  }));
  store.removeRoot(UNTAGGED_ROOT, digest);
  return { removed, digest };
}
