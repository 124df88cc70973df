/**
 * Pruning the build cache by age and size, as `docker builder prune --filter until=24h
 * --keep-storage 5GB` does: records not used for longer than `olderThanMs` go, then, least
 * recently used first, records until what remains fits in `keepBytes`. Without either
 * limit every record goes. A record's size is its layer blob's; a layer several records share is
 * counted once, for the most recent of them. Removing a record only drops its claim on the
 * layer: `gcStore` then collects layers no image, container or remaining record uses.
 */
import type { Digest } from '../digest/digest.js';
import { throwIfAborted } from '../errors.js';
import type { Store } from '../store/store.js';
import { listCacheRecords, recordLastUsed, removeCacheRecord, type CacheRecord } from './cache.js';

/** Options for {@link pruneBuildCache}. */
export interface PruneBuildCacheOptions {
  store: Store;
  /** Remove records last used longer ago than this (ms). */
  olderThanMs?: number | undefined;
  /** Keep at most this many bytes of layers, the most recently used records first. */
  keepBytes?: number | undefined;
  /** Report what would go, remove nothing. */
  dryRun?: boolean | undefined;
  /** The time "now" is (default: the clock). */
  now?: number | undefined;
  signal?: AbortSignal | undefined;
}

/** What {@link pruneBuildCache} removed (or would remove) and kept. */
export interface PruneBuildCacheReport {
  removed: Array<{ key: Digest; layer: Digest; size: number; lastUsed: string }>;
  keptRecords: number;
  /** Bytes of the distinct layers the kept records use. */
  keptBytes: number;
}

/** Removes build cache records by the policy; see the module comment. */
export function pruneBuildCache(options: PruneBuildCacheOptions): PruneBuildCacheReport {
  const { store, olderThanMs, keepBytes, dryRun, signal } = options;
  const now = options.now ?? Date.now();
  const all = listCacheRecords(store).sort((a, b) => recordLastUsed(b) - recordLastUsed(a) || (a.key < b.key ? -1 : 1));
  const limited = olderThanMs !== undefined || keepBytes !== undefined;
  const kept: CacheRecord[] = [];
  const removed: CacheRecord[] = [];
  const keptLayers = new Set<string>();
  let keptBytes = 0;
  // Least recently used go first: once a record does not fit, no older one is kept either
  // (unless it costs nothing: its layer is already kept for a newer record).
  let full = false;
  for (const record of all) {
    throwIfAborted(signal);
    const tooOld = olderThanMs !== undefined && now - recordLastUsed(record) > olderThanMs;
    const shared = keptLayers.has(record.layer.digest);
    if (keepBytes !== undefined && !shared && !tooOld && keptBytes + record.layer.size > keepBytes) full = true;
    const tooBig = full && !shared;
    if (!limited || tooOld || tooBig) {
      removed.push(record);
      continue;
    }
    kept.push(record);
    if (!shared) {
      keptLayers.add(record.layer.digest);
      keptBytes += record.layer.size;
    }
  }
  if (!dryRun) for (const record of removed) removeCacheRecord(store, record.key);
  return {
    removed: removed.map((r) => ({
      key: r.key,
      layer: r.layer.digest,
      size: r.layer.size,
      lastUsed: new Date(recordLastUsed(r)).toISOString(),
    })),
    keptRecords: kept.length,
    keptBytes,
  };
}
