/**
 * Undoing a failed (or partly unused) write without harming anyone else: the blobs and layer
 * states a writer created go only if, once no other process is writing, nothing references them
 * (another import may have reused a blob this one created). This is a gc limited to those
 * candidates, run after the writer's own lease has ended.
 */
import type { Digest } from '../digest/digest.js';
import { LayerkitError } from '../errors.js';
import { forgetLayerIndex } from '../layer/layer-store.js';
import { layerIndexGcRoot } from '../layer/layer-state.js';
import { collectGarbage } from '../store/gc.js';
import type { Store } from '../store/store.js';

/** Options for {@link rollbackWrites}. */
export interface RollbackWritesOptions {
  store: Store;
  /** Blobs the writer created. */
  blobs: Iterable<Digest>;
  /** Layer states (diffIDs) the writer created. */
  diffIds?: Iterable<Digest> | undefined;
  /** How long to wait for other processes' writes to end before leaving the rest to the next gc (default 10 s). */
  waitMs?: number | undefined;
}

/** Removes what a writer created that nothing uses; see the module comment. Never throws for a busy store. */
export async function rollbackWrites({ store, blobs, diffIds = [], waitMs = 10_000 }: RollbackWritesOptions) {
  const only = new Set(blobs);
  const onlyDiffIds = new Set(diffIds);
  if (only.size === 0 && onlyDiffIds.size === 0) return;
  for (const d of onlyDiffIds) forgetLayerIndex(store, d);
  try {
    await collectGarbage({ store, only, onlyDiffIds, roots: [layerIndexGcRoot], leaseWaitMs: waitMs });
  } catch (err) {
    // A busy or damaged store: what this writer left is unreferenced, and the next gc takes it.
    if (!(err instanceof LayerkitError)) throw err;
  }
}
