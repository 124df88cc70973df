/**
 * The remote build cache, in layerkit's own format (reference §7.4): one plain OCI image per cache
 * key, tagged `<cache ref tag>-<key hex>` (one layer, the step's; the config's
 * `dev.layerkit.cache.v1` holds the record and the key components), an OCI index at the cache
 * ref's own tag listing them (each entry annotated with its key and Dockerfile position), and the
 * inline cache: the same records written into a built image's config, so `--cache-from IMAGE`
 * needs no cache repository. Every byte read is verified; a record is only ever looked up by a
 * key the builder computed itself.
 */
import type { Digest } from '../digest/digest.js';
import { ErrorCodes, LayerkitError, throwIfAborted } from '../errors.js';
import { parsePlatform, selectManifest } from '../image/platform.js';
import { writeImage } from '../image/write-image.js';
import { isIndexMediaType, isLayerMediaType } from '../oci/media-types.js';
import type { Descriptor, ImageConfig, ImageIndex, Manifest } from '../oci/types.js';
import type { Lease, Store } from '../store/store.js';
import { header, openRegistry, statusError, type RegistryClient, type RegistryOptions } from './client.js';
import { MANIFEST_ACCEPT, MANIFEST_LIMIT } from './pull.js';
import { pushImage } from './push.js';
import { apiHost } from './reference.js';
import { mergeCacheIndex } from './cache-index.js';
import {
  admitCacheLayer,
  isObject,
  parseJsonObject,
  parseRecordConfig,
  parseRecordManifest,
  recordImage,
  recordIndexEntry,
  sha256Of,
} from './cache-record.js';
import {
  CACHE_CONFIG_KEY,
  CACHE_KEY_ANNOTATION,
  CACHE_POSITION_ANNOTATION,
  cacheRecordTag,
  parseCacheReference,
  type CacheRecordSource,
  type CacheReference,
  type InlineCacheRecord,
  type RemoteCacheEntry,
  type RemoteLookup,
} from './cache-format.js';

export {
  CACHE_CONFIG_KEY,
  CACHE_KEY_ANNOTATION,
  CACHE_POSITION_ANNOTATION,
  DEFAULT_CACHE_TAG,
  cacheRecordTag,
  parseCacheReference,
  type CacheReference,
  type InlineCacheRecord,
  type RemoteCacheEntry,
  type RemoteLookup,
} from './cache-format.js';

/** Options for {@link openCacheSource}. */
export interface OpenCacheSourceOptions extends RegistryOptions {
  /** The cache reference or image (with an inline cache). */
  ref: string;
  /** The build's platform (`linux/amd64`): picks the image of an index. */
  platform: string;
  signal?: AbortSignal | undefined;
}

interface SourceState {
  client: RegistryClient;
  cache: CacheReference;
  scopes: string[];
  signal: AbortSignal | undefined;
}

/**
 * A registry the build reads cache records from: a cache repository (records and their index),
 * an image with an inline cache, or both. Open with {@link openCacheSource}; `close()` it.
 */
export class RemoteCacheSource implements CacheRecordSource {
  /** The reference as the user gave it (what progress, history and explain show). */
  readonly ref: string;
  /** Why the source could not be read at all (every lookup is then `invalid` with it). */
  readonly unavailable: string | undefined;
  readonly #state: SourceState | undefined;
  readonly #indexed: Map<Digest, { descriptor: Descriptor; position?: string }>;
  readonly #positions: Map<string, Digest>;
  readonly #inline: Map<Digest, RemoteCacheEntry>;
  readonly #inlineByPosition: Map<string, RemoteCacheEntry>;

