/**
 * Pulling an image: the tag is resolved with a HEAD (a version check, not a pull, on Docker Hub),
 * the manifest fetched by digest only when the store lacks it, an index narrowed to one platform
 * (attestations skipped) unless every platform is wanted, and only the blobs the store lacks are
 * downloaded: in parallel (bounded per registry), each digest once, every byte verified while it
 * streams into the store, an interrupted download resumed with `Range` (pull-manifest.ts and
 * pull-blobs.ts). Layers are indexed on first use (by whatever reads them), not here. A failed
 * or cancelled pull leaves the store exactly as it was.
 */
import type { Digest } from '../digest/digest.js';
import { ErrorCodes, LayerkitError, throwIfAborted } from '../errors.js';
import { loadFromBlobs, type Image } from '../image/image.js';
import { hostPlatform, isAttestation, parsePlatform, selectManifest } from '../image/platform.js';
import { isIndexMediaType, isManifestMediaType } from '../oci/media-types.js';
import type { Descriptor, ImageIndex, Platform } from '../oci/types.js';
import { withTag } from '../store/refs.js';
import type { Store } from '../store/store.js';
import { openRegistry, type RegistryClient, type RegistryOptions } from './client.js';
import { ProgressTracker, type TransferProgress, type TransferStatus } from './progress.js';
import { manifestReference, parseRegistryReference, type RegistryReference } from './reference.js';
import { rememberBlobSources } from './sources.js';
import { withRef } from './with-ref.js';
import { mirrorsFor } from './mirrors.js';
import { fetchManifestBlobs } from './pull-blobs.js';
import {
  fetchManifest,
  getAndStoreManifest,
  MANIFEST_ACCEPT,
  MANIFEST_LIMIT,
  resolveManifest,
} from './pull-manifest.js';
import type { PullState } from './pull-state.js';

export { MANIFEST_ACCEPT, MANIFEST_LIMIT };

/** Options for {@link pullImage}. */
export interface PullImageOptions extends RegistryOptions {
  store: Store;
  /** What to pull: `alpine`, `alpine:3.20`, `127.0.0.1:5000/app:1`, `name@sha256:...`. */
  ref: string;
  /** The platform to pick from an index (`linux/arm64` or an object; default: this machine's). */
  platform?: Platform | string | undefined;
  /** Keep the whole index: every platform's manifest and blobs (attestations included). */
  allPlatforms?: boolean | undefined;
  /** Name to tag the image with in the store (default: the reference, normalised). */
  tag?: string | undefined;
  /** Names to tag the image with, all at once (with `tag`, if given, first). */
  tags?: readonly string[] | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ((event: TransferProgress) => void) | undefined;
}

/** What {@link pullImage} did. */
export interface PullResult {
  /** The reference, normalised. */
  ref: RegistryReference;
  /** What the reference names on the registry: an index or a manifest. */
  resolved: Descriptor;
  /** The image for the platform asked for (the platform manifest, not the index). */
  image: Image;
  /** The (first) name it is tagged with in the store. */
  tag: string;
  /** Every name it is tagged with in the store. */
  tags: string[];
  /** Blob bytes moved over the network. */
  bytesDownloaded: number;
  /** Each blob and what happened to it. */
  blobs: Array<{ digest: Digest; status: TransferStatus; size: number }>;
}

/**
 * Pulls an image from a registry into the store and tags it.
 * @example const { image } = await pullImage({ store, ref: '127.0.0.1:5000/app:1' });
 * @throws `ERR_REGISTRY`, `ERR_REGISTRY_AUTH`, `ERR_REGISTRY_TLS`, `EINTEGRITY`/`EBADSIZE` (a blob
 *   whose bytes do not match; data names ref, registry and blob), `ERR_UNSUPPORTED_MEDIA_TYPE`,
 *   `ERR_NO_MATCHING_PLATFORM`, `ERR_ABORTED`.
 */
export async function pullImage(options: PullImageOptions): Promise<PullResult> {
  const { signal } = options;
  const ref = parseRegistryReference(options.ref);
  const platform =
    typeof options.platform === 'string' ? parsePlatform(options.platform) : (options.platform ?? hostPlatform());
  throwIfAborted(signal);
  const hosts = mirrorsFor(ref.registry, options.env ?? process.env);
  let lastError: unknown;
  for (const [i, host] of hosts.entries()) {
    const insecure = host.insecure ? withInsecure(options.insecure, host.host) : options.insecure;
    const client = await openRegistry({ ...options, insecure, registry: host.registry, host: host.host });
    try {
      return await pullFrom(client, ref, platform, options);
    } catch (err) {
      lastError = err;
      // A mirror that fails for a reason other than the image itself hands over to the next host.
      const last = i === hosts.length - 1;
      if (last || !isMirrorMiss(err)) throw err;
    } finally {
      await client.close();
    }
  }
  throw lastError;
}

