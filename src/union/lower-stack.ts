/**
 * The read-only part of a union view: the image's layers merged by kernel overlayfs rules,
 * looked up lazily one path at a time and cached (the lower layers never change, so a resolved
 * node stays valid for the life of the stack). Mounting costs O(layers), not O(entries).
 */
import { ErrorCodes, LayerkitError } from '../errors.js';
import type { LayerReader } from '../layer/types.js';
import type { LayerEntry } from '../tar/entry.js';
import { joinPath } from '../tar/path.js';
import { splitComponents } from './paths.js';

/** A path as the merged lower layers show it. */
export interface LowerNode {
  /** Normalised relative path. */
  readonly path: string;
  /** The entry whose attributes the node shows (a hardlink shows its target's). */
  readonly entry: LayerEntry;
  /** Index (bottom = 0) of the layer `entry` comes from. */
  readonly layer: number;
  /** Inode number, shared by the names of one lower hardlink group. */
  readonly ino: number;
  /** For directories: the layers, top first, whose directory merges into this one. */
  readonly dirLayers: readonly number[] | undefined;
  /** For files: where the bytes are (a hardlink points at its target). */
  readonly source: DataSource | undefined;
  /** Children looked up so far, by name (`null`: looked up, missing). */
  kids: Map<string, LowerNode | null> | undefined;
  /** Link count, once computed. */
  links: number | undefined;
}

/** Where a lower file's bytes live: one layer and a path inside it. */
export interface DataSource {
  readonly layer: number;
  readonly path: string;
}

/** Lower inode numbers start here so they never meet the upper layer's own numbers. */
const LOWER_INO_BASE = 2 ** 32;

const IMPLICIT_DIR: Omit<LayerEntry, 'path'> = { type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: 0, size: 0 };

/**
 * The merged lower layers of a union. Rules (overlayfs, OCI layer.md): lookup goes top-down; a
 * whiteout ends it; a non-directory hides everything below it; a directory merges with the
 * directories below it until one is opaque (inclusive), whited out or not a directory; a
 * directory's attributes come from its topmost layer. A layer that has files below a directory
 * without listing the directory itself (a tar without parent entries) counts as having it, with
 * its attributes taken from a layer that does list it (or `0755 root`).
 */
export class LowerStack {
  readonly layers: readonly LayerReader[];
  readonly root: LowerNode;
  readonly #names = new Map<string, readonly string[]>();
  readonly #inos = new Map<string, number>();
  #nextIno = LOWER_INO_BASE;
  #linkCounts: Map<string, number> | undefined;

  constructor(layers: readonly LayerReader[]) {
    this.layers = layers;
    const all: number[] = [];
    for (let i = layers.length - 1; i >= 0; i--) all.push(i);
    this.root = this.#merge('', all) ?? this.#node('', { ...IMPLICIT_DIR, path: '' }, -1, []);
  }

  /** The child `name` of the merged directory `dir`, or undefined when there is none. */
  child(dir: LowerNode, name: string): LowerNode | undefined {
    if (dir.dirLayers === undefined) return undefined;
    let kids = dir.kids;
    if (kids === undefined) kids = dir.kids = new Map();
    const hit = kids.get(name);
    if (hit !== undefined) return hit ?? undefined;
    const node = this.#merge(joinPath(dir.path, name), dir.dirLayers);
    kids.set(name, node ?? null);
    return node;
  }

  /** The node at a normalised path (no symlinks followed), or undefined. */
  lookup(path: string): LowerNode | undefined {
    let node: LowerNode | undefined = this.root;
    if (path === '') return node;
    for (const name of splitComponents(path)) {
      node = this.child(node, name);
      if (node === undefined) return undefined;
    }
    return node;
  }

  /** Names of the merged directory's visible children, sorted by code unit. Cached. */
  names(dir: LowerNode): readonly string[] {
    if (dir.dirLayers === undefined) return [];
    const hit = this.#names.get(dir.path);
    if (hit !== undefined) return hit;
    const seen = new Set<string>();
    for (const i of dir.dirLayers) for (const name of this.layers[i]!.children(dir.path)) seen.add(name);
    const out: string[] = [];
    for (const name of seen) if (this.child(dir, name) !== undefined) out.push(name);
    out.sort();
    this.#names.set(dir.path, out);
    return out;
  }

  /** Reads a lower file's bytes (all of them, or a range): one positioned read. */
  read(node: LowerNode, position?: number, length?: number): Buffer {
    const src = node.source;
    if (src === undefined)
      throw new LayerkitError(ErrorCodes.ERR_NOT_FOUND, `lower path '${node.path}' is not a file`, { path: node.path });
    return this.readSource(src, position, length);
  }

  /** Reads bytes from a data source (a lazy copy-up pointer of the upper layer). */
  readSource(src: DataSource, position?: number, length?: number): Buffer {
    const layer = this.layers[src.layer];
    if (layer === undefined) {
      throw new LayerkitError(
        ErrorCodes.ERR_UNION_LOWER_MISMATCH,
        `no lower layer ${src.layer} holds '${src.path}'`,
        src as unknown as Record<string, unknown>,
      );
    }
    if (position === undefined && length === undefined) return layer.readSync(src.path);
    const opts: { position?: number; length?: number } = {};
    if (position !== undefined) opts.position = position;
    if (length !== undefined) opts.length = length;
    return layer.readSync(src.path, opts);
  }

