/**
 * `gc` for the whole store: optionally drop the build cache's records first (they are roots for
 * their layers), run the store's mark-and-sweep, then forget layer indexes it removed and build
 * records of images that are gone.
 */
import { isDigest } from '../digest/digest.js';
import { forgetLoadedLayers } from '../layer/layer-store.js';
import { BUILD_CACHE_STATE, collectGarbage, type GcOptions, type GcReport } from '../store/gc.js';

/** Options for {@link gcStore}. */
export interface GcStoreOptions extends GcOptions {
  /** Also remove every build cache record and cache mount, so layers only the cache kept are collected. */
  pruneCache?: boolean | undefined;
}

/** What gcStore removed, beyond the store's report. */
export interface GcStoreReport extends GcReport {
  removedCacheRecords: number;
}

/** Removes everything nothing references (see `collectGarbage`) and drops cached layer indexes. */
export async function gcStore(options: GcStoreOptions): Promise<GcStoreReport> {
  const { store, dryRun } = options;
  let removedCacheRecords = 0;
  if (options.pruneCache) {
    const folders: Record<string, string> = BUILD_CACHE_STATE.roots;
    for (const root of store.listRoots()) {
      // build cache records, and RUN --mount=type=cache directories (as `docker builder prune` drops both)
      const folder = folders[root.kind];
      if (folder === undefined) continue;
      if (root.kind === 'build-cache') removedCacheRecords++;
      if (!dryRun) {
        store.removeRoot(root.kind, root.name);
        store.removeState(`${folder}/${root.name}.json`);
      }
    }
    if (!dryRun) {
      store.removeState(BUILD_CACHE_STATE.positions);
      store.removeState(BUILD_CACHE_STATE.contextHashes);
    }
  }
  const report = await collectGarbage(options);
  if (!dryRun) {
    forgetLoadedLayers(store);
    for (const file of store.listState('builds')) {
      const digest = `sha256:${file.replace(/\.json$/, '')}`;
      if (isDigest(digest) && !store.blobs.has(digest)) store.removeState(`builds/${file}`);
    }
  }
  return { ...report, removedCacheRecords };
}
