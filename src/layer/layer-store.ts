/**
 * Layer indexes kept in the store under `layerkit/layers/<diffID hex>/`: loaded when present and
 * sound, built (one pass over the blob) when not. Loaded indexes are cached per store.
 */
import { Digester, digestHex, type Digest } from '../digest/digest.js';
import { ErrorCodes, LayerkitError, throwIfAborted } from '../errors.js';
import { decompressStream } from '../tar/compression.js';
import type { Descriptor } from '../oci/types.js';
import type { Store } from '../store/store.js';
import { LAYERS_STATE, readLayerIndexData } from './layer-state.js';
import { buildLayerIndex } from './build-layer-index.js';
import { LayerIndex, type LayerIndexData } from './layer-index.js';

const LOADED = Symbol('layerkit.loaded-layer-indexes');

function cacheFor(store: Store): Map<string, LayerIndex> {
  return store.memo(LOADED, () => new Map<string, LayerIndex>());
}

/** @internal Caches an index this process just built (so opening it does not read it back). */
export function rememberLayerIndex(store: Store, index: LayerIndex): void {
  cacheFor(store).set(index.diffId, index);
}

/** @internal Drops one cached index (after its layer state was removed). */
export function forgetLayerIndex(store: Store, diffId: Digest): void {
  const cache = cacheFor(store);
  cache.get(diffId)?.close();
  cache.delete(diffId);
}

/** Options for {@link openLayerIndex}. */
export interface OpenLayerIndexOptions {
  store: Store;
  /** The layer's blob descriptor (used to build the index when the store has none). */
  descriptor: Descriptor;
  /** The layer's diffID from the image config. */
  diffId: Digest;
  signal?: AbortSignal | undefined;
}

/** Loads the stored index of a layer, or builds it from the blob. */
export async function openLayerIndex(options: OpenLayerIndexOptions): Promise<LayerIndex> {
  return (await openOrBuild(options)).index;
}

async function openOrBuild({
  store,
  descriptor,
  diffId,
  signal,
}: OpenLayerIndexOptions): Promise<{ index: LayerIndex; created: boolean }> {
  const cache = cacheFor(store);
  const hit = cache.get(diffId);
  if (hit && store.fs.existsSync(hit.dataPath)) return { index: hit, created: false };
  const stored = loadStored(store, diffId);
  if (stored) {
    cache.set(diffId, stored);
    return { index: stored, created: false };
  }
  const built = await buildLayerIndex({ store, descriptor, expectedDiffId: diffId, signal });
  cache.set(diffId, built.index);
  return built;
}

/** The stored index of a diffID when it is present and its data file exists with the right size. */
export function loadStored(store: Store, diffId: Digest): LayerIndex | undefined {
  const dir = store.statePath(LAYERS_STATE, digestHex(diffId));
  const data = readLayerIndexData(store, dir, diffId);
  if (data === undefined) return undefined;
  const dataPath = data.dataBlob ? store.blobs.path(data.dataBlob) : `${dir}/data.tar`;
  try {
    if (store.fs.statSync(dataPath).size !== data.tarSize) return undefined;
  } catch {
    return undefined; // the blob it pointed into was collected: rebuild from another descriptor
  }
  return new LayerIndex({ data, fs: store.fs, dataPath });
}

/** Options for {@link indexImageLayers}. */
export interface IndexImageLayersOptions {
  store: Store;
  image: { layers: Descriptor[]; diffIds: Digest[] };
  /** Called with each diffID whose index this call created, as soon as it exists (so a caller can undo them when a later layer fails). */
  onCreated?: ((diffId: Digest) => void) | undefined;
  signal?: AbortSignal | undefined;
}

/** Opens (building where needed) the index of every layer of an image, bottom first. */
export async function indexImageLayers({
  store,
  image,
  onCreated,
  signal,
}: IndexImageLayersOptions): Promise<{ indexes: LayerIndex[]; created: Digest[] }> {
  const indexes: LayerIndex[] = [];
  const created: Digest[] = [];
  for (let i = 0; i < image.layers.length; i++) {
    throwIfAborted(signal);
    const diffId = image.diffIds[i]!;
    const r = await openOrBuild({ store, descriptor: image.layers[i]!, diffId, signal });
    if (r.created) {
      created.push(diffId);
      onCreated?.(diffId);
    }
    indexes.push(r.index);
  }
  return { indexes, created };
}