  /**
   * The link count of a lower file: 1 plus the visible hardlink entries naming it. Built on first
   * use with one pass over the hardlink entries of every layer (a stat of a lower file needs it).
   */
  nlink(node: LowerNode): number {
    if (node.links !== undefined) return node.links;
    if (node.source === undefined) return (node.links = 1);
    this.#linkCounts ??= this.#countLinks();
    return (node.links = this.#linkCounts.get(sourceKey(node.source)) ?? 1);
  }

  #countLinks(): Map<string, number> {
    const counts = new Map<string, number>();
    this.layers.forEach((layer, i) => {
      for (const entry of layer.entries()) {
        if (entry.type !== 'hardlink') continue;
        const node = this.lookup(entry.path);
        if (node?.source === undefined || node.layer !== i) continue;
        const key = sourceKey(node.source);
        const target = counts.has(key) ? undefined : this.lookup(node.source.path);
        const base = counts.get(key) ?? (target?.source !== undefined && sourceKey(target.source) === key ? 1 : 0);
        counts.set(key, base + 1);
      }
    });
    return counts;
  }

  /** Resolves `path` by walking the layers listed in `layers` (top first). */
  #merge(path: string, layers: readonly number[]): LowerNode | undefined {
    let found: LayerEntry | undefined;
    let foundLayer = -1;
    let foundExplicit = false;
    let dirLayers: number[] | undefined;
    for (const i of layers) {
      const layer = this.layers[i]!;
      const explicit = layer.get(path);
      let entry = explicit;
      if (entry === undefined) {
        if (path === '' || layer.isOpaque(path) || layer.children(path).length > 0) entry = { ...IMPLICIT_DIR, path };
        else if (layer.isWhiteout(path)) break;
        else continue;
      }
      if (found === undefined) {
        found = entry;
        foundLayer = i;
        foundExplicit = explicit !== undefined;
        if (entry.type !== 'directory') break;
        dirLayers = [i];
      } else {
        if (entry.type !== 'directory') break;
        dirLayers!.push(i);
        if (!foundExplicit && explicit !== undefined) {
          found = explicit;
          foundExplicit = true;
        }
      }
      if (layer.isOpaque(path) || (path !== '' && layer.isWhiteout(path))) break;
    }
    if (found === undefined) return undefined;
    if (!foundExplicit && dirLayers !== undefined) found = this.#implicitAttributes(path, layers, dirLayers) ?? found;
    if (found.type === 'hardlink') return this.#hardlink(path, found, foundLayer);
    return this.#node(path, found, foundLayer, dirLayers);
  }

  /**
   * Attributes for a directory no merged layer lists: those of the directory below the merge
   * (an opaque marker or a whiteout's parent keeps the existing directory, as an unpacker does),
   * unless a whiteout or a non-directory comes first.
   */
  #implicitAttributes(path: string, layers: readonly number[], dirLayers: readonly number[]): LayerEntry | undefined {
    const last = dirLayers[dirLayers.length - 1]!;
    if (this.layers[last]!.isWhiteout(path)) return undefined;
    for (let k = layers.indexOf(last) + 1; k < layers.length; k++) {
      const layer = this.layers[layers[k]!]!;
      const entry = layer.get(path);
      if (entry !== undefined) return entry.type === 'directory' ? entry : undefined;
      if (layer.isWhiteout(path)) return undefined;
    }
    return undefined;
  }

  #node(path: string, entry: LayerEntry, layer: number, dirLayers: number[] | undefined): LowerNode {
    const source = entry.type === 'file' ? { layer, path } : undefined;
    const ino = entry.type === 'directory' ? this.#nextIno++ : this.#inoFor({ layer, path });
    return { path, entry, layer, ino, dirLayers, source, kids: undefined, links: undefined };
  }

  /** A hardlink entry shows its target: the same layer's entry, else the stack below it. */
  #hardlink(path: string, link: LayerEntry, layer: number): LowerNode {
    const target = link.linkTarget ?? '';
    let targetNode: LowerNode | undefined;
    const own = this.layers[layer]!.get(target);
    if (own !== undefined && own.type !== 'directory' && own.type !== 'hardlink') {
      targetNode = this.#node(target, own, layer, undefined);
    } else {
      const below = new LowerStack(this.layers.slice(0, layer));
      const node = below.lookup(target);
      if (node !== undefined && node.dirLayers === undefined) {
        targetNode = this.#node(
          node.source?.path ?? node.path,
          node.entry,
          node.source?.layer ?? node.layer,
          undefined,
        );
      }
    }
    if (targetNode === undefined) {
      throw new LayerkitError(
        ErrorCodes.ERR_LAYER_FORMAT,
        `hardlink '${path}' in layer ${this.layers[layer]!.diffId} points at '${target}', which is not a non-directory in that layer or below it`,
        { path, target, diffId: this.layers[layer]!.diffId },
      );
    }
    const entry = { ...targetNode.entry, path };
    return {
      path,
      entry,
      layer,
      ino: targetNode.ino,
      dirLayers: undefined,
      source: targetNode.source,
      kids: undefined,
      links: undefined,
    };
  }

  #inoFor(source: DataSource): number {
    const key = sourceKey(source);
    let ino = this.#inos.get(key);
    if (ino === undefined) this.#inos.set(key, (ino = this.#nextIno++));
    return ino;
  }
}

function sourceKey(source: DataSource): string {
  return `${source.layer}\0${source.path}`;
}