function withInsecure(list: RegistryOptions['insecure'], host: string): RegistryOptions['insecure'] {
  if (list === true) return true;
  return [...(Array.isArray(list) ? list : []), host];
}

function isMirrorMiss(err: unknown): boolean {
  return (
    err instanceof LayerkitError &&
    (err.code === ErrorCodes.ERR_REGISTRY ||
      err.code === ErrorCodes.ERR_REGISTRY_TLS ||
      err.code === ErrorCodes.ERR_NOT_FOUND) &&
    err.data['blob'] === undefined
  );
}

async function pullFrom(
  client: RegistryClient,
  ref: RegistryReference,
  platform: Platform,
  options: PullImageOptions,
): Promise<PullResult> {
  const { store, signal } = options;
  return store.withLease(async (lease) => {
    const state: PullState = {
      client,
      ref,
      store,
      lease,
      progress: new ProgressTracker(options.onProgress),
      signal,
      added: new Set(),
      blobs: new Map(),
      scopes: [`repository:${ref.repository}:pull`],
      retries: options.retries ?? 4,
      retryDelayMs: options.retryDelayMs ?? 400,
    };
    try {
      const reference = manifestReference(ref);
      // By digest and not in the store: one GET fetches and checks the bytes (a HEAD first would
      // be a round trip for nothing). A tag is resolved with a HEAD, then fetched by digest if new.
      const byDigest = reference === ref.digest && store.blobs.stat(ref.digest) === undefined;
      const got = byDigest ? await getAndStoreManifest(state, reference) : undefined;
      const resolved = got?.descriptor ?? (await resolveManifest(state, reference));
      const top = got?.value ?? (await fetchManifest(state, resolved));
      let chosen: Descriptor = resolved;
      const images: Descriptor[] = [];
      if (isIndexMediaType(resolved.mediaType)) {
        const index = top as ImageIndex;
        if (options.allPlatforms) {
          for (const child of index.manifests) {
            if (!isManifestMediaType(child.mediaType) && !isIndexMediaType(child.mediaType)) continue;
            await fetchManifest(state, child);
            if (isManifestMediaType(child.mediaType)) {
              await fetchManifestBlobs(state, child);
              if (!isAttestation(child)) images.push(child);
            }
          }
          chosen = selectManifest(index.manifests, platform, ref.full);
        } else {
          chosen = selectManifest(index.manifests, platform, ref.full);
          if (!isManifestMediaType(chosen.mediaType)) {
            throw new LayerkitError(
              ErrorCodes.ERR_UNSUPPORTED_MEDIA_TYPE,
              `${ref.full}: the index entry for ${chosen.digest} has media type ${chosen.mediaType}, not an image manifest`,
              { ref: ref.full, registry: client.registry, digest: chosen.digest, mediaType: chosen.mediaType },
            );
          }
          await fetchManifest(state, chosen);
          await fetchManifestBlobs(state, chosen);
          images.push(chosen);
        }
      } else {
        await fetchManifestBlobs(state, resolved);
        images.push(resolved);
      }
      // Layers are not indexed here: every reader (flatten, mount, FROM, export, history) opens
      // a layer's index on first use and builds it from the blob then, checking the diffID the
      // config claims. A pull moves and verifies bytes, as skopeo does, and nothing more.
      let image: Image | undefined;
      for (const descriptor of images) {
        const loaded = await loadFromBlobs({ blobs: store.blobs, descriptor, platform, where: ref.full });
        if (descriptor.digest === chosen.digest) image = loaded;
      }
      image ??= await loadFromBlobs({ blobs: store.blobs, descriptor: chosen, platform, where: ref.full });
      throwIfAborted(signal);
      const tags = [...new Set([...(options.tag !== undefined ? [options.tag] : []), ...(options.tags ?? [])])];
      if (tags.length === 0) tags.push(ref.familiar);
      const tag = tags[0]!;
      const tagged = options.allPlatforms && isIndexMediaType(resolved.mediaType) ? resolved : image.descriptor;
      // All names in one index update: a bad name tags nothing.
      await store.updateIndex((index) => ({
        index: tags.reduce((next, name) => withTag(next, name, tagged), index),
        result: undefined,
      }));
      rememberBlobSources(store, [...state.blobs.keys()], ref.registry, ref.repository);
      return {
        ref,
        resolved,
        image: { ...image, names: tags },
        tag,
        tags,
        bytesDownloaded: state.progress.totals.bytes,
        blobs: [...state.blobs].map(([digest, b]) => ({ digest, ...b })),
      };
    } catch (err) {
      for (const d of state.added) store.blobs.delete(d);
      throw withRef(err, ref.full);
    }
  });
}
