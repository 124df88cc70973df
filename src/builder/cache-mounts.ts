/**
 * `RUN --mount=type=cache` directories, kept in the store between builds and processes. A cache
 * mount is a short stack of layers (each RUN that changed it adds its diff; past
 * {@link MAX_LAYERS} the stack is flattened into one), named by the cache id, held as a gc root
 * of kind `cache-mount`. Its contents never reach an image layer or a cache key, as in BuildKit;
 * `gc --prune-cache` (`gcStore({ pruneCache: true })`) drops them with the rest of the build cache.
 */
import { digestHex, sha256, type Digest } from '../digest/digest.js';
import { addLayer } from '../image/add-layer.js';
import { flatTarEntries } from '../image/unpack.js';
import { mountImage, type ImageFS } from '../union/mount-image.js';
import { flattenLayers } from '../layer/flatten.js';
import { openLayerIndex } from '../layer/layer-store.js';
import type { LayerReader } from '../layer/types.js';
import type { Descriptor } from '../oci/types.js';
import type { GcRoot } from '../store/gc.js';
import { removeRoot, rootNames, setRoot } from '../store/roots.js';
import { defineState } from '../store/state.js';
import type { Lease, Store } from '../store/store.js';

/** The gc root kind of cache mounts. */
export const CACHE_MOUNT_ROOT = 'cache-mount';
/** Layers a cache mount may stack before they are flattened into one. */
const MAX_LAYERS = 8;
/** Where the cache directory is inside its view. */
export const CACHE_MOUNT_DIR = '/cache';

interface CacheMountState {
  id: string;
  layers: Array<{ descriptor: Descriptor; diffId: Digest }>;
  lastUsed: string;
}

/** Cache mounts, owned here: `cache-mounts/<name>.json`, each a gc root (kind `cache-mount`) for its layers. */
export const CACHE_MOUNTS = defineState<CacheMountState>({
  folder: 'cache-mounts',
  version: 1,
  what: 'cache mount state',
  fix: "remove it (the cache starts empty), or drop the build cache with 'layerkit gc --prune-cache'",
  check: (v) => (Array.isArray((v as Partial<CacheMountState>).layers) ? undefined : 'is not a cache mount state'),
});

/** Cache mounts in gc: their roots keep their layers; a damaged state is reported. */
export const cacheMountGcRoot: GcRoot = {
  name: 'cache mounts',
  mark: (store) => ({ damaged: CACHE_MOUNTS.scan(store).damaged }),
};

/** Drops every cache mount (with the build cache). */
export function dropCacheMounts(store: Store): void {
  for (const name of new Set([...CACHE_MOUNTS.names(store), ...rootNames(store, CACHE_MOUNT_ROOT)])) {
    removeRoot(store, CACHE_MOUNT_ROOT, name);
    CACHE_MOUNTS.remove(store, name);
  }
}

/** An open cache mount: its writable view (the directory is {@link CACHE_MOUNT_DIR}) and how to keep what changed. */
export interface OpenCacheMount {
  view: ImageFS;
  /** Stores the view's changes as the cache's new state (nothing when nothing changed). */
  save(): Promise<void>;
}

/** Options for {@link openCacheMount}. */
export interface OpenCacheMountOptions {
  store: Store;
  lease: Lease;
  id: string;
  /** Owner and mode of the directory when the cache is created. */
  uid: number;
  gid: number;
  mode: number;
  /** Fills a new cache (BuildKit's `from=`/`source=`): called with the view once, before first use. */
  seed?: ((view: ImageFS) => Promise<void>) | undefined;
  signal?: AbortSignal | undefined;
}

const nameOf = (id: string): string => digestHex(sha256(`cache-mount\u0000${id}`));

/** Opens (or creates) the cache mount `id`. */
export async function openCacheMount({
  store,
  lease,
  id,
  uid,
  gid,
  mode,
  seed,
  signal,
}: OpenCacheMountOptions): Promise<OpenCacheMount> {
  const name = nameOf(id);
  const state = CACHE_MOUNTS.read(store, name);
  const layers: LayerReader[] = [];
  for (const l of state?.layers ?? []) {
    if (!store.blobs.has(l.descriptor.digest)) {
      layers.length = 0; // a layer was collected or damaged: start the cache afresh
      break;
    }
    lease.add(l.descriptor.digest);
    layers.push(await openLayerIndex({ store, descriptor: l.descriptor, diffId: l.diffId, signal }));
  }
  const kept = layers.length > 0 ? state!.layers : [];
  const view = await mountImage({ store, image: layers });
  if (kept.length === 0) {
    await view.mkdir(CACHE_MOUNT_DIR, { mode });
    await view.chmod(CACHE_MOUNT_DIR, mode);
    await view.chown(CACHE_MOUNT_DIR, uid, gid);
    if (seed) await seed(view);
  }
  return {
    view,
    async save() {
      const changes = view.diff();
      let next = kept;
      if (changes.length > 0) {
        const added = await addLayer({
          store,
          entries: changes.map(({ header, data }) => ({ header: { ...header }, ...(data ? { data: data() } : {}) })),
          lease,
          signal,
        });
        next = [...kept, { descriptor: added.descriptor, diffId: added.diffId }];
        if (next.length > MAX_LAYERS) {
          const readers = [...layers, added.index];
          const flat = await addLayer({
            store,
            entries: flatTarEntries({ flat: { layers: readers, entries: flattenLayers(readers) }, signal }),
            lease,
            signal,
          });
          next = [{ descriptor: flat.descriptor, diffId: flat.diffId }];
        }
      }
      const saved: CacheMountState = { id, layers: next, lastUsed: new Date().toISOString() };
      CACHE_MOUNTS.write(store, name, saved);
      setRoot(store, CACHE_MOUNT_ROOT, name, {
        digests: next.map((l) => l.descriptor.digest),
        diffIds: next.map((l) => l.diffId),
      });
    },
  };
}

/** The name a lock on the cache mount `id` goes by (`sharing=locked`). */
export function cacheMountLock(id: string): string {
  return `cache-mount-${nameOf(id).slice(0, 32)}`;
}
