/**
 * What each layer of a stack changes, found by applying the layers bottom up the way an unpacker
 * does (whiteouts and opaque markers first, hiding only what the lower layers made, then the
 * layer's entries), on a tree of nodes so that removing a directory costs the size of its subtree.
 *
 * Along the way every regular-file copy that leaves the tree is recorded with the reason and the
 * layer responsible; the waste analysis uses that to say why a copy is invisible.
 */
import { throwIfAborted } from '../errors.js';
import { implicitDirs } from '../layer/implicit-dirs.js';
import { compareTarPaths } from '../tar/path.js';
import type { LayerReader } from '../layer/types.js';
import type { LayerEntry } from '../tar/entry.js';
import type { CopyFate, DeleteCause, FileChange } from './types.js';

/** What one layer added, modified and deleted (sorted by path). */
export interface LayerChangeSet {
  added: FileChange[];
  modified: FileChange[];
  deleted: FileChange[];
}

/** Why a file copy left the tree, and which layer made it leave. */
export interface CopyRemoval {
  fate: Exclude<CopyFate, 'final'>;
  by: number;
}

/** What {@link analyzeLayerChanges} returns. */
export interface LayerChangesResult {
  /** One change set per layer, bottom first. */
  layers: LayerChangeSet[];
  /** Regular-file copies that left the tree, keyed by {@link copyKey}. */
  removed: Map<string, CopyRemoval>;
}

/** Options for {@link analyzeLayerChanges}. */
export interface AnalyzeLayerChangesOptions {
  /** The stack, bottom first. */
  layers: readonly LayerReader[];
  signal?: AbortSignal | undefined;
}

/** The key of the copy of relative `path` stored in layer position `layer`. */
export function copyKey(layer: number, path: string): string {
  return `${layer}\u0000${path}`;
}

interface TreeNode {
  /** Undefined for a directory no layer gave attributes (a parent implied by its children). */
  entry: LayerEntry | undefined;
  layer: number;
  children: Map<string, TreeNode> | undefined;
}

const isDir = (n: TreeNode): boolean => n.entry === undefined || n.entry.type === 'directory';
const abs = (p: string): string => `/${p}`;
const join = (dir: string, name: string): string => (dir === '' ? name : `${dir}/${name}`);

/**
 * Classifies every layer's entries against the tree the layers below it make:
 * - **added**: the path is not in that tree (a parent the layer only implies counts as an added
 *   directory);
 * - **modified**: the path is in that tree (a directory is listed only when its type, mode or
 *   owner changed, so parents re-listed by every layer are not noise; a file is always listed,
 *   with `differs: []` when it is an identical copy);
 * - **deleted**: paths of that tree this layer removes without writing them again: a whiteout of
 *   the path or of a parent (`whiteout`), everything below a directory the layer marks opaque
 *   (`opaque`), everything below a directory the layer replaces with a non-directory
 *   (`replaced`). A non-directory the layer turns into a directory by writing below it is a
 *   modified directory (`differs: ['type']`).
 */
