/**
 * `verify` for the whole store, the one entry point: every blob re-hashed, everything
 * `index.json` reaches checked, every kept uncompressed layer copy re-hashed against its diffID,
 * and every state file read through its owner (a damaged one is reported as `ERR_STORE_CORRUPT`).
 */
import { verifyLayerStates } from '../layer/layer-store.js';
import { readRoots } from '../store/roots.js';
import type { Store } from '../store/store.js';
import { verifyBlobs, type VerifyReport } from '../store/verify.js';
import { STATE_OWNERS } from './gc-store.js';

/** Options for {@link verifyStore}. */
export interface VerifyStoreOptions {
  store: Store;
  signal?: AbortSignal | undefined;
  onProgress?: ((done: number, total: number) => void) | undefined;
}

/** Checks the store end to end and reports every problem; changes nothing. */
export async function verifyStore({ store, signal, onProgress }: VerifyStoreOptions): Promise<VerifyReport> {
  const report = await verifyBlobs({ store, ...(signal ? { signal } : {}), ...(onProgress ? { onProgress } : {}) });
  for (const p of await verifyLayerStates({ store, signal }))
    if (!report.problems.some((q) => q.message === p.message))
      report.problems.push({ code: p.code, digest: p.diffId, message: p.message });
  const damaged = [...readRoots(store).damaged];
  for (const owner of STATE_OWNERS) damaged.push(...(owner.mark?.(store).damaged ?? []));
  for (const err of damaged)
    if (!report.problems.some((q) => q.message === err.message))
      report.problems.push({ code: err.code, path: String(err.data.path), message: err.message });
  return report;
}
