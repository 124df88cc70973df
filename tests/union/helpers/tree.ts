/**
 * Test helpers: layer specs, an independent flatten (applies layers the way an unpacker does,
 * sharing no code with the union), turning `diff()` into a layer, and reading a whole tree back
 * from a union view or a real directory, in one comparable form.
 */
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { createMemoryLayer, type MemoryLayerEntryInput } from '../../../src/layer/memory-layer.js';
import type { LayerReader } from '../../../src/layer/types.js';
import type { DiffEntry, UnionFS } from '../../../src/union/index.js';

/** A node of a flattened tree, in the form every side is compared in. */
export interface TreeNode {
  type: 'file' | 'directory' | 'symlink';
  mode: number;
  uid: number;
  gid: number;
  data?: string;
  linkTarget?: string;
}

/** A whole tree: relative path → node, root left out. */
export type Tree = Map<string, TreeNode>;

/** One layer of a test image. */
export interface LayerSpec {
  entries: Array<{
    path: string;
    type: 'file' | 'directory' | 'symlink' | 'hardlink';
    mode?: number;
    uid?: number;
    gid?: number;
    data?: string;
    linkTarget?: string;
  }>;
  whiteouts?: string[];
  opaqueDirs?: string[];
}

/** Builds memory layers from specs. */
export function makeLayers(specs: readonly LayerSpec[]): LayerReader[] {
  return specs.map((s) =>
    createMemoryLayer({
      entries: s.entries as MemoryLayerEntryInput[],
      whiteouts: s.whiteouts ?? [],
      opaqueDirs: s.opaqueDirs ?? [],
    }),
  );
}

function dropSubtree(tree: Tree, path: string, keepSelf: boolean): void {
  for (const p of [...tree.keys()])
    if ((p === path && !keepSelf) || p.startsWith(`${path}/`) || (path === '' && p !== '')) tree.delete(p);
}

/**
 * Applies layers bottom-up onto an empty tree, as an unpacker would (OCI layer.md): a layer's
 * opaque markers and whiteouts first (they only touch what lower layers made; the directories
 * holding them are made after), then its
 * entries parents-first; missing parents become `0755 root` directories; a hardlink copies its
 * target's node as the tree is at that point.
 */
export function flattenLayers(layers: readonly LayerReader[]): Tree {
  const tree: Tree = new Map();
  const ensureParents = (path: string): void => {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const p = parts.slice(0, i).join('/');
      const n = tree.get(p);
      if (n?.type === 'directory') continue;
      if (n !== undefined) dropSubtree(tree, p, false);
      tree.set(p, { type: 'directory', mode: 0o755, uid: 0, gid: 0 });
    }
  };
  for (const layer of layers) {
    for (const dir of layer.opaqueDirs())
      if (tree.get(dir)?.type === 'directory' || dir === '') dropSubtree(tree, dir, true);
    for (const w of layer.whiteouts()) dropSubtree(tree, w, false);
    for (const w of layer.whiteouts()) ensureParents(w);
    for (const dir of layer.opaqueDirs()) ensureParents(`${dir}/x`);
    for (const e of layer.entries()) {
      if (e.path === '') continue;
      ensureParents(e.path);
      const old = tree.get(e.path);
      if (old !== undefined && (old.type !== 'directory' || e.type !== 'directory')) dropSubtree(tree, e.path, false);
      if (e.type === 'hardlink') {
        const target = tree.get(e.linkTarget ?? '');
        if (target === undefined) throw new Error(`flatten: hardlink ${e.path} -> ${e.linkTarget} has no target`);
        tree.set(e.path, { ...target });
        continue;
      }
      const node: TreeNode = { type: e.type as TreeNode['type'], mode: e.mode, uid: e.uid, gid: e.gid };
      if (e.type === 'file') node.data = layer.readSync(e.path).toString('latin1');
      if (e.type === 'symlink') node.linkTarget = e.linkTarget ?? '';
      tree.set(e.path, node);
    }
  }
  return tree;
}

/** Turns a `diff()` into a memory layer (whiteout and opaque names decoded, hardlinks kept). */
export function layerFromDiff(diff: readonly DiffEntry[]): LayerReader {
  const entries: MemoryLayerEntryInput[] = [];
  const whiteouts: string[] = [];
  const opaqueDirs: string[] = [];
  for (const { header: h, data } of diff) {
    const slash = h.path.lastIndexOf('/');
    const dir = slash < 0 ? '' : h.path.slice(0, slash);
    const name = h.path.slice(slash + 1);
    if (name === '.wh..wh..opq') opaqueDirs.push(dir);
    else if (name.startsWith('.wh.')) whiteouts.push(dir === '' ? name.slice(4) : `${dir}/${name.slice(4)}`);
    else {
      const e: MemoryLayerEntryInput = {
        path: h.path,
        type: h.type,
        mode: h.mode,
        uid: h.uid,
        gid: h.gid,
        mtime: h.mtime,
      };
      if (h.linkTarget !== undefined) e.linkTarget = h.linkTarget;
      if (data !== undefined) e.data = data();
      entries.push(e);
    }
  }
  return createMemoryLayer({ entries, whiteouts, opaqueDirs });
}

/** Reads the whole tree of a union view (lstat, readdir, readFile, readlink). */
export function treeOfUnion(fs: UnionFS): Tree {
  const tree: Tree = new Map();
  const walk = (dir: string): void => {
    for (const name of fs.readdirSync(dir === '' ? '/' : `/${dir}`)) {
      const path = dir === '' ? name : `${dir}/${name}`;
      const st = fs.lstatSync(`/${path}`);
      const type = st.isDirectory() ? 'directory' : st.isSymbolicLink() ? 'symlink' : 'file';
      const node: TreeNode = { type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
      if (type === 'file') node.data = fs.readFileSync(`/${path}`).toString('latin1');
      if (type === 'symlink') node.linkTarget = fs.readlinkSync(`/${path}`);
      tree.set(path, node);
      if (type === 'directory') walk(path);
    }
  };
  walk('');
  return tree;
}

/** Reads the whole tree of a real directory. */
export async function treeOfDir(root: string): Promise<Tree> {
  const tree: Tree = new Map();
  const walk = async (dir: string): Promise<void> => {
    for (const name of (await readdir(join(root, dir))).sort()) {
      const path = dir === '' ? name : `${dir}/${name}`;
      const st = await lstat(join(root, path));
      const type = st.isDirectory() ? 'directory' : st.isSymbolicLink() ? 'symlink' : 'file';
      const node: TreeNode = { type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
      if (type === 'file') node.data = (await readFile(join(root, path))).toString('latin1');
      if (type === 'symlink') node.linkTarget = await readlink(join(root, path));
      tree.set(path, node);
      if (type === 'directory') await walk(path);
    }
  };
  await walk('');
  return tree;
}

/** A tree as a sorted plain object, for readable `toEqual` failures. */
export function plain(tree: Tree): Record<string, string> {
  const out: Record<string, string> = {};
  for (const path of [...tree.keys()].sort()) {
    const n = tree.get(path)!;
    out[path] =
      `${n.type} ${n.mode.toString(8)} ${n.uid}:${n.gid}${n.data !== undefined ? ` ${JSON.stringify(n.data)}` : ''}${n.linkTarget !== undefined ? ` -> ${n.linkTarget}` : ''}`;
  }
  return out;
}