export function analyzeLayerChanges({ layers, signal }: AnalyzeLayerChangesOptions): LayerChangesResult {
  const root: TreeNode = { entry: undefined, layer: -1, children: new Map() };
  const removed = new Map<string, CopyRemoval>();
  const result: LayerChangeSet[] = [];

  const lookup = (path: string): TreeNode | undefined => {
    if (path === '') return root;
    let node: TreeNode | undefined = root;
    for (const name of path.split('/')) {
      node = node.children?.get(name);
      if (node === undefined) return undefined;
    }
    return node;
  };

  for (let k = 0; k < layers.length; k++) {
    throwIfAborted(signal);
    const layer = layers[k]!;
    const entries = [...layer.entries()];
    const own = new Set(entries.map((e) => e.path));
    // What the lower layers had at each path this layer writes (copied: nodes change below).
    const priors = new Map<string, { entry: LayerEntry | undefined; layer: number }>();
    for (const e of entries) {
      const prior = lookup(e.path);
      if (prior !== undefined) priors.set(e.path, { entry: prior.entry, layer: prior.layer });
    }
    const changes: LayerChangeSet = { added: [], modified: [], deleted: [] };

    /** Records why `node` (at `path`, already detached) and its subtree left the tree. */
    const drop = (node: TreeNode, path: string, cause: DeleteCause, by: string, selfOverwritten: boolean): void => {
      const visit = (n: TreeNode, p: string, top: boolean): void => {
        const rewritten = (top && selfOverwritten) || own.has(p);
        if (n.entry?.type === 'file' && n.layer >= 0) {
          removed.set(copyKey(n.layer, p), {
            fate: rewritten
              ? 'overwritten'
              : cause === 'whiteout'
                ? 'deleted'
                : cause === 'opaque'
                  ? 'hidden'
                  : 'replaced',
            by: k,
          });
        }
        if (!rewritten) {
          const change: FileChange = {
            path: abs(p),
            type: n.entry?.type ?? 'directory',
            size: n.entry?.type === 'file' ? n.entry.size : 0,
            cause,
            by: abs(by),
            from: n.entry === undefined ? -1 : n.layer,
          };
          if (n.entry?.linkTarget !== undefined) change.linkTarget = n.entry.linkTarget;
          changes.deleted.push(change);
        }
        for (const [childName, child] of n.children ?? []) visit(child, join(p, childName), false);
      };
      visit(node, path, true);
    };
    /** Detaches the child `name` of `parent` (at `path`) and records why. */
    const removeChild = (
      parent: TreeNode,
      name: string,
      path: string,
      cause: DeleteCause,
      by: string,
      selfOverwritten: boolean,
    ): void => {
      const node = parent.children?.get(name);
      if (node === undefined) return;
      parent.children!.delete(name);
      drop(node, path, cause, by, selfOverwritten);
    };
    const split = (path: string): { parentPath: string; name: string } => {
      const slash = path.lastIndexOf('/');
      return { parentPath: slash < 0 ? '' : path.slice(0, slash), name: path.slice(slash + 1) };
    };

    // Markers hide what the lower layers made, never what this layer writes.
    for (const w of layer.whiteouts()) {
      const { parentPath, name } = split(w);
      const parent = lookup(parentPath);
      if (parent !== undefined && w !== '') removeChild(parent, name, w, 'whiteout', w, own.has(w));
    }
    for (const d of layer.opaqueDirs()) {
      const dir = lookup(d);
      if (dir === undefined || !isDir(dir)) continue;
      for (const name of [...(dir.children?.keys() ?? [])]) removeChild(dir, name, join(d, name), 'opaque', d, false);
    }

    // Then the entries, parents first.
    const ensureDir = (path: string): TreeNode => {
      let node = root;
      let p = '';
      for (const name of path === '' ? [] : path.split('/')) {
        p = join(p, name);
        let child = node.children!.get(name);
        if (child !== undefined && !isDir(child)) {
          // A non-directory that this layer writes below: the unpacker makes it a directory.
          if (child.entry?.type === 'file' && child.layer >= 0)
            removed.set(copyKey(child.layer, p), { fate: 'overwritten', by: k });
          const made: TreeNode = { entry: undefined, layer: k, children: new Map() };
          node.children!.set(name, made);
          if (!own.has(p))
            changes.modified.push({ path: abs(p), type: 'directory', size: 0, differs: ['type'], from: child.layer });
          child = made;
        }
        if (child === undefined) {
          child = { entry: undefined, layer: k, children: new Map() };
          node.children!.set(name, child);
          if (!own.has(p)) changes.added.push({ path: abs(p), type: 'directory', size: 0 });
        }
        node = child;
      }
      return node;
    };
    // Directories the layer implies (parents of its entries and markers) exist in its tree, as
    // flatten has them.
    for (const d of implicitDirs(layer)) ensureDir(d);
    for (const e of entries) {
      if (e.path === '') {
        root.entry = e;
        root.layer = k;
        continue;
      }
      const { parentPath, name } = split(e.path);
      const parent = ensureDir(parentPath);
      const existing = parent.children!.get(name);
      const dir = e.type === 'directory';
      if (existing !== undefined && isDir(existing) && dir) {
        existing.entry = e;
        existing.layer = k;
      } else {
        if (existing !== undefined) {
          // The entry itself is overwritten; what was below a directory it replaces is gone.
          parent.children!.delete(name);
          if (existing.entry?.type === 'file' && existing.layer >= 0)
            removed.set(copyKey(existing.layer, e.path), { fate: 'overwritten', by: k });
          for (const [childName, child] of existing.children ?? [])
            drop(child, join(e.path, childName), 'replaced', e.path, false);
        }
        parent.children!.set(name, { entry: e, layer: k, children: dir ? new Map() : undefined });
      }
      const prior = priors.get(e.path);
      if (prior === undefined) {
        changes.added.push(toChange(e));
      } else {
        const differs = differences(prior.entry, e);
        if (!dir || differs.length > 0) {
          const change = toChange(e);
          change.differs = differs;
          change.from = prior.entry === undefined ? -1 : prior.layer;
          if (e.type === 'file' && prior.entry?.type === 'file') change.sizeBefore = prior.entry.size;
          changes.modified.push(change);
        }
      }
    }
    const byPath = (a: FileChange, b: FileChange): number => compareTarPaths(a.path, b.path);
    changes.added.sort(byPath);
    changes.modified.sort(byPath);
    changes.deleted.sort(byPath);
    result.push(changes);
  }
  return { layers: result, removed };
}

function toChange(e: LayerEntry): FileChange {
  const change: FileChange = { path: abs(e.path), type: e.type, size: e.type === 'file' ? e.size : 0 };
  if (e.linkTarget !== undefined) change.linkTarget = e.linkTarget;
  return change;
}

/** What differs between the entry below and the new one (mtime ignored, as dive and BuildKit do). */
function differences(before: LayerEntry | undefined, after: LayerEntry): string[] {
  if (before === undefined) return after.type === 'directory' ? [] : ['type'];
  if (before.type !== after.type) return ['type'];
  const out: string[] = [];
  if (after.type === 'file') {
    const changed =
      before.sha256 !== undefined && after.sha256 !== undefined
        ? before.sha256 !== after.sha256
        : before.size !== after.size;
    if (changed) out.push('content');
  } else if (after.type === 'char' || after.type === 'block') {
    if (before.devmajor !== after.devmajor || before.devminor !== after.devminor) out.push('content');
  }
  if ((after.type === 'symlink' || after.type === 'hardlink') && before.linkTarget !== after.linkTarget)
    out.push('link');
  if (before.mode !== after.mode) out.push('mode');
  if (before.uid !== after.uid || before.gid !== after.gid) out.push('owner');
  if (JSON.stringify(sortedXattrs(before)) !== JSON.stringify(sortedXattrs(after))) out.push('xattrs');
  return out;
}

function sortedXattrs(e: LayerEntry): Array<[string, string]> {
  return Object.entries(e.xattrs ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
