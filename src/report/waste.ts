/**
 * Wasted space: the bytes an image's layers store that no path of its final tree can read.
 *
 * dive (the usual tool for this) sums, for every path seen in two or more layers, the sizes of
 * *all* its copies, including the one that must stay (dive#684), takes the *smallest* copy as
 * the one that stays (the top one does), and skips opaque directories. Here each stored copy is
 * judged on its own, against the final tree.
 */
import { flattenLayers, resolveFileData, type FlatEntry } from '../layer/flatten.js';
import { compareTarPaths } from '../tar/path.js';
import type { LayerReader } from '../layer/types.js';
import { analyzeLayerChanges, copyKey, type LayerChangesResult } from './layer-changes.js';
import type { FileCopy, WasteAnalysis, WastedPath } from './types.js';

/** Options for {@link analyzeWaste}. */
export interface AnalyzeWasteOptions {
  /** The stack, bottom first (the same reader may appear twice: positions count, not digests). */
  layers: readonly LayerReader[];
  /** The result of `analyzeLayerChanges` on the same layers, when the caller has it. */
  changes?: LayerChangesResult | undefined;
  /** The result of `flattenLayers` on the same layers, when the caller has it. */
  flat?: Map<string, FlatEntry> | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * Measures wasted space, precisely:
 * - a **copy** is a regular-file entry of one layer position (a hardlink entry stores no bytes;
 *   the same layer twice in a manifest stores its copies twice, as every unpack writes them twice);
 * - a copy is **final** when some path of the final tree reads it: the path itself, or a hardlink
 *   made on it (resolved as `resolveFileData` does: against the tree as it stood when the link's
 *   layer was applied);
 * - `storedBytes` = Σ sizes of all copies; `finalBytes` = Σ sizes of the final copies;
 * - `reclaimableBytes` = `storedBytes − finalBytes`; per path: Σ sizes of all its copies − the
 *   size of the copy that survives (− 0 when none survives: the path is deleted, hidden by an
 *   opaque directory or replaced at the end);
 * - `efficiency` = `finalBytes / storedBytes` (1 when nothing is stored).
 *
 * Worked example (sizes in bytes): L0 writes `/etc/x` (100) and `/d/a` (40); L1 writes
 * `/app/big` (1000); L2 deletes `/app/big` (whiteout) and marks `/d` opaque; L3 writes `/etc/x`
 * (300). Stored = 100 + 40 + 1000 + 300 = 1440. Final = 300 (L3's `/etc/x`). Reclaimable = 1140:
 * `/etc/x` 400 − 300 = 100, `/app/big` 1000 − 0, `/d/a` 40 − 0. Efficiency = 300 / 1440 = 20.8%.
 * dive reports wasted = 1400 (every copy of `/etc/x` and `/app/big`, none of the hidden `/d/a`)
 * and efficiency (100 + 0 + 40) / 1440 = 9.7% (it keeps the smallest `/etc/x`, not the top one).
 */
export function analyzeWaste({ layers, changes, flat, signal }: AnalyzeWasteOptions): WasteAnalysis {
  const removed = (changes ?? analyzeLayerChanges({ layers, signal })).removed;
  const tree = flat ?? flattenLayers(layers);
  const surviving = new Set<string>();
  for (const [path, fe] of tree) {
    if (fe.entry.type !== 'file' && fe.entry.type !== 'hardlink') continue;
    const data = resolveFileData(layers, tree, path);
    if (data !== undefined) surviving.add(copyKey(data.layerIndex, data.path));
  }
  const byPath = new Map<string, FileCopy[]>();
  let storedBytes = 0;
  let finalBytes = 0;
  layers.forEach((layer, k) => {
    for (const e of layer.entries()) {
      if (e.type !== 'file') continue;
      storedBytes += e.size;
      const key = copyKey(k, e.path);
      let copy: FileCopy;
      if (surviving.has(key)) {
        finalBytes += e.size;
        copy = { layer: k, size: e.size, fate: 'final' };
      } else {
        const why = removed.get(key);
        copy =
          why !== undefined
            ? { layer: k, size: e.size, fate: why.fate, by: why.by }
            : { layer: k, size: e.size, fate: 'hidden' };
      }
      let list = byPath.get(e.path);
      if (list === undefined) byPath.set(e.path, (list = []));
      list.push(copy);
    }
  });
  const paths: WastedPath[] = [];
  for (const [path, copies] of byPath) {
    let total = 0;
    let reclaimable = 0;
    for (const c of copies) {
      total += c.size;
      if (c.fate !== 'final') reclaimable += c.size;
    }
    if (reclaimable > 0)
      paths.push({
        path: `/${path}`,
        copies,
        totalBytes: total,
        reclaimableBytes: reclaimable,
        inFinal: tree.has(path),
      });
  }
  paths.sort((a, b) => b.reclaimableBytes - a.reclaimableBytes || compareTarPaths(a.path, b.path));
  return {
    storedBytes,
    finalBytes,
    reclaimableBytes: storedBytes - finalBytes,
    efficiency: storedBytes === 0 ? 1 : finalBytes / storedBytes,
    paths,
  };
}
