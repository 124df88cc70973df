/**
 * The directories a layer implies without an entry (a tar may omit parents): found by walking
 * `children()` from the root. Flatten and the layer-changes report both need them, in this order.
 */
import { joinPath } from '../tar/path.js';
import type { LayerReader } from './types.js';

/** The directories a layer has no entry for but implies, parents first. */
export function implicitDirs(layer: LayerReader): string[] {
  // Implicit directories are the children() names that have neither an entry nor a whiteout.
  const out: string[] = [];
  const visit = (dir: string): void => {
    for (const name of layer.children(dir)) {
      const path = joinPath(dir, name);
      if (layer.isImplicitDir(path)) {
        out.push(path);
        visit(path);
      } else if (layer.get(path)?.type === 'directory') {
        visit(path);
      }
    }
  };
  visit('');
  return out;
}
