/**
 * A plain in-memory filesystem used as the reference model in property tests: a tree of inodes
 * with POSIX/Linux rules (as root, umask 022) and Linux's error codes, no layers at all. It
 * starts from a flattened tree and must end where the union view ends.
 */
import type { Tree, TreeNode } from './tree.js';

interface MFile {
  type: 'file';
  mode: number;
  uid: number;
  gid: number;
  data: Buffer;
}
interface MLink {
  type: 'symlink';
  mode: number;
  uid: number;
  gid: number;
  target: string;
}
interface MDir {
  type: 'directory';
  mode: number;
  uid: number;
  gid: number;
  children: Map<string, MNode>;
}
type MNode = MFile | MLink | MDir;

/** A failed model operation, carrying the errno code the union must give too. */
export class ModelError extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

interface Where {
  parent: MDir;
  name: string;
  node: MNode | undefined;
  chain: MDir[];
}

/** The reference filesystem. */
export class ModelFs {
  readonly root: MDir = { type: 'directory', mode: 0o755, uid: 0, gid: 0, children: new Map() };

  constructor(tree: Tree) {
    for (const path of [...tree.keys()].sort()) {
      const n = tree.get(path)!;
      const parts = path.split('/');
      let dir = this.root;
      for (const p of parts.slice(0, -1)) dir = dir.children.get(p) as MDir;
      dir.children.set(parts[parts.length - 1]!, fromTree(n));
    }
  }