/** Options for {@link checkLayerDiffId}. */
export interface CheckLayerDiffIdOptions {
  store: Store;
  /** The layer blob (in the store). */
  descriptor: Descriptor;
  /** The diffID an image config claims for it. */
  diffId: Digest;
  signal?: AbortSignal | undefined;
}

/**
 * Checks that a layer blob decompresses to the diffID an image claims, without indexing it. An
 * import needs this when the store already holds the index of that diffID (made from another
 * blob): the index is reused, but the new blob must not be trusted on the config's word.
 *
 * @throws `ERR_INVALID_MANIFEST` on a diffID mismatch; `EINTEGRITY`/`EBADSIZE` for a blob that does
 *   not match its digest; `ERR_LAYER_FORMAT`/`ERR_UNSUPPORTED_COMPRESSION` for undecodable data.
 */
export async function checkLayerDiffId({ store, descriptor, diffId, signal }: CheckLayerDiffIdOptions): Promise<void> {
  const where = `layer ${descriptor.digest}`;
  const digester = new Digester();
  try {
    for await (const chunk of decompressStream(
      store.blobs.chunks(descriptor.digest, { size: descriptor.size }),
      signal ? { signal } : {},
    ))
      digester.update(chunk);
  } catch (err) {
    const integrity =
      err instanceof LayerkitError && err.code !== ErrorCodes.ERR_ABORTED
        ? await store.blobs.check(descriptor.digest, { size: descriptor.size }).catch(() => undefined)
        : undefined;
    const cause = integrity ?? err;
    if (cause instanceof LayerkitError)
      throw new LayerkitError(
        cause.code,
        `${where}: ${cause.message}`,
        { ...cause.data, layer: descriptor.digest },
        { cause: err },
      );
    throw err;
  }
  const found = digester.digest();
  if (found !== diffId) {
    throw new LayerkitError(
      ErrorCodes.ERR_INVALID_MANIFEST,
      `${where}: diffID mismatch: the image config says ${diffId} but the uncompressed layer hashes to ${found}; the image is corrupt`,
      { digest: descriptor.digest, expected: diffId, found },
    );
  }
}

/** One problem found in layer state. */
export interface LayerStateProblem {
  code: string;
  diffId: Digest;
  message: string;
}

/** Re-hashes every stored uncompressed layer copy against its diffID. */
export async function verifyLayerStates({
  store,
  signal,
}: {
  store: Store;
  signal?: AbortSignal | undefined;
}): Promise<LayerStateProblem[]> {
  const problems: LayerStateProblem[] = [];
  for (const hex of store.listState(LAYERS_STATE)) {
    throwIfAborted(signal);
    const diffId = `sha256:${hex}` as Digest;
    const dir = store.statePath(LAYERS_STATE, hex);
    let data: LayerIndexData | undefined;
    try {
      data = readLayerIndexData(store, dir);
    } catch (err) {
      const code = err instanceof LayerkitError ? err.code : ErrorCodes.ERR_STORE_CORRUPT;
      problems.push({ code, diffId, message: (err as Error).message });
      continue;
    }
    if (data === undefined) continue;
    if (data.dataBlob) continue; // the blob itself is verified with the blobs
    const digester = new Digester();
    try {
      for await (const chunk of store.fs.createReadStream(`${dir}/data.tar`, { highWaterMark: 1 << 20 }))
        digester.update(chunk as Buffer);
    } catch (err) {
      problems.push({
        code: ErrorCodes.ERR_NOT_FOUND,
        diffId,
        message: `uncompressed copy of layer ${diffId} is unreadable (${(err as Error).message})`,
      });
      continue;
    }
    const found = digester.digest();
    if (found !== diffId) {
      problems.push({
        code: ErrorCodes.EINTEGRITY,
        diffId,
        message: `uncompressed copy of layer ${diffId} hashes to ${found}; remove ${dir} and it will be rebuilt from the blob`,
      });
    }
  }
  return problems;
}

/** Forgets cached indexes of a store (after gc removed layer state). */
export function forgetLoadedLayers(store: Store): void {
  const cache = cacheFor(store);
  for (const index of cache.values()) index.close();
  cache.clear();
}
