/** `gc` for the whole store: the store's mark-and-sweep, then forgetting layer indexes it removed. */
import { forgetLoadedLayers } from '../layer/layer-store.js';
import { collectGarbage, type GcOptions, type GcReport } from '../store/gc.js';

/** Removes everything nothing references (see `collectGarbage`) and drops cached layer indexes. */
export async function gcStore(options: GcOptions): Promise<GcReport> {
  const report = await collectGarbage(options);
  if (!options.dryRun) forgetLoadedLayers(options.store);
  return report;
}
