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
import { resolveImageRef } from './resolve-image.js';
import { matchImageFilters, parseImageFilters, parseUntil } from './image-filters.js';

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
  /** The config's labels (`config.Labels`). */
  labels: Record<string, string>;
}

/** Options for {@link listImages}. */
export interface ListImagesOptions {
  store: Store;
  /**
   * `docker images --filter` filters, `KEY=VALUE`: `dangling=true|false`, `reference=PATTERN`,
   * `label=KEY[=VALUE]`, `before=IMAGE`, `since=IMAGE`, `until=DURATION|TIMESTAMP` (see
   * {@link parseImageFilters}). A `reference` filter keeps only the names it matches.
   */
  filters?: readonly string[] | undefined;
  /** Milliseconds since the epoch an `until=DURATION` counts back from (default `Date.now()`). */
  now?: number | undefined;
}

/**
 * Lists the images of a store, grouped by digest, in the order they were tagged.
 * @example await listImages({ store, filters: ['dangling=true'] })
 */
export async function listImages({ store, filters, now }: ListImagesOptions): Promise<ImageSummary[]> {
  const parsed = filters && filters.length > 0 ? parseImageFilters(filters) : undefined;
  const at = now ?? Date.now();
  const times = parsed
    ? {
        before: await createdTimes(store, parsed.before),
        since: await createdTimes(store, parsed.since),
        until: parsed.until.map((u) => parseUntil(u, at)),
      }
    : undefined;
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
  // Images are read a batch at a time: each read is a few small files, and one after another the
  // process mostly waits on the file system (50 images: a quarter of `layerkit images`' time).
  const entries = [...byDigest.values()];
  const out: ImageSummary[] = [];
  for (let i = 0; i < entries.length; i += SUMMARY_BATCH) {
    const batch = entries.slice(i, i + SUMMARY_BATCH).map((e) => summarize(store, e.descriptor, e.names));
    for (const summary of await Promise.all(batch)) if (summary) out.push(summary);
  }
  if (!parsed || !times) return out;
  const kept: ImageSummary[] = [];
  for (const image of out) {
    const created = image.created === undefined ? undefined : Date.parse(image.created);
    const names = matchImageFilters(
      { names: image.names, labels: image.labels, created: Number.isNaN(created) ? undefined : created },
      parsed,
      times,
    );
    if (names) kept.push({ ...image, names });
  }
  return kept;
}

/** How many images {@link listImages} reads at once (bounded, so a large store keeps its descriptors). */
const SUMMARY_BATCH = 32;

/** One image's row; a manifest that cannot be read still shows, with what the ref says. */
async function summarize(store: Store, descriptor: Descriptor, names: string[]): Promise<ImageSummary | undefined> {
  if (descriptor.mediaType && !isManifestMediaType(descriptor.mediaType) && !isIndexMediaType(descriptor.mediaType))
    return undefined;
  try {
    const image = await loadImage({
      store,
      image: descriptor.mediaType ? descriptor : await sniffDescriptor(store, descriptor.digest),
    });
    return {
      names,
      digest: descriptor.digest,
      id: image.manifest.config.digest,
      created: image.config.created,
      size: image.manifest.config.size + image.layers.reduce((n, l) => n + l.size, 0),
      layers: image.layers.length,
      mediaType: image.descriptor.mediaType,
      labels: { ...(image.config.config?.Labels ?? {}) },
    };
  } catch {
    return {
      names,
      digest: descriptor.digest,
      id: undefined,
      created: undefined,
      size: 0,
      layers: 0,
      mediaType: descriptor.mediaType,
      labels: {},
    };
  }
}

/** The creation times of the images `before=`/`since=` name (ERR_NOT_FOUND for an unknown one). */
async function createdTimes(store: Store, refs: string[]): Promise<number[]> {
  const times: number[] = [];
  for (const ref of refs) {
    const { config } = await loadImage({ store, image: ref });
    const t = config.created === undefined ? Number.NaN : Date.parse(config.created);
    times.push(Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t);
  }
  return times;
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
    throw new LayerkitError(ErrorCodes.ERR_NOT_FOUND, `no image named ${JSON.stringify(ref)} in the store`, { ref });
  const untagged = store.listRoots().filter((r) => r.kind === UNTAGGED_ROOT && r.name.startsWith(prefix));
  let digest: Digest;
  try {
    digest = resolveImageRef({ store, query: ref }).descriptor.digest;
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
