/**
 * Layer indexes, the state this module owns: `layerkit/layers/<diffID hex>/index.json` (format
 * version 1, {@link LayerIndexData}) plus, unless the index points into a blob, `data.tar`, the
 * layer's uncompressed copy. They are derived data: a damaged one is `ERR_STORE_CORRUPT` naming
 * the folder to remove (it is rebuilt from the layer blob on next use); gc removes those of diffIDs
 * no image, container or cache record uses.
 */
import { digestHex, isDigest, type Digest } from '../digest/digest.js';
import type { LayerkitError } from '../errors.js';
import type { GcRoot } from '../store/gc.js';
import { stateDirSize } from '../store/gc.js';
import { checkFormatVersion, corruptFile, readJsonFile, type JsonFileMeaning } from '../store/state.js';
import type { Store } from '../store/store.js';
import type { LayerIndexData } from './layer-index.js';

/** The folder (under the private state) holding per-layer state, one folder per diffID hex. */
export const LAYERS_STATE = 'layers';
/** The format version of `index.json`. */
export const LAYER_INDEX_VERSION = 1;

/** The folder of a diffID's layer state. */
export function layerStateDir(store: Store, diffId: Digest): string {
  return store.statePath(LAYERS_STATE, digestHex(diffId));
}

function meaning(dir: string): JsonFileMeaning {
  return { what: 'layer index', fix: `remove the folder ${dir}: it is rebuilt from the layer blob on next use` };
}

/**
 * The stored index data of a layer folder, or undefined when there is none (or it is of another
 * version or diffID). A damaged file is `ERR_STORE_CORRUPT`.
 */
export function readLayerIndexData(store: Store, dir: string, diffId?: Digest): LayerIndexData | undefined {
  const path = `${dir}/index.json`;
  const value = readJsonFile(store.fs, path, meaning(dir)) as Partial<LayerIndexData> | undefined;
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || !Array.isArray(value.paths) || typeof value.diffId !== 'string')
    throw corruptFile(path, meaning(dir), 'is not a layer index');
  // A newer layerkit's index is refused (rebuilding it here would replace it with an older format).
  checkFormatVersion(path, 'layer index', value.version, LAYER_INDEX_VERSION);
  if (value.version !== LAYER_INDEX_VERSION || (diffId !== undefined && value.diffId !== diffId)) return undefined;
  return value as LayerIndexData;
}

/** Layer indexes in gc: damaged ones are reported; those of diffIDs nothing uses are swept. */
export const layerIndexGcRoot: GcRoot = {
  name: 'layer indexes',
  mark(store) {
    const damaged: LayerkitError[] = [];
    for (const hex of store.listState(LAYERS_STATE)) {
      try {
        readLayerIndexData(store, store.statePath(LAYERS_STATE, hex));
      } catch (err) {
        damaged.push(err as LayerkitError);
      }
    }
    return { damaged };
  },
  sweep(store, live, dryRun) {
    const removed: Digest[] = [];
    let freedBytes = 0;
    for (const hex of store.listState(LAYERS_STATE)) {
      const diffId = `sha256:${hex}`;
      if (isDigest(diffId) && !live.diffIds.has(diffId)) {
        removed.push(diffId);
        freedBytes += stateDirSize(store, `${LAYERS_STATE}/${hex}`);
        if (!dryRun) store.removeState(`${LAYERS_STATE}/${hex}`);
      }
    }
    return { removed, freedBytes };
  },
};