  /** @internal Use {@link openCacheSource}. */
  constructor(o: {
    ref: string;
    state?: SourceState;
    unavailable?: string;
    indexed?: Map<Digest, { descriptor: Descriptor; position?: string }>;
    inline?: RemoteCacheEntry[];
  }) {
    this.ref = o.ref;
    this.unavailable = o.unavailable;
    this.#state = o.state;
    this.#indexed = o.indexed ?? new Map();
    this.#positions = new Map();
    for (const [key, e] of this.#indexed) if (e.position) this.#positions.set(e.position, key);
    this.#inline = new Map((o.inline ?? []).map((e) => [e.key, e]));
    this.#inlineByPosition = new Map((o.inline ?? []).map((e) => [e.position, e]));
  }

  /** Looks `key` up: the inline records first, then the cache repository (index, else the record's tag). */
  async lookup(key: Digest): Promise<RemoteLookup> {
    if (this.unavailable !== undefined || this.#state === undefined)
      return { status: 'invalid', reason: this.unavailable ?? 'not open' };
    const inline = this.#inline.get(key);
    if (inline) return { status: 'hit', entry: inline, repository: this.#state.cache.ref.repository };
    const s = this.#state;
    const reference = this.#indexed.get(key)?.descriptor.digest ?? cacheRecordTag(s.cache, key);
    try {
      const got = await getManifest(s, reference);
      if (got === undefined) return { status: 'absent' };
      const entry = await readRecord(s, got.bytes, got.digest, key);
      return { status: 'hit', entry, repository: s.cache.ref.repository };
    } catch (err) {
      if (err instanceof LayerkitError && (err.code === ErrorCodes.ERR_ABORTED || s.signal?.aborted)) throw err;
      return { status: 'invalid', reason: (err as Error).message };
    }
  }

  /** The components the source recorded for a Dockerfile position (to explain a miss), if any. */
  async componentsAt(position: string): Promise<Record<string, unknown> | undefined> {
    const inline = this.#inlineByPosition.get(position);
    if (inline) return inline.components;
    const key = this.#positions.get(position);
    if (key === undefined || this.#state === undefined) return undefined;
    const found = await this.lookup(key);
    return found.status === 'hit' ? found.entry.components : undefined;
  }

  /**
   * Brings a hit's layer blob into the store, every byte verified against its digest and its
   * diffID, and indexes it (as a pull does). Nothing is kept when a check fails.
   * @returns the blob bytes downloaded (0 when the store had it).
   * @throws `EINTEGRITY`/`EBADSIZE` naming the registry and blob, `ERR_REGISTRY`, `ERR_ABORTED`.
   */
  async fetchLayer(o: { store: Store; lease: Lease; entry: RemoteCacheEntry; repository: string }): Promise<number> {
    const s = this.#state!;
    const layer = o.entry.layer;
    try {
      return await admitCacheLayer({
        store: o.store,
        lease: o.lease,
        entry: o.entry,
        signal: s.signal,
        download: async () => {
          const what = `blob ${layer.digest} of ${this.ref}`;
          const res = await s.client.send({
            method: 'GET',
            url: `/v2/${o.repository}/blobs/${layer.digest}`,
            scopes: [`repository:${o.repository}:pull`],
            what,
            signal: s.signal,
          });
          if (res.status !== 200) throw await statusError(s.client, res, what, { ref: this.ref, blob: layer.digest });
          return res.body as AsyncIterable<Uint8Array>;
        },
      });
    } catch (err) {
      if (err instanceof LayerkitError && err.data['registry'] === undefined) {
        throw new LayerkitError(
          err.code,
          `${err.message} (layer ${layer.digest} of the cache record ${o.entry.key} from ${this.ref})`,
          { ...err.data, ref: this.ref, registry: s.client.registry, blob: layer.digest },
          { cause: err },
        );
      }
      throw err;
    }
  }

  /** Closes the connections. */
  async close(): Promise<void> {
    await this.#state?.client.close();
  }
}

/**
 * Opens a cache source: reads the index at the reference's tag, or the image there and the
 * inline cache in its config. A source that cannot be read is returned `unavailable` (each of its
 * lookups then explains why), as BuildKit goes on without a cache it cannot import.
 */
export async function openCacheSource(options: OpenCacheSourceOptions): Promise<RemoteCacheSource> {
  const { signal } = options;
  throwIfAborted(signal);
  const cache = parseCacheReference(options.ref);
  const client = await openRegistry({ ...options, registry: cache.ref.registry, host: apiHost(cache.ref.registry) });
  const state: SourceState = { client, cache, scopes: [`repository:${cache.ref.repository}:pull`], signal };
  try {
    const top = await getManifest(state, cache.tag);
    if (top === undefined) return new RemoteCacheSource({ ref: options.ref, state });
    const parsed = parseJsonObject<Manifest & ImageIndex>(top.bytes, `manifest ${options.ref}`);
    if (isIndexMediaType(parsed.mediaType ?? '') || Array.isArray(parsed.manifests)) {
      const index = parsed as ImageIndex;
      if (index.annotations?.[CACHE_CONFIG_KEY] === 'index') {
        const indexed = new Map<Digest, { descriptor: Descriptor; position?: string }>();
        for (const d of index.manifests) {
          const key = d.annotations?.[CACHE_KEY_ANNOTATION];
          if (typeof key !== 'string' || !/^sha256:[a-f0-9]{64}$/.test(key)) continue;
          const position = d.annotations?.[CACHE_POSITION_ANNOTATION];
          indexed.set(key as Digest, { descriptor: d, ...(position ? { position } : {}) });
        }
        return new RemoteCacheSource({ ref: options.ref, state, indexed });
      }
      // An image index: the inline cache of the build platform's image.
      const chosen = selectManifest(index.manifests, parsePlatform(options.platform), options.ref);
      const child = await getManifest(state, chosen.digest);
      if (child === undefined) return new RemoteCacheSource({ ref: options.ref, state });
      return new RemoteCacheSource({ ref: options.ref, state, inline: await readInline(state, child.bytes) });
    }
    return new RemoteCacheSource({ ref: options.ref, state, inline: await readInline(state, top.bytes) });
  } catch (err) {
    if (err instanceof LayerkitError && err.code === ErrorCodes.ERR_ABORTED) {
      await client.close();
      throw err;
    }
    return new RemoteCacheSource({
      ref: options.ref,
      state,
      unavailable: `the cache ${options.ref} could not be read: ${(err as Error).message}`,
    });
  }
}

/** GETs a manifest by tag or digest; undefined on 404. Verifies its digest (asked for or claimed) and size. */
async function getManifest(s: SourceState, reference: string): Promise<{ bytes: Buffer; digest: Digest } | undefined> {
  const { client, cache } = s;
  const what = `manifest ${cache.ref.registry}/${cache.ref.repository}:${reference}`;
  const res = await client.send({
    method: 'GET',
    url: `/v2/${cache.ref.repository}/manifests/${reference}`,
    headers: { accept: MANIFEST_ACCEPT },
    scopes: s.scopes,
    what,
    signal: s.signal,
  });
  if (res.status === 404) {
    await res.body.dump().catch(() => undefined);
    return undefined;
  }
  if (res.status !== 200) throw await statusError(client, res, what, { ref: cache.ref.full });
  const bytes = await readLimited(res.body, MANIFEST_LIMIT, what);
  const digest = sha256Of(bytes);
  const wanted = reference.startsWith('sha256:') ? reference : header(res, 'docker-content-digest');
  if (wanted?.startsWith('sha256:') && wanted !== digest)
    throw new LayerkitError(ErrorCodes.EINTEGRITY, `${what}: the bytes hash to ${digest}, not ${wanted}`, {
      registry: client.registry,
      blob: wanted,
      found: digest,
    });
  return { bytes, digest };
}

/** GETs a small blob by digest, verified. */
async function getBlob(s: SourceState, d: Descriptor): Promise<Buffer> {
  const { client, cache } = s;
  const what = `blob ${d.digest} of ${cache.ref.registry}/${cache.ref.repository}`;
  const res = await client.send({
    method: 'GET',
    url: `/v2/${cache.ref.repository}/blobs/${d.digest}`,
    scopes: s.scopes,
    what,
    signal: s.signal,
  });
  if (res.status !== 200) throw await statusError(client, res, what, { ref: cache.ref.full, blob: d.digest });
  const bytes = await readLimited(res.body, MANIFEST_LIMIT, what);
  const digest = sha256Of(bytes);
  if (digest !== d.digest || bytes.length !== d.size)
    throw new LayerkitError(
      ErrorCodes.EINTEGRITY,
      `${what}: the registry sent ${bytes.length} bytes that hash to ${digest}, not ${d.size} bytes of ${d.digest}`,
      { registry: client.registry, blob: d.digest, found: digest },
    );
  return bytes;
}

/** Reads and checks one record image: one layer, a config whose record names this very key. */
async function readRecord(s: SourceState, bytes: Buffer, digest: Digest, key: Digest): Promise<RemoteCacheEntry> {
  const what = `the cache record ${digest}`;
  const manifest = parseRecordManifest(bytes, what);
  return parseRecordConfig(manifest, await getBlob(s, manifest.config), key, what);
}

/** The inline cache of an image (its config's `dev.layerkit.cache.v1`), as entries on its own layers. */
async function readInline(s: SourceState, bytes: Buffer): Promise<RemoteCacheEntry[]> {
  const manifest = parseJsonObject<Manifest>(bytes, `manifest ${s.cache.ref.full}`);
  if (!Array.isArray(manifest.layers) || typeof manifest.config?.digest !== 'string') return [];
  const config = parseJsonObject<ImageConfig & Record<string, unknown>>(await getBlob(s, manifest.config), 'config');
  const inline = config[CACHE_CONFIG_KEY] as { records?: InlineCacheRecord[] } | undefined;
  const diffIds = config.rootfs?.diff_ids ?? [];
  // BuildKit's importer checks the same: one diffID per manifest layer, or the cache is not used.
  if (!Array.isArray(inline?.records) || diffIds.length !== manifest.layers.length) return [];
  const out: RemoteCacheEntry[] = [];
  for (const r of inline.records) {
    const layer = Number.isInteger(r.layer) ? manifest.layers[r.layer] : undefined;
    if (layer === undefined || typeof r.key !== 'string' || !isLayerMediaType(layer.mediaType)) continue;
    out.push({
      key: r.key,
      layer: { mediaType: layer.mediaType, digest: layer.digest, size: layer.size },
      diffId: diffIds[r.layer]!,
      created: config.created ?? new Date(0).toISOString(),
      durationMs: 0,
      position: typeof r.position === 'string' ? r.position : '',
      components: isObject(r.components) ? r.components : {},
      createdBy: config.history?.filter((h) => !h.empty_layer)[r.layer]?.created_by ?? '',
    });
  }
  return out;
}

/** Options for {@link exportCache}. */
export interface ExportCacheOptions extends RegistryOptions {
  store: Store;
  /** Keeps the record images written here alive while they are pushed. */
  lease: Lease;
  /** The cache reference (`127.0.0.1:5000/app-cache[:tag]`). */
  ref: string;
  entries: readonly RemoteCacheEntry[];
  /** The build's platform, for the record configs. */
  platform: string;
  signal?: AbortSignal | undefined;
}

/** What {@link exportCache} did. */
export interface ExportCacheResult {
  /** The cache reference, as given. */
  ref: string;
  /** Records exported. */
  records: number;
  /** Blob bytes sent (0 when the registry had every record already). */
  bytesUploaded: number;
  /** The index's digest on the registry. */
  index: Digest;
}

/**
 * Pushes cache records to a cache repository, one image per key (blobs the registry has are not
 * sent again; an unchanged record costs one HEAD and one manifest PUT), then merges them into the
 * index at the reference's tag: read, merge, write, and check after a pause that the entries survived
 * another machine's export at the same moment (cache-index.ts; each record is also reachable by its own tag).
 * @throws `ERR_REGISTRY`, `ERR_REGISTRY_AUTH`, `ERR_REGISTRY_TLS`, `ERR_ABORTED`.
 */
export async function exportCache(options: ExportCacheOptions): Promise<ExportCacheResult> {
  const { store, lease, signal, entries } = options;
  const cache = parseCacheReference(options.ref);
  const platform = parsePlatform(options.platform);
  const unique = [...new Map(entries.map((e) => [e.key, e])).values()];
  const pushed: Array<{ entry: RemoteCacheEntry; descriptor: Descriptor; bytes: number }> = [];
  const registry: RegistryOptions = { ...options };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < unique.length) {
      throwIfAborted(signal);
      const entry = unique[next++]!;
      const { config, annotations } = recordImage(entry, platform);
      const image = await writeImage({ store, config, layers: [entry.layer], annotations, lease });
      const result = await pushImage({
        ...registry,
        store,
        image: image.descriptor,
        ref: `${cache.ref.registry}/${cache.ref.repository}:${cacheRecordTag(cache, entry.key)}`,
        ...(signal ? { signal } : {}),
      });
      pushed.push({ entry, descriptor: image.descriptor, bytes: result.bytesUploaded });
    }
  };
  await Promise.all(Array.from({ length: Math.min(4, unique.length) }, worker));
  const index = await writeIndex(options, cache, pushed);
  return { ref: options.ref, records: pushed.length, bytesUploaded: pushed.reduce((n, p) => n + p.bytes, 0), index };
}

/** Merges the pushed records into the index at the cache tag, safely against concurrent exports (cache-index.ts). */
async function writeIndex(
  options: ExportCacheOptions,
  cache: CacheReference,
  pushed: ReadonlyArray<{ entry: RemoteCacheEntry; descriptor: Descriptor }>,
): Promise<Digest> {
  const client = await openRegistry({ ...options, registry: cache.ref.registry, host: apiHost(cache.ref.registry) });
  try {
    const entries = new Map<string, Descriptor>();
    for (const { entry, descriptor } of pushed) entries.set(entry.key, recordIndexEntry(entry, descriptor));
    return await mergeCacheIndex({
      client,
      repository: cache.ref.repository,
      tag: cache.tag,
      ref: options.ref,
      scopes: [`repository:${cache.ref.repository}:pull,push`],
      entries,
      keyAnnotation: CACHE_KEY_ANNOTATION,
      annotations: { [CACHE_CONFIG_KEY]: 'index' },
      signal: options.signal,
    });
  } finally {
    await client.close();
  }
}

async function readLimited(body: AsyncIterable<unknown>, limit: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > limit)
      throw new LayerkitError(ErrorCodes.ERR_LIMIT_EXCEEDED, `${what} is larger than ${limit} bytes`, { limit });
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
