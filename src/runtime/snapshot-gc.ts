/**
 * The extracted layers' part in gc, apart from the snapshotter so that `layerkit run`, which
 * extracts and mounts but never collects, does not load the collector.
 */
import { isDigest } from '../digest/digest.js';
import { type GcRoot, stateDirSize } from '../store/gc.js';
import { SNAPSHOTS_STATE } from './snapshotter.js';

/**
 * Extracted layers in gc: like layer indexes, each lives while an image or container references
 * its diffID (a running container's image is a container root, so a mounted lower never goes).
 */
export const snapshotGcRoot: GcRoot = {
  name: 'extracted layers',
  sweep(store, live, dryRun) {
    const removed: string[] = [];
    let freedBytes = 0;
    for (const hex of store.listState(SNAPSHOTS_STATE)) {
      const diffId = `sha256:${hex}`;
      if (!isDigest(diffId) || live.diffIds.has(diffId)) continue;
      removed.push(diffId);
      freedBytes += stateDirSize(store, `${SNAPSHOTS_STATE}/${hex}`);
      if (!dryRun) store.removeState(`${SNAPSHOTS_STATE}/${hex}`);
    }
    return { removed, freedBytes };
  },
};
