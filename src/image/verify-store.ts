/**
 * `verify` for the whole store: every blob re-hashed, everything `index.json` reaches checked,
 * and every kept uncompressed layer copy re-hashed against its diffID.
 */
import { verifyLayerStates } from '../layer/layer-store.js';
import type { Store } from '../store/store.js';
import { verifyBlobs, type VerifyReport } from '../store/verify.js';

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
    report.problems.push({ code: p.code, digest: p.diffId, message: p.message });
  return report;
}
