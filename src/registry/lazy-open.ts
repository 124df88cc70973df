/**
 * The lazy mount itself (see `lazy-mount.ts`, the entry point): the view, which fetches what a
 * read needs and reads again, and the mount, which resolves the image and opens its layers.
 * Node only: it talks to registries (the browser build stands it in with `ERR_UNSUPPORTED`).
 */
import { Readable } from 'node:stream';
import type { Digest } from '../digest/digest.js';
import { ErrorCodes, LayerkitError, throwIfAborted } from '../errors.js';
import { isEstargzLayer } from '../image/estargz-convert.js';
import { loadFromBlobs, type Image } from '../image/image.js';
import { hostPlatform, parsePlatform, selectManifest } from '../image/platform.js';
import { openEstargzLayer } from '../layer/estargz-layer.js';
import { openLayerIndex } from '../layer/layer-store.js';
import { LazyFetchNeeded, RangeLayer, type RangeSource } from '../layer/range-layer.js';
import { openTarRangeLayer, TAR_WINDOW } from '../layer/tar-range-layer.js';
import type { LayerReader } from '../layer/types.js';
import { isIndexMediaType, isManifestMediaType, MediaTypes } from '../oci/media-types.js';
import type { Descriptor, ImageIndex, Manifest } from '../oci/types.js';
import type { Store } from '../store/store.js';
import { FOOTER_SIZE, TOC_DIGEST_ANNOTATION } from '../tar/estargz.js';
import type { UnionFileHandle } from '../union/file-handle.js';
import { ImageFS } from '../union/mount-image.js';
import type { UnionReadStreamOptions } from '../union/streams.js';
import { openRegistry, type RegistryClient } from './client.js';
import { lazyRangeCache } from './lazy-cache.js';
import { registryRangeSource } from './lazy-range.js';
import { ProgressTracker } from './progress.js';
import { fetchManifestBlobs } from './pull-blobs.js';
import { fetchManifest, getAndStoreManifest } from './pull-manifest.js';
import type { PullState } from './pull-state.js';
import { apiHost, manifestReference, parseRegistryReference, type RegistryReference } from './reference.js';
import { withRef } from './with-ref.js';

import type { LazyMountImageOptions } from './lazy-mount.js';

/** A layer blob read by ranges: eStargz, or an uncompressed tar. */
function isRangeReadable(d: Descriptor): boolean {
  return isEstargzLayer(d) || isUncompressedLayer(d);
}

function isUncompressedLayer(d: Descriptor): boolean {
  return d.mediaType === MediaTypes.ociLayer || d.mediaType === MediaTypes.dockerLayer;
}

/** A read-only view of an image on a registry whose file bytes are fetched as they are read. */
export class LazyImageFS extends ImageFS {
  readonly #client: RegistryClient;
  readonly #lazy: RangeLayer[];
  readonly #signal: AbortSignal | undefined;
  readonly #counter: { bytes: number };
  readonly #releases: Array<() => void>;

  /** @internal Use {@link mountImage} with `lazy: true`. */
  constructor(o: {
    store: Store;
    image: Image;
    layers: LayerReader[];
    client: RegistryClient;
    signal: AbortSignal | undefined;
    counter: { bytes: number };
    releases: Array<() => void>;
  }) {
    super({ store: o.store, image: o.image, layers: o.layers, readOnly: true });
    this.#client = o.client;
    this.#signal = o.signal;
    this.#counter = o.counter;
    this.#releases = o.releases;
    this.#lazy = o.layers.filter((l): l is RangeLayer => l instanceof RangeLayer);
  }

  /** Bytes of blobs received from the registry by this view (TOCs and chunks; not whole layers). */
  get bytesFetched(): number {
    return this.#counter.bytes;
  }

  /** How many layers are read lazily (eStargz and uncompressed ones); the others were pulled whole. */
  get lazyLayers(): number {
    return this.#lazy.length;
  }

  /**
   * How many of the lazily read layers are uncompressed tars, whose bytes cannot be checked
   * against their digest short of reading them whole: what is read of them trusts the transport
   * (HTTPS). eStargz chunks are each checked against the digest in their verified TOC.
   */
  get unverifiedLayers(): number {
    return this.#lazy.filter((l) => (l as { verified?: boolean }).verified === false).length;
  }

  /** Runs `op`, fetching what a lazily read layer says is missing, and runs it again. */
  async #retry<T>(op: () => T | Promise<T>): Promise<T> {
    for (let round = 0; ; round++) {
      try {
        return await op();
      } catch (err) {
        if (!(err instanceof LazyFetchNeeded) || round > 10_000) throw err;
        await err.fetch(this.#signal);
      }
    }
  }

