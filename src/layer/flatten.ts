/**
 * Flatten: the tree an image's layers make when applied bottom to top, computed top-down the way
 * go-containerregistry's `mutate.Extract` does (and independently of the union view, so each
 * checks the other): the first layer that has a path wins; a whiteout hides the path and its
 * subtree in lower layers; an opaque directory hides everything lower layers had below it; a
 * non-directory hides the lower subtree. A layer's own markers never hide its own entries.
 */
import { compareTarPaths } from '../tar/path.js';
import { implicitDirs } from './implicit-dirs.js';
import type { LayerEntry, LayerReader } from './types.js';

/** One entry of a flattened tree and the layer it came from. */
export interface FlatEntry {
  entry: LayerEntry;
  /** Index (bottom = 0) of the layer the entry came from; -1 for a directory no layer described. */
  layer: number;
}

function ancestors(path: string): string[] {
  const out: string[] = [];
  for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) out.push(path.slice(0, i));
  return out;
}

/**
 * Flattens layers (bottom first) into a map of path → entry, sorted with parents before children.
 * The root (`''`) is included only when a layer has an entry for it.
 */
export function flattenLayers(layers: readonly LayerReader[]): Map<string, FlatEntry> {
  const result = new Map<string, FlatEntry>();
  /** Paths hidden (with their subtrees) for the layers below the current one. */
  const gone = new Set<string>();
  /** Directories whose lower contents are hidden. */
  const opaque = new Set<string>();
  /** Directories implied by upper layers, waiting for attributes from below. */
  const implied = new Set<string>();

  const hidden = (path: string): boolean => {
    if (gone.has(path)) return true;
    for (const a of ancestors(path)) {
      if (gone.has(a) || opaque.has(a)) return true;
      const r = result.get(a);
      if (r !== undefined && r.entry.type !== 'directory') return true;
    }
    return path !== '' && opaque.has('');
  };

  for (let k = layers.length - 1; k >= 0; k--) {
    const layer = layers[k]!;
    for (const entry of layer.entries()) {
      const path = entry.path;
      if (hidden(path)) continue;
      const have = result.get(path);
      if (have !== undefined) {
        if (implied.has(path) && entry.type === 'directory') {
          result.set(path, { entry, layer: k });
          implied.delete(path);
        } else if (entry.type !== 'directory') {
          // A non-directory here replaced whatever lower layers had at and below this path,
          // even though an upper layer made it a directory again.
          implied.delete(path);
          gone.add(path);
        }
        continue;
      }
      result.set(path, { entry, layer: k });
    }
    const dirs = 'isImplicitDir' in layer ? implicitDirs(layer) : [];
    for (const dir of dirs) {
      if (hidden(dir) || result.has(dir)) continue;
      result.set(dir, {
        entry: { path: dir, type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: 0, size: 0 },
        layer: -1,
      });
      implied.add(dir);
    }
    // This layer's markers take effect for the layers below it.
    for (const w of layer.whiteouts()) gone.add(w);
    for (const d of layer.opaqueDirs()) opaque.add(d);
    // Implied directories stop being implied once a layer that is opaque for them is passed.
    for (const d of [...implied]) if (opaque.has(d) || gone.has(d)) implied.delete(d);
  }
  return new Map([...result].sort(([a], [b]) => compareTarPaths(a, b)));
}

/**
 * Orders paths with parents first and `/` sorting before every other character: the layer order
 * of {@link compareTarPaths}, under the name flatten's callers know.
 */
export const comparePaths: (a: string, b: string) => number = compareTarPaths;

/** Where a flattened file's bytes are: the layer (and its position in the stack), the path in it and the file entry itself. */
export interface FileData {
  layer: LayerReader;
  /** Position of `layer` in the stack (bottom = 0). */
  layerIndex: number;
  path: string;
  size: number;
  /** The regular-file entry whose data this is: a hardlink shares its inode, so its mode and owners too. */
  entry: LayerEntry;
}

/**
 * The regular file a flattened file (or hardlink) reads. A hardlink is resolved the way an
 * unpacker applying the layers bottom-up resolves it: against the tree *as it stood when the
 * link's layer was applied* (its own layer first, then down the stack, stopping at whiteouts,
 * opaque directories and replaced parents). So a link keeps the data it was made on, even when a
 * later layer deletes or replaces its target (that layer unlinks the path and writes a new inode).
 * Two flattened paths share an inode exactly when this returns the same `layerIndex` and `path`.
 */
export function resolveFileData(
  layers: readonly LayerReader[],
  flat: Map<string, FlatEntry>,
  path: string,
): FileData | undefined {
  const start = flat.get(path);
  if (start === undefined) return undefined;
  let entry = start.entry;
  let k = start.layer;
  let p = path;
  for (let hops = 0; hops < 64; hops++) {
    if (entry.type === 'file' && k >= 0) return { layer: layers[k]!, layerIndex: k, path: p, size: entry.size, entry };
    if (entry.type !== 'hardlink' || entry.linkTarget === undefined || k < 0) return undefined;
    const found = lookupAt(layers, k, entry.linkTarget);
    if (found === undefined) return undefined;
    p = entry.linkTarget;
    entry = found.entry;
    k = found.layer;
  }
  return undefined;
}

/** The entry at `path` in the tree layers `0..top` make (a layer's own entries win over its own markers). */
function lookupAt(
  layers: readonly LayerReader[],
  top: number,
  path: string,
): { entry: LayerEntry; layer: number } | undefined {
  const parents = ['', ...ancestors(path)];
  for (let j = top; j >= 0; j--) {
    const layer = layers[j]!;
    const e = layer.get(path);
    if (e !== undefined) return { entry: e, layer: j };
    if (layer.isWhiteout(path)) return undefined;
    for (const a of parents) {
      if (layer.isOpaque(a)) return undefined;
      if (a === '') continue;
      if (layer.isWhiteout(a)) return undefined;
      const ae = layer.get(a);
      if (ae !== undefined && ae.type !== 'directory') return undefined;
    }
  }
  return undefined;
}
