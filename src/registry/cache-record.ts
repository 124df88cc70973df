/**
 * A build-cache record as both of its transports read and write it (a cache repository on a
 * registry, cache-remote.ts, and a cache folder in an OCI layout, cache-local.ts): the record
 * image's config, the checks a record must pass before it is used, the merge of the cache index,
 * and how a hit's layer enters the store. No network and no filesystem here.
 */
import { Digester, digestHex, type Digest } from '../digest/digest.js';
import { ErrorCodes, LayerkitError } from '../errors.js';
import { LAYERS_STATE } from '../layer/layer-state.js';
import { checkLayerDiffId, forgetLayerIndex, indexImageLayers } from '../layer/layer-store.js';
import { isLayerMediaType, isManifestMediaType, MediaTypes } from '../oci/media-types.js';
import type { Descriptor, ImageConfig, ImageIndex, Manifest, Platform } from '../oci/types.js';
import type { Lease, Store } from '../store/store.js';
import {
  CACHE_CONFIG_KEY,
  CACHE_KEY_ANNOTATION,
  CACHE_POSITION_ANNOTATION,
  type RemoteCacheEntry,
} from './cache-format.js';

/** The config and manifest annotations of the record image for `entry` (one layer: the step's). */
export function recordImage(
  entry: RemoteCacheEntry,
  platform: Platform,
): { config: ImageConfig; annotations: Record<string, string> } {
  const record = {
    key: entry.key,
    position: entry.position,
    created: entry.created,
    durationMs: entry.durationMs,
    components: entry.components,
  };
  const config = {
    created: entry.created,
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: {},
    rootfs: { type: 'layers', diff_ids: [entry.diffId] },
    history: [{ created: entry.created, created_by: entry.createdBy, comment: 'layerkit build cache' }],
    [CACHE_CONFIG_KEY]: record,
  } as ImageConfig;
  return {
    config,
    annotations: { [CACHE_KEY_ANNOTATION]: entry.key, 'org.opencontainers.image.created': entry.created },
  };
}

/** The cache index's entry for a record image: its manifest, annotated with its key and position. */
export function recordIndexEntry(entry: RemoteCacheEntry, manifest: Descriptor): Descriptor {
  return {
    mediaType: MediaTypes.ociManifest,
    digest: manifest.digest,
    size: manifest.size,
    annotations: { [CACHE_KEY_ANNOTATION]: entry.key, [CACHE_POSITION_ANNOTATION]: entry.position },
  };
}

/**
 * Parses a record's manifest: an image manifest with exactly one layer.
 * @throws `ERR_INVALID_MANIFEST` naming `what`.
 */
export function parseRecordManifest(bytes: Uint8Array, what: string): Manifest {
  const manifest = parseJsonObject<Manifest>(bytes, what);
  if (!isManifestMediaType(manifest.mediaType ?? MediaTypes.ociManifest) || !Array.isArray(manifest.layers))
    throw invalidRecord(`${what} is not an image manifest`);
  if (manifest.layers.length !== 1 || !isLayerMediaType(manifest.layers[0]?.mediaType))
    throw invalidRecord(`${what} does not hold exactly one layer`);
  if (typeof manifest.config?.digest !== 'string' || !DIGEST.test(manifest.config.digest))
    throw invalidRecord(`${what} names no config blob`);
  return manifest;
}

/**
 * The entry a record stands for, from its manifest and config: the config must be the record of
 * this very `key` (a record is only ever looked up by a key computed here) with a single diffID.
 * @throws `ERR_INVALID_MANIFEST` naming `what`.
 */
export function parseRecordConfig(manifest: Manifest, configBytes: Uint8Array, key: Digest, what: string) {
  const config = parseJsonObject<ImageConfig & Record<string, unknown>>(configBytes, what);
  const record = config[CACHE_CONFIG_KEY] as Partial<RemoteCacheEntry> | undefined;
  const diffId = config.rootfs?.diff_ids?.[0];
  if (record?.key !== key)
    throw invalidRecord(`${what} is the record of another key (${String(record?.key)}), not ${key}`);
  if (typeof diffId !== 'string' || !DIGEST.test(diffId) || config.rootfs.diff_ids.length !== 1)
    throw invalidRecord(`${what} has no single diffID`);
  const layer = manifest.layers[0]!;
  const entry: RemoteCacheEntry = {
    key,
    layer: { mediaType: layer.mediaType, digest: layer.digest, size: layer.size },
    diffId: diffId as Digest,
    created: typeof record.created === 'string' ? record.created : (config.created ?? new Date(0).toISOString()),
    durationMs: typeof record.durationMs === 'number' ? record.durationMs : 0,
    position: typeof record.position === 'string' ? record.position : '',
    components: isObject(record.components) ? record.components : {},
    createdBy: config.history?.[0]?.created_by ?? '',
  };
  return entry;
}

