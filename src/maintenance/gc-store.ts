/**
 * `gc` for the whole store, the one entry point: optionally drop (all or part of) the build
 * cache first, then the store's mark-and-sweep with every state owner taking part (layer indexes,
 * build records, build cache, cache mounts, context hashes, containers, extracted layers), then forget the layer
 * indexes this process had loaded.
 */
import { buildRecordGcRoot } from '../builder/build-record.js';
import { buildCacheGcRoot, CACHE_RECORDS, dropBuildCacheRecords } from '../builder/cache.js';
import { cacheMountGcRoot, dropCacheMounts } from '../builder/cache-mounts.js';
import { contextHashesGcRoot, dropContextHashes } from '../builder/context-hashes-state.js';
import { buildMemoGcRoot } from '../builder/build-memo-state.js';
import { pruneBuildCache } from '../builder/prune-cache.js';
import { containerGcRoot } from '../container/containers.js';
import type { Digest } from '../digest/digest.js';
import { parseGoDuration, parseRamInBytes } from '../dockerfile/go-parse.js';
import { ErrorCodes, LayerkitError } from '../errors.js';
import { forgetLoadedLayers } from '../layer/layer-store.js';
import { layerIndexGcRoot } from '../layer/layer-state.js';
import { snapshotGcRoot } from '../runtime/snapshot-gc.js';
import { runtimeStateGcRoot } from '../runtime/state.js';
import { registrySourcesGcRoot } from '../registry/sources.js';
import { collectGarbage, type GcRoot } from '../store/gc.js';
import { rootNames } from '../store/roots.js';
import type { Store } from '../store/store.js';

/** Every owner of state that takes part in gc and verify. */
export const STATE_OWNERS: readonly GcRoot[] = [
  layerIndexGcRoot,
  buildRecordGcRoot,
  buildCacheGcRoot,
  cacheMountGcRoot,
  contextHashesGcRoot,
  buildMemoGcRoot,
  containerGcRoot,
  snapshotGcRoot,
  runtimeStateGcRoot,
  registrySourcesGcRoot,
];

/** Which part of the build cache {@link gcStore} drops. */
export interface PruneCachePolicy {
  /** Only records no build has used for this long: ms, or a Go duration (`24h`, `1h30m`). */
  until?: number | string | undefined;
  /** Keep the most recently used records while their layers fit in this: bytes, or a size (`512mb`, `2gb`). */
  keepStorage?: number | string | undefined;
}

/** Options for {@link gcStore}. */
export interface GcStoreOptions {
  store: Store;
  /** Report what would go, remove nothing. */
  dryRun?: boolean | undefined;
  /**
   * Also drop the build cache: `true` drops all of it (records, cache mounts, context hashes), a
   * policy only the records it selects (`docker builder prune --filter until=24h --keep-storage 5GB`).
   * Layers the cache let go are then removed unless an image or container uses them.
   */
  pruneCache?: true | PruneCachePolicy | undefined;
  signal?: AbortSignal | undefined;
  /** Called with progress (blobs swept so far, total). */
  onProgress?: ((done: number, total: number) => void) | undefined;
}

/** What gcStore removed (or would remove). */
export interface GcStoreReport {
  removedBlobs: Digest[];
  removedLayerStates: Digest[];
  removedTempFiles: number;
  freedBytes: number;
  removedCacheRecords: number;
  /** With a prune policy: records kept, and the bytes of the distinct layers they use. */
  keptCacheRecords?: number;
  keptCacheBytes?: number;
}

/**
 * Removes everything nothing references, and the build cache when asked. Waits for writers in
 * other processes to finish (they wait for it in turn). A damaged state file is `ERR_STORE_CORRUPT`
 * naming it, and nothing is removed.
 * @example await gcStore({ store, pruneCache: { until: '168h', keepStorage: '2gb' } })
 */
export async function gcStore(options: GcStoreOptions): Promise<GcStoreReport> {
  const { store, dryRun = false, pruneCache, signal, onProgress } = options;
  let removedCacheRecords = 0;
  let kept: { keptCacheRecords: number; keptCacheBytes: number } | undefined;
  let ignoreRoot: ((kind: string, name: string) => boolean) | undefined;
  if (pruneCache === true) {
    if (dryRun) {
      ignoreRoot = (kind) => kind === 'build-cache' || kind === 'cache-mount';
      removedCacheRecords = new Set([...CACHE_RECORDS.names(store), ...rootNames(store, 'build-cache')]).size;
    } else {
      removedCacheRecords = dropBuildCacheRecords(store);
      dropCacheMounts(store);
      dropContextHashes(store);
    }
  } else if (pruneCache !== undefined) {
    const policy = parsePolicy(pruneCache);
    const pruned = pruneBuildCache({ store, ...policy, dryRun, signal });
    removedCacheRecords = pruned.removed.length;
    kept = { keptCacheRecords: pruned.keptRecords, keptCacheBytes: pruned.keptBytes };
    // A dry run removed no records: gc must still count their layers as let go.
    const gone = new Set(dryRun ? pruned.removed.map((r) => r.key.slice('sha256:'.length)) : []);
    if (gone.size > 0) ignoreRoot = (kind, name) => kind === 'build-cache' && gone.has(name);
  }
  const report = await collectGarbage({ store, roots: STATE_OWNERS, dryRun, signal, onProgress, ignoreRoot });
  if (!dryRun) forgetLoadedLayers(store);
  return {
    removedBlobs: report.removedBlobs,
    removedLayerStates: (report.swept[layerIndexGcRoot.name] ?? []) as Digest[],
    removedTempFiles: report.removedTempFiles,
    freedBytes: report.freedBytes,
    removedCacheRecords,
    ...kept,
  };
}

/** A policy in the units pruneBuildCache takes; a bad value is `ERR_USAGE` naming the field. */
function parsePolicy(policy: PruneCachePolicy): { olderThanMs?: number; keepBytes?: number } {
  const out: { olderThanMs?: number; keepBytes?: number } = {};
  const { until, keepStorage } = policy;
  if (until !== undefined) {
    let ms: number;
    try {
      ms = typeof until === 'number' ? until : Number(parseGoDuration(until) / 1_000_000n);
    } catch (err) {
      throw usage('until', until, `${(err as Error).message}; give a duration such as 24h, 90m or 1h30m`);
    }
    if (!(ms >= 0)) throw usage('until', until, 'the duration must not be negative');
    out.olderThanMs = ms;
  }
  if (keepStorage !== undefined) {
    let bytes: number;
    try {
      bytes = typeof keepStorage === 'number' ? keepStorage : parseRamInBytes(keepStorage);
    } catch (err) {
      throw usage('keepStorage', keepStorage, `${(err as Error).message}; give a size such as 512mb or 2gb`);
    }
    if (!(bytes >= 0)) throw usage('keepStorage', keepStorage, 'the size must not be negative');
    out.keepBytes = bytes;
  }
  return out;
}

function usage(field: 'until' | 'keepStorage', value: unknown, why: string): LayerkitError {
  const flag = field === 'until' ? 'until' : 'keep-storage';
  return new LayerkitError(ErrorCodes.ERR_USAGE, `--${flag} ${JSON.stringify(value)}: ${why}`, { flag, field });
}