  #resolve(path: string, follow: boolean, allowMissing = false): Where {
    let queue = path.split('/').filter((p) => p !== '' && p !== '.');
    let dir = this.root;
    let chain: MDir[] = [];
    let hops = 0;
    let name = '';
    while (queue.length > 0) {
      name = queue.shift()!;
      if (name === '..') {
        dir = chain.pop() ?? dir;
        name = '';
        continue;
      }
      const node = dir.children.get(name);
      const last = queue.length === 0;
      if (node === undefined) {
        if (last && allowMissing) return { parent: dir, name, node, chain };
        throw new ModelError('ENOENT');
      }
      if (node.type === 'symlink' && (!last || follow)) {
        if (++hops > 40) throw new ModelError('ELOOP');
        if (node.target === '') throw new ModelError('ENOENT');
        if (node.target.startsWith('/')) {
          dir = this.root;
          chain = [];
        }
        queue = [...node.target.split('/').filter((p) => p !== '' && p !== '.'), ...queue];
        name = '';
        continue;
      }
      if (last) return { parent: dir, name, node, chain };
      if (node.type !== 'directory') throw new ModelError('ENOTDIR');
      chain.push(dir);
      dir = node;
    }
    // Ended on a directory reached through `..` or a symlink: look it up in its parent.
    const parent = chain[chain.length - 1] ?? dir;
    const entry = [...parent.children].find(([, n]) => n === dir);
    return { parent, name: entry?.[0] ?? '', node: dir, chain: chain.slice(0, -1) };
  }

  #isRoot(w: Where): boolean {
    return w.node === this.root;
  }

  readFile(path: string): string {
    const w = this.#resolve(path, true);
    if (w.node!.type === 'directory') throw new ModelError('EISDIR');
    return (w.node as MFile).data.toString('latin1');
  }

  readdir(path: string): string[] {
    const w = this.#resolve(path, true);
    if (w.node!.type !== 'directory') throw new ModelError('ENOTDIR');
    return [...w.node!.children.keys()].sort();
  }

  stat(path: string, follow: boolean): string {
    const n = this.#resolve(path, follow).node!;
    const size = n.type === 'file' ? n.data.length : n.type === 'symlink' ? Buffer.byteLength(n.target) : 4096;
    return `${n.type} ${n.mode.toString(8)} ${n.uid}:${n.gid} ${size}`;
  }

  writeFile(path: string, data: string, append: boolean): void {
    const w = this.#resolve(path, true, true);
    if (w.node === undefined) {
      w.parent.children.set(w.name, { type: 'file', mode: 0o644, uid: 0, gid: 0, data: Buffer.from(data, 'latin1') });
      return;
    }
    if (w.node.type === 'directory') throw new ModelError('EISDIR');
    const f = w.node as MFile;
    f.data = append ? Buffer.concat([f.data, Buffer.from(data, 'latin1')]) : Buffer.from(data, 'latin1');
  }

  truncate(path: string, length: number): void {
    const w = this.#resolve(path, true);
    if (w.node!.type === 'directory') throw new ModelError('EISDIR');
    const f = w.node as MFile;
    const out = Buffer.alloc(length);
    f.data.copy(out, 0, 0, Math.min(length, f.data.length));
    f.data = out;
  }

  unlink(path: string): void {
    const w = this.#resolve(path, false);
    if (w.node!.type === 'directory') throw new ModelError('EISDIR');
    w.parent.children.delete(w.name);
  }

  rmdir(path: string): void {
    const w = this.#resolve(path, false);
    if (w.node!.type !== 'directory') throw new ModelError('ENOTDIR');
    if (this.#isRoot(w)) throw new ModelError('EBUSY');
    if (w.node!.children.size > 0) throw new ModelError('ENOTEMPTY');
    w.parent.children.delete(w.name);
  }

  rmRecursive(path: string): void {
    const w = this.#resolve(path, false);
    if (this.#isRoot(w)) throw new ModelError('EBUSY');
    w.parent.children.delete(w.name);
  }

  mkdir(path: string): void {
    const w = this.#resolve(path, false, true);
    if (w.node !== undefined) throw new ModelError('EEXIST');
    w.parent.children.set(w.name, { type: 'directory', mode: 0o755, uid: 0, gid: 0, children: new Map() });
  }

  mkdirRecursive(path: string): void {
    const parts = path.split('/');
    for (let i = 1; i <= parts.length; i++) {
      if (parts[i - 1] === '' || parts[i - 1] === '.') continue;
      let w = this.#resolve(parts.slice(0, i).join('/'), false, true);
      if (w.node?.type === 'symlink') w = this.#resolve(parts.slice(0, i).join('/'), true);
      if (w.node?.type === 'directory') continue;
      if (w.node !== undefined) throw new ModelError(i === parts.length ? 'EEXIST' : 'ENOTDIR');
      w.parent.children.set(w.name, { type: 'directory', mode: 0o755, uid: 0, gid: 0, children: new Map() });
    }
  }

  symlink(target: string, path: string): void {
    const w = this.#resolve(path, false, true);
    if (w.node !== undefined) throw new ModelError('EEXIST');
    w.parent.children.set(w.name, { type: 'symlink', mode: 0o777, uid: 0, gid: 0, target });
  }

  link(existing: string, newPath: string): void {
    const a = this.#resolve(existing, false);
    const b = this.#resolve(newPath, false, true);
    if (b.node !== undefined) throw new ModelError('EEXIST');
    if (a.node!.type === 'directory') throw new ModelError('EPERM');
    b.parent.children.set(b.name, a.node!);
  }

  rename(from: string, to: string): void {
    const a = this.#resolve(from, false, true);
    const b = this.#resolve(to, false, true);
    if (a.node === undefined) throw new ModelError('ENOENT');
    if (this.#isRoot(a) || this.#isRoot(b)) throw new ModelError('EBUSY');
    if (a.parent === b.parent && a.name === b.name) return;
    const src = a.node!;
    if (src.type === 'directory' && (b.parent === src || b.chain.includes(src))) throw new ModelError('EINVAL');
    if (b.node !== undefined && (a.parent === b.node || a.chain.includes(b.node as MDir)))
      throw new ModelError('ENOTEMPTY');
    if (b.node !== undefined) {
      if (b.node === src) return;
      if (src.type === 'directory') {
        if (b.node.type !== 'directory') throw new ModelError('ENOTDIR');
        if (b.node.children.size > 0) throw new ModelError('ENOTEMPTY');
      } else if (b.node.type === 'directory') throw new ModelError('EISDIR');
    }
    a.parent.children.delete(a.name);
    b.parent.children.set(b.name, src);
  }

  chmod(path: string, mode: number): void {
    this.#resolve(path, true).node!.mode = mode & 0o7777;
  }

  chown(path: string, uid: number, gid: number, follow: boolean): void {
    const n = this.#resolve(path, follow).node!;
    n.uid = uid;
    n.gid = gid;
    if (n.type !== 'directory') {
      n.mode &= ~0o4000;
      if ((n.mode & 0o010) !== 0) n.mode &= ~0o2000;
    }
  }

  copyFile(from: string, to: string): void {
    const a = this.#resolve(from, true);
    if (a.node!.type === 'directory') throw new ModelError('EISDIR');
    const b = this.#resolve(to, true, true);
    if (b.node?.type === 'directory') throw new ModelError('EISDIR');
    const src = a.node as MFile;
    if (b.node === src) return;
    if (b.node === undefined)
      b.parent.children.set(b.name, { type: 'file', mode: src.mode, uid: 0, gid: 0, data: Buffer.from(src.data) });
    else Object.assign(b.node as MFile, { data: Buffer.from(src.data), mode: src.mode });
  }

  /** The tree in the comparable form. */
  tree(): Tree {
    const out: Tree = new Map();
    const walk = (dir: MDir, prefix: string): void => {
      for (const [name, n] of dir.children) {
        const path = prefix === '' ? name : `${prefix}/${name}`;
        const node: TreeNode = { type: n.type, mode: n.mode, uid: n.uid, gid: n.gid };
        if (n.type === 'file') node.data = n.data.toString('latin1');
        if (n.type === 'symlink') node.linkTarget = n.target;
        out.set(path, node);
        if (n.type === 'directory') walk(n, path);
      }
    };
    walk(this.root, '');
    return out;
  }
}

function fromTree(n: TreeNode): MNode {
  if (n.type === 'file')
    return { type: 'file', mode: n.mode, uid: n.uid, gid: n.gid, data: Buffer.from(n.data ?? '', 'latin1') };
  if (n.type === 'symlink')
    return { type: 'symlink', mode: n.mode, uid: n.uid, gid: n.gid, target: n.linkTarget ?? '' };
  return { type: 'directory', mode: n.mode, uid: n.uid, gid: n.gid, children: new Map() };
}
