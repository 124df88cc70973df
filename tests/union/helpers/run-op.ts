/** Applies one generated operation to a union view, to the model, or to a real directory. */
import * as nodeFs from 'node:fs';
import { join } from 'node:path';
import type { UnionFS } from '../../../src/union/index.js';
import type { Op } from './gen.js';
import type { ModelFs } from './model.js';

type StatLike = {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
};

function describeStat(st: StatLike): string {
  const type = st.isDirectory() ? 'directory' : st.isSymbolicLink() ? 'symlink' : 'file';
  return `${type} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${type === 'directory' ? 4096 : st.size}`;
}

/** On the union view (its synchronous API). */
export function runOnUnion(fs: UnionFS, o: Op): unknown {
  switch (o.op) {
    case 'writeFile':
      return fs.writeFileSync(o.path, Buffer.from(o.data, 'latin1'));
    case 'appendFile':
      return fs.appendFileSync(o.path, Buffer.from(o.data, 'latin1'));
    case 'truncate':
      return fs.truncateSync(o.path, o.length);
    case 'unlink':
      return fs.unlinkSync(o.path);
    case 'rmdir':
      return fs.rmdirSync(o.path);
    case 'rm':
      return fs.rmSync(o.path, { recursive: true });
    case 'mkdir':
      return void fs.mkdirSync(o.path);
    case 'mkdirp':
      return void fs.mkdirSync(o.path, { recursive: true });
    case 'readFile':
      return fs.readFileSync(o.path).toString('latin1');
    case 'readdir':
      return fs.readdirSync(o.path);
    case 'stat':
      return describeStat(fs.statSync(o.path));
    case 'lstat':
      return describeStat(fs.lstatSync(o.path));
    case 'rename':
      return fs.renameSync(o.from, o.to);
    case 'link':
      return fs.linkSync(o.from, o.to);
    case 'copyFile':
      return fs.copyFileSync(o.from, o.to);
    case 'symlink':
      return fs.symlinkSync(o.target, o.path);
    case 'chmod':
      return fs.chmodSync(o.path, o.mode);
    case 'chown':
      return fs.chownSync(o.path, o.uid, o.gid);
    case 'lchown':
      return fs.lchownSync(o.path, o.uid, o.gid);
  }
}

/** On the reference model. */
export function runOnModel(m: ModelFs, o: Op): unknown {
  switch (o.op) {
    case 'writeFile':
      return m.writeFile(o.path, o.data, false);
    case 'appendFile':
      return m.writeFile(o.path, o.data, true);
    case 'truncate':
      return m.truncate(o.path, o.length);
    case 'unlink':
      return m.unlink(o.path);
    case 'rmdir':
      return m.rmdir(o.path);
    case 'rm':
      return m.rmRecursive(o.path);
    case 'mkdir':
      return m.mkdir(o.path);
    case 'mkdirp':
      return m.mkdirRecursive(o.path);
    case 'readFile':
      return m.readFile(o.path);
    case 'readdir':
      return m.readdir(o.path);
    case 'stat':
      return m.stat(o.path, true);
    case 'lstat':
      return m.stat(o.path, false);
    case 'rename':
      return m.rename(o.from, o.to);
    case 'link':
      return m.link(o.from, o.to);
    case 'copyFile':
      return m.copyFile(o.from, o.to);
    case 'symlink':
      return m.symlink(o.target, o.path);
    case 'chmod':
      return m.chmod(o.path, o.mode);
    case 'chown':
      return m.chown(o.path, o.uid, o.gid, true);
    case 'lchown':
      return m.chown(o.path, o.uid, o.gid, false);
  }
}

/** On a real directory (a kernel overlay mount), with Node's synchronous fs. */
export function runOnDir(root: string, o: Op): unknown {
  const at = (p: string): string => join(root, p);
  switch (o.op) {
    case 'writeFile':
      return nodeFs.writeFileSync(at(o.path), Buffer.from(o.data, 'latin1'));
    case 'appendFile':
      return nodeFs.appendFileSync(at(o.path), Buffer.from(o.data, 'latin1'));
    case 'truncate':
      return nodeFs.truncateSync(at(o.path), o.length);
    case 'unlink':
      return nodeFs.unlinkSync(at(o.path));
    case 'rmdir':
      return nodeFs.rmdirSync(at(o.path));
    case 'rm':
      if (!nodeFs.existsSync(at(o.path)) && !isLink(at(o.path))) nodeFs.lstatSync(at(o.path));
      return nodeFs.rmSync(at(o.path), { recursive: true });
    case 'mkdir':
      return void nodeFs.mkdirSync(at(o.path));
    case 'mkdirp':
      return void nodeFs.mkdirSync(at(o.path), { recursive: true });
    case 'readFile':
      return nodeFs.readFileSync(at(o.path)).toString('latin1');
    case 'readdir':
      return nodeFs.readdirSync(at(o.path)).sort();
    case 'stat':
      return describeStat(nodeFs.statSync(at(o.path)));
    case 'lstat':
      return describeStat(nodeFs.lstatSync(at(o.path)));
    case 'rename':
      return nodeFs.renameSync(at(o.from), at(o.to));
    case 'link':
      return nodeFs.linkSync(at(o.from), at(o.to));
    case 'copyFile':
      return nodeFs.copyFileSync(at(o.from), at(o.to));
    case 'symlink':
      return nodeFs.symlinkSync(o.target, at(o.path));
    case 'chmod':
      return nodeFs.chmodSync(at(o.path), o.mode);
    case 'chown':
      return nodeFs.chownSync(at(o.path), o.uid, o.gid);
    case 'lchown':
      return nodeFs.lchownSync(at(o.path), o.uid, o.gid);
  }
}

function isLink(p: string): boolean {
  try {
    return nodeFs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
