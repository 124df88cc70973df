/**
 * Disk usage of a store, as `docker system df` reports it: images, containers and the build
 * cache (step results and `RUN --mount=type=cache` folders), each with a count, how many are
 * active, their size and what removing the inactive ones would free. A blob or kept layer copy
 * that several things use is counted once per row and is reclaimable only when nothing active
 * uses it.
 */
import { listCacheRecords } from '../builder/cache.js';
import { CACHE_MOUNT_ROOT, CACHE_MOUNTS } from '../builder/cache-mounts.js';
import { listContainers } from '../container/containers.js';
import { digestHex, type Digest } from '../digest/digest.js';
import { throwIfAborted } from '../errors.js';
import { loadImage } from '../image/image.js';
import { listImages } from '../image/images.js';
import { LAYERS_STATE } from '../layer/layer-state.js';
import { SNAPSHOTS_STATE } from '../runtime/snapshotter.js';
import { type ContainerStatus, RUNTIME_STATE, runtimeState } from '../runtime/state.js';
import type { Store } from '../store/store.js';

/** Options for {@link diskUsage}. */
export interface DiskUsageOptions {
  store: Store;
  signal?: AbortSignal | undefined;
}

/** One image in {@link DiskUsage}. */
export interface DiskUsageImage {
  names: string[];
  /** The config digest (the image ID). */
  id: Digest | undefined;
  /** The manifest digest. */
  digest: Digest;
  created: string | undefined;
  /** Bytes of its blobs and kept layer copies. */
  size: number;
  /** The part of `size` other images share. */
  sharedSize: number;
  uniqueSize: number;
  /** How many containers use it. */
  containers: number;
}

/** One container in {@link DiskUsage}. */
export interface DiskUsageContainer {
  name: string;
  /** The image's manifest digest, and the reference it was created from. */
  image: Digest;
  imageRef: string;
  created: string;
  /** `created`, `running`, `paused` or `exited`, as `docker ps` says. */
  status: ContainerStatus;
  /** Bytes of its writable layer as saved, and of what `run` keeps for it. */
  size: number;
}

/** One build cache entry in {@link DiskUsage}. */
export interface DiskUsageCacheEntry {
  /** The step's cache key, or the cache mount's id. */
  id: string;
  /** BuildKit's names: `regular` for a step's layer, `exec.cachemount` for a cache mount. */
  type: 'regular' | 'exec.cachemount';
  size: number;
  created: string | undefined;
  lastUsed: string | undefined;
  /** True when an image or container uses its layer too (removing the entry frees nothing). */
  shared: boolean;
}

/** One row of the summary: `TYPE TOTAL ACTIVE SIZE RECLAIMABLE`. */
export interface DiskUsageSummary<T> {
  total: number;
  active: number;
  size: number;
  reclaimable: number;
  items: T[];
}

/** What {@link diskUsage} reports. */
export interface DiskUsage {
  images: DiskUsageSummary<DiskUsageImage>;
  containers: DiskUsageSummary<DiskUsageContainer>;
  buildCache: DiskUsageSummary<DiskUsageCacheEntry>;
}

/**
 * Measures what the store's images, containers and build cache take on disk (`docker system df`).
 * @example const { images, buildCache } = await diskUsage({ store }); images.reclaimable
 */