  /** Fetches the files (all their bytes), so that synchronous reads of them work. */
  async prefetch(paths: readonly string[]): Promise<void> {
    for (const path of paths) await this.readFile(path);
  }

  override readFile(path: string, options?: { encoding?: null; flag?: string } | null): Promise<Buffer>;
  override readFile(
    path: string,
    options: BufferEncoding | { encoding: BufferEncoding; flag?: string },
  ): Promise<string>;
  override async readFile(
    path: string,
    options?: BufferEncoding | { encoding?: BufferEncoding | null; flag?: string } | null,
  ): Promise<Buffer | string> {
    return this.#retry(() => this.readFileSync(path, options as { encoding?: null }));
  }

  override async copyFile(from: string, to: string, mode?: number): Promise<void> {
    await this.#retry(() => this.copyFileSync(from, to, mode));
  }

  override async open(path: string, flags?: string | number, mode?: number): Promise<UnionFileHandle> {
    const handle = this.openSync(path, flags, mode);
    const readSync = handle.readSync.bind(handle);
    const readFile = handle.readFile.bind(handle);
    handle.read = ((...args: Parameters<UnionFileHandle['read']>) =>
      this.#retry(() => readSync(...args))) as UnionFileHandle['read'];
    handle.readFile = ((...args: Parameters<UnionFileHandle['readFile']>) =>
      this.#retry(() => readFile(...args))) as UnionFileHandle['readFile'];
    return handle;
  }

  override createReadStream(path: string, options?: UnionReadStreamOptions | BufferEncoding): Readable {
    const o = typeof options === 'string' ? { encoding: options } : (options ?? {});
    const chunk = o.highWaterMark ?? 64 * 1024;
    const self = this;
    async function* bytes(): AsyncGenerator<Buffer> {
      const handle = await self.open(path, o.flags ?? 'r');
      try {
        const size = (await handle.stat()).size;
        let at = o.start ?? 0;
        const end = Math.min(size, o.end === undefined ? size : o.end + 1);
        while (at < end) {
          throwIfAborted(o.signal);
          const { bytesRead, buffer } = await handle.read(Buffer.alloc(Math.min(chunk, end - at)), 0, undefined, at);
          if (bytesRead === 0) break;
          at += bytesRead;
          yield Buffer.from(buffer.subarray(0, bytesRead));
        }
      } finally {
        await handle.close();
      }
    }
    const stream = Readable.from(bytes(), { objectMode: false });
    if (o.encoding) stream.setEncoding(o.encoding);
    return stream;
  }

  /** Closes the connection to the registry; reads of bytes not fetched yet then fail. */
  async close(): Promise<void> {
    for (const release of this.#releases.splice(0)) release();
    await this.#client.close();
  }
}

/** @internal Mounts `options.image` lazily (use `mountImage` with `lazy: true`). */
export async function mountLazy(options: LazyMountImageOptions): Promise<LazyImageFS> {
  const { store, signal } = options;
  throwIfAborted(signal);
  const ref = parseRegistryReference(options.image);
  const platform =
    typeof options.platform === 'string' ? parsePlatform(options.platform) : (options.platform ?? hostPlatform());
  const client = await openRegistry({ ...options, registry: ref.registry, host: apiHost(ref.registry) });
  const counter = { bytes: 0 };
  const releases: Array<() => void> = [];
  try {
    const { image, layers } = await store.withLease(
      async (lease) => {
        const state: PullState = {
          client,
          ref,
          store,
          lease,
          progress: new ProgressTracker(undefined),
          signal,
          added: new Set(),
          blobs: new Map(),
          scopes: [`repository:${ref.repository}:pull`],
          retries: options.retries ?? 4,
          retryDelayMs: options.retryDelayMs ?? 400,
        };
        try {
          // One GET by tag (no HEAD first): a lazy mount needs the manifest's bytes anyway.
          const { descriptor: resolved, value: top } = await getAndStoreManifest(state, manifestReference(ref));
          let chosen: Descriptor = resolved;
          let manifest = top as Manifest;
          if (isIndexMediaType(resolved.mediaType)) {
            chosen = selectManifest((top as ImageIndex).manifests, platform, ref.full);
            if (!isManifestMediaType(chosen.mediaType)) {
              throw new LayerkitError(
                ErrorCodes.ERR_UNSUPPORTED_MEDIA_TYPE,
                `${ref.full}: the index entry for ${chosen.digest} has media type ${chosen.mediaType}, not an image manifest`,
                { ref: ref.full, registry: client.registry, digest: chosen.digest },
              );
            }
            manifest = (await fetchManifest(state, chosen)) as Manifest;
          }
          // Every eStargz layer's footer (and every uncompressed layer's first headers) is asked
          // for now, while the config is fetched (a round trip less), unless this process holds
          // the layer already.
          const sources = new Map<string, RangeSource>();
          for (const d of Array.isArray(manifest.layers) ? manifest.layers : []) {
            if (!isRangeReadable(d) || sources.has(d.digest) || lazyRangeCache.holds(d.digest)) continue;
            if (!(d.size >= FOOTER_SIZE)) continue;
            const source = layerSource(client, ref, d, counter);
            const [start, end] = isEstargzLayer(d) ? [d.size - FOOTER_SIZE, d.size] : [0, Math.min(d.size, TAR_WINDOW)];
            sources.set(d.digest, prefetched(source, start, end, signal));
          }
          // The config, and every layer that is neither (pulled whole and verified).
          await fetchManifestBlobs(state, chosen, isRangeReadable);
          const loaded = await loadFromBlobs({ blobs: store.blobs, descriptor: chosen, platform, where: ref.full });
          // Every layer's footer and TOC at once (the client bounds the parallel requests).
          const readers: LayerReader[] = await Promise.all(
            loaded.layers.map((d, i) => {
              const diffId = loaded.diffIds[i]!;
              if (isUncompressedLayer(d) && d.digest !== diffId) {
                throw new LayerkitError(
                  ErrorCodes.ERR_INVALID_MANIFEST,
                  `${ref.full}: layer ${d.digest} is uncompressed, but the image config gives it the diffID ${diffId}; the image is corrupt`,
                  { ref: ref.full, digest: d.digest, expected: diffId, found: d.digest },
                );
              }
              return isRangeReadable(d)
                ? lazyLayer({
                    source: sources.get(d.digest) ?? layerSource(client, ref, d, counter),
                    descriptor: d,
                    diffId,
                    releases,
                    signal,
                  })
                : openLayerIndex({ store, descriptor: d, diffId, signal });
            }),
          );
          return { image: loaded, layers: readers };
        } catch (err) {
          for (const d of state.added) store.blobs.delete(d);
          throw err;
        }
      },
      signal ? { signal } : {},
    );
    return new LazyImageFS({ store, image, layers, client, signal, counter, releases });
  } catch (err) {
    for (const release of releases) release();
    await client.close();
    throw withRef(err, ref.full);
  }
}

/**
 * One layer of a lazy mount read by ranges (eStargz or uncompressed): opened once per process
 * (per blob and diffID) and kept with the chunks it fetched; a later mount reuses it through its
 * own connection, after checking an eStargz descriptor's TOC annotation against the TOC verified
 * the first time.
 */
async function lazyLayer(o: {
  source: RangeSource;
  descriptor: Descriptor;
  diffId: Digest;
  releases: Array<() => void>;
  signal: AbortSignal | undefined;
}): Promise<RangeLayer> {
  const { descriptor, source } = o;
  const estargz = isEstargzLayer(descriptor);
  const tocDigest = estargz ? descriptor.annotations?.[TOC_DIGEST_ANNOTATION] : undefined;
  const blob = descriptor.digest as Digest;
  const { layer, release } = await lazyRangeCache.open({
    key: `${descriptor.digest} ${o.diffId}`,
    tocDigest: tocDigest ?? '',
    source,
    open: (shared: RangeSource) =>
      estargz
        ? openEstargzLayer({ source: shared, blob, diffId: o.diffId, tocDigest, signal: o.signal })
        : openTarRangeLayer({ source: shared, blob, diffId: o.diffId, signal: o.signal }),
  });
  o.releases.push(release);
  return layer;
}

/** One layer blob on the registry as a range source, its bytes counted. */
function layerSource(
  client: RegistryClient,
  ref: RegistryReference,
  descriptor: Descriptor,
  counter: { bytes: number },
): RangeSource {
  return registryRangeSource({
    client,
    ref,
    descriptor,
    onBytes: (n) => {
      counter.bytes += n;
    },
  });
}

/**
 * `source`, with the range `start`..`end` asked for at once: the first read of exactly that range
 * gets the answer (or its failure); every other read goes to `source`.
 */
function prefetched(source: RangeSource, start: number, end: number, signal: AbortSignal | undefined): RangeSource {
  let early: Promise<Buffer> | undefined = source.read(start, end, signal);
  // Its failure is reported to the read that takes it; unread (the mount failed first), it is dropped.
  early.catch(() => undefined);
  return {
    size: source.size,
    read(from, to, readSignal) {
      if (early !== undefined && from === start && to === end) {
        const answer = early;
        early = undefined;
        return answer;
      }
      return source.read(from, to, readSignal);
    },
  };
}