/** Options for {@link admitCacheLayer}. */
export interface AdmitCacheLayerOptions {
  store: Store;
  lease: Lease;
  entry: RemoteCacheEntry;
  /** The layer's bytes, asked for only when the store lacks the blob. */
  download: () => Promise<AsyncIterable<Uint8Array>>;
  signal?: AbortSignal | undefined;
}

/**
 * Brings a hit's layer blob into the store, every byte verified against its digest and its
 * diffID, and indexes it (as a pull does). Nothing is kept when a check fails.
 * @returns the blob bytes read from the source (0 when the store had the blob).
 * @throws `EINTEGRITY`/`EBADSIZE`, the source's own errors, `ERR_ABORTED`.
 */
export async function admitCacheLayer(o: AdmitCacheLayerOptions): Promise<number> {
  const { store, lease, entry, signal } = o;
  const layer = entry.layer;
  const stat = store.blobs.stat(layer.digest);
  let read = 0;
  let created = false;
  const createdStates: Digest[] = [];
  try {
    if (stat === undefined || stat.size !== layer.size) {
      const body = await o.download();
      const put = await store.blobs.put(
        (async function* () {
          for await (const chunk of body) {
            read += chunk.length;
            yield chunk;
          }
        })(),
        { expected: { digest: layer.digest, size: layer.size }, signal },
      );
      created = put.created;
    }
    lease.add(layer.digest);
    const fresh = new Set<Digest>();
    const { indexes } = await indexImageLayers({
      store,
      image: { layers: [layer], diffIds: [entry.diffId] },
      onCreated: (d) => (createdStates.push(d), fresh.add(d)),
      ...(signal ? { signal } : {}),
    });
    if (created && !fresh.has(entry.diffId) && indexes[0]!.data.dataBlob !== layer.digest)
      await checkLayerDiffId({ store, descriptor: layer, diffId: entry.diffId, ...(signal ? { signal } : {}) });
    return read;
  } catch (err) {
    for (const d of createdStates) {
      store.removeState(`${LAYERS_STATE}/${digestHex(d)}`);
      forgetLayerIndex(store, d);
    }
    if (created) store.blobs.delete(layer.digest);
    throw err;
  }
}

/**
 * The cache index with every entry of `existing` (by key) and `entries` (over the existing ones'
 * when `oursWin`, else only where missing), sorted by key, marked with `annotations`.
 */
export function mergeCacheEntries(o: {
  existing: readonly Descriptor[];
  entries: ReadonlyMap<string, Descriptor>;
  keyAnnotation: string;
  annotations: Record<string, string>;
  oursWin: boolean;
}): ImageIndex {
  const byKey = new Map<string, Descriptor>();
  for (const d of o.existing) {
    const key = d.annotations?.[o.keyAnnotation];
    if (typeof key === 'string') byKey.set(key, d);
  }
  for (const [key, d] of o.entries) if (o.oursWin || !byKey.has(key)) byKey.set(key, d);
  return {
    schemaVersion: 2,
    mediaType: MediaTypes.ociIndex,
    manifests: [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, d]) => d),
    annotations: { ...o.annotations },
  };
}

/** A sha256 digest as records must name them (nothing else becomes a blob path or a lookup). */
export const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** The sha256 of `bytes`. */
export function sha256Of(bytes: Uint8Array): Digest {
  const d = new Digester();
  d.update(bytes);
  return d.digest();
}

/**
 * Parses JSON that must be an object.
 * @throws `ERR_INVALID_MANIFEST` naming `what`.
 */
export function parseJsonObject<T>(bytes: Uint8Array, what: string): T {
  try {
    const value = JSON.parse(new TextDecoder().decode(bytes)) as unknown;
    if (!isObject(value)) throw new Error('not an object');
    return value as T;
  } catch (err) {
    throw invalidRecord(`${what} is not valid JSON (${(err as Error).message})`);
  }
}

/** True for a plain JSON object. */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The error of a record or index that does not hold what it must. */
export function invalidRecord(message: string): LayerkitError {
  return new LayerkitError(ErrorCodes.ERR_INVALID_MANIFEST, message, {});
}