export async function diskUsage({ store, signal }: DiskUsageOptions): Promise<DiskUsage> {
  const sizes = new Map<string, number>();
  const blob = (d: Digest): string => {
    const key = `blob:${d}`;
    if (!sizes.has(key)) sizes.set(key, store.blobs.stat(d)?.size ?? 0);
    return key;
  };
  // The runtime's extracted copy of a layer (`layerkit run`): part of the images' size, and swept
  // by gc with the last image or container using its diffID.
  const snapshot = (diffId: Digest): string => {
    const key = `snapshot:${diffId}`;
    if (!sizes.has(key)) sizes.set(key, folderSize(store, store.statePath(SNAPSHOTS_STATE, digestHex(diffId))));
    return key;
  };
  const layerState = (diffId: Digest): string => {
    const key = `layer:${diffId}`;
    if (!sizes.has(key)) sizes.set(key, folderSize(store, store.statePath(LAYERS_STATE, digestHex(diffId))));
    return key;
  };
  const sum = (keys: Iterable<string>): number => {
    let n = 0;
    for (const k of keys) n += sizes.get(k) ?? 0;
    return n;
  };

  // Images: what each one's blobs and kept layer copies are.
  const containers = listContainers({ store });
  const images: Array<{ summary: DiskUsageImage; keys: Set<string> }> = [];
  for (const summary of await listImages({ store })) {
    throwIfAborted(signal);
    const keys = new Set<string>([blob(summary.digest)]);
    try {
      const image = await loadImage({
        store,
        image: {
          mediaType: summary.mediaType,
          digest: summary.digest,
          size: store.blobs.stat(summary.digest)?.size ?? 0,
        },
      });
      keys.add(blob(image.descriptor.digest));
      keys.add(blob(image.manifest.config.digest));
      for (const l of image.layers) keys.add(blob(l.digest));
      for (const d of image.diffIds) {
        keys.add(layerState(d));
        if ((sizes.get(snapshot(d)) ?? 0) > 0) keys.add(`snapshot:${d}`);
      }
    } catch {
      // an image that no longer loads counts only its manifest bytes
    }
    const users = containers.filter((c) => c.image === summary.digest).length;
    images.push({
      keys,
      summary: {
        names: summary.names,
        id: summary.id,
        digest: summary.digest,
        created: summary.created,
        size: 0,
        sharedSize: 0,
        uniqueSize: 0,
        containers: users,
      },
    });
  }
  const usedBy = new Map<string, number>();
  for (const { keys } of images) for (const k of keys) usedBy.set(k, (usedBy.get(k) ?? 0) + 1);
  const imageKeys = new Set<string>();
  const activeKeys = new Set<string>();
  for (const { summary, keys } of images) {
    summary.size = sum(keys);
    summary.sharedSize = sum([...keys].filter((k) => (usedBy.get(k) ?? 0) > 1));
    summary.uniqueSize = summary.size - summary.sharedSize;
    for (const k of keys) {
      imageKeys.add(k);
      if (summary.containers > 0) activeKeys.add(k);
    }
  }
  const imageSize = sum(imageKeys);
  const imageRow: DiskUsageSummary<DiskUsageImage> = {
    total: images.length,
    active: images.filter((i) => i.summary.containers > 0).length,
    size: imageSize,
    reclaimable: imageSize - sum(activeKeys),
    items: images.map((i) => i.summary),
  };

  // Containers: the saved writable layer and what `run` keeps (never the mounted rootfs). Running
  // and paused ones are active; the others are reclaimable, as stopped containers are in docker.
  const containerItems: DiskUsageContainer[] = containers.map((c) => {
    const status = runtimeState(store, c.name).status;
    return {
      name: c.name,
      image: c.image,
      imageRef: c.imageRef,
      created: c.created,
      status,
      size:
        folderSize(store, store.statePath('containers', c.name)) +
        folderSize(store, store.statePath(RUNTIME_STATE, 'containers', c.name), ['rootfs']),
    };
  });
  const containerSize = containerItems.reduce((n, c) => n + c.size, 0);
  const isActive = (c: DiskUsageContainer) => c.status === 'running' || c.status === 'paused';
  const containerRow: DiskUsageSummary<DiskUsageContainer> = {
    total: containerItems.length,
    active: containerItems.filter(isActive).length,
    size: containerSize,
    reclaimable: containerItems.filter((c) => !isActive(c)).reduce((n, c) => n + c.size, 0),
    items: containerItems,
  };

  // Build cache: step results and cache mounts; a layer an image also uses is shared, not reclaimable.
  const cacheItems: DiskUsageCacheEntry[] = [];
  const cacheKeys = new Set<string>();
  for (const record of listCacheRecords(store)) {
    throwIfAborted(signal);
    if (!store.blobs.has(record.layer.digest)) continue;
    const keys = [blob(record.layer.digest), layerState(record.diffId)];
    for (const k of keys) cacheKeys.add(k);
    cacheItems.push({
      id: record.key,
      type: 'regular',
      size: sum(keys),
      created: record.created,
      lastUsed: record.lastUsed ?? record.created,
      shared: keys.some((k) => imageKeys.has(k)),
    });
  }
  for (const root of store.listRoots()) {
    if (root.kind !== CACHE_MOUNT_ROOT) continue;
    const keys = [...root.digests.map(blob), ...root.diffIds.map(layerState)];
    for (const k of keys) cacheKeys.add(k);
    let id = root.name;
    let lastUsed: string | undefined;
    try {
      const state = CACHE_MOUNTS.read(store, root.name);
      id = state?.id ?? id;
      lastUsed = state?.lastUsed;
    } catch {
      // a damaged state file (ERR_STORE_CORRUPT; verify names it): the root's name stands in for the id
    }
    cacheItems.push({
      id,
      type: 'exec.cachemount',
      size: sum(keys),
      created: undefined,
      lastUsed,
      shared: keys.some((k) => imageKeys.has(k)),
    });
  }
  const cacheSize = sum(cacheKeys);
  const cacheRow: DiskUsageSummary<DiskUsageCacheEntry> = {
    total: cacheItems.length,
    active: 0,
    size: cacheSize,
    reclaimable: sum([...cacheKeys].filter((k) => !imageKeys.has(k))),
    items: cacheItems,
  };
  return { images: imageRow, containers: containerRow, buildCache: cacheRow };
}

/** Bytes of the files under a folder (0 when it is missing), leaving out top-level entries named in `skip`. */
function folderSize(store: Store, path: string, skip: readonly string[] = []): number {
  let total = 0;
  const walk = (p: string): void => {
    let names: string[];
    try {
      names = store.fs.readdirSync(p) as string[];
    } catch {
      return;
    }
    for (const name of names) {
      if (p === path && skip.includes(name)) continue;
      const child = `${p}/${name}`;
      try {
        const st = store.fs.lstatSync(child);
        if (st.isDirectory()) walk(child);
        else total += st.size;
      } catch {
        // removed meanwhile
      }
    }
  };
  walk(path);
  return total;
}
