/**
 * Removing and renaming in the union view. Removing a path a lower layer has leaves one
 * whiteout (an `rm -r` of a lower directory is one whiteout, not one per file); removing a path
 * only the upper has leaves nothing. Rename works for files and whole directories: the source
 * subtree is copied up under the new name (metadata first, bytes lazily) and the old name is
 * whited out, so callers never see the kernel's `EXDEV`.
 */
import { FsError, isFsError } from '../errors.js';
import { joinPath } from '../tar/path.js';
import { isWithin, toAbsolute } from './paths.js';
import { typeOf, type Loc, type Resolved, type UnionCore } from './union-core.js';
import type { Inode } from './upper-layer.js';

/** `rm`: `recursive` removes directories, `force` ignores a missing path. */
export function rmSync(core: UnionCore, path: string, options?: { recursive?: boolean; force?: boolean }): void {
  core.writable('rm', path);
  let r: Resolved;
  try {
    r = core.resolve(path, { follow: false, syscall: 'lstat' });
  } catch (err) {
    if (options?.force === true && isFsError(err, 'ENOENT')) return;
    throw err;
  }
  if (typeOf(r.loc) === 'directory') {
    if (options?.recursive !== true) throw new FsError('EISDIR', 'rm', path);
    if (r.loc.path === '') throw new FsError('EBUSY', 'rm', path);
  }
  core.remove(r);
}

/** `rmdir`: removes an empty directory (empty in the merged view). */
export function rmdirSync(core: UnionCore, path: string): void {
  core.writable('rmdir', path);
  const r = core.resolve(path, { follow: false, syscall: 'rmdir' });
  if (typeOf(r.loc) !== 'directory') throw new FsError('ENOTDIR', 'rmdir', path);
  if (r.loc.path === '') throw new FsError('EBUSY', 'rmdir', path);
  if (core.names(r.loc).length > 0) throw new FsError('ENOTEMPTY', 'rmdir', path);
  core.remove(r);
}

/** `unlink`: removes a non-directory. */
export function unlinkSync(core: UnionCore, path: string): void {
  core.writable('unlink', path);
  const r = core.resolve(path, { follow: false, syscall: 'unlink' });
  if (typeOf(r.loc) === 'directory') throw new FsError('EISDIR', 'unlink', path);
  core.remove(r);
}

/**
 * `rename` with rename(2) rules: replaces a file or an empty directory, `ENOTEMPTY` for a
 * non-empty one, `EINVAL` for moving a directory into itself, `ENOTDIR`/`EISDIR` for a type
 * mismatch; renaming a name onto another name of the same inode does nothing.
 */
export function renameSync(core: UnionCore, from: string, to: string): void {
  core.writable('rename', from, to);
  const opts = { follow: false, syscall: 'rename', dest: to } as const;
  // Both parents are looked up before either last component (Linux `do_renameat2`).
  const src = core.resolve(from, { ...opts, allowMissing: true });
  const dst = core.resolve(to, { ...opts, allowMissing: true });
  const fail = (code: 'EBUSY' | 'EINVAL' | 'ENOTDIR' | 'EISDIR' | 'ENOTEMPTY' | 'ENOENT'): never => {
    throw new FsError(code, 'rename', from, to);
  };
  if (typeOf(src.loc) === undefined) fail('ENOENT');
  if (src.loc.path === '' || dst.loc.path === '') fail('EBUSY');
  if (src.loc.path === dst.loc.path) return;
  const stype = typeOf(src.loc);
  const dtype = typeOf(dst.loc);
  // Linux checks the ancestry traps before the types: a directory into itself is EINVAL, onto
  // one of its own ancestors ENOTEMPTY.
  if (stype === 'directory' && isWithin(dst.loc.path, src.loc.path)) fail('EINVAL');
  if (dtype !== undefined && isWithin(src.loc.path, dst.loc.path)) fail('ENOTEMPTY');
  if (dtype !== undefined) {
    if (sameNode(src.loc, dst.loc)) return;
    if (stype === 'directory') {
      if (dtype !== 'directory') fail('ENOTDIR');
      if (core.names(dst.loc).length > 0) fail('ENOTEMPTY');
    } else if (dtype === 'directory') {
      fail('EISDIR');
    }
  } else if (dst.trailingSlash && stype !== 'directory') {
    fail('ENOTDIR');
  }

  const moved: Array<[string, Inode]> = [];
  snapshot(core, src.loc, '', moved);
  core.remove(src);
  // Look the destination up again by its physical path (the source's removal may have changed
  // the upper layer, and `to` may run through a symlink that was the source).
  const physical = toAbsolute(dst.loc.path);
  const again = core.resolve(physical, { ...opts, allowMissing: true });
  if (typeOf(again.loc) !== undefined) core.remove(again);
  const target = core.resolve(physical, { ...opts, allowMissing: true });
  core.ensureUpperDir(target.parent.path);
  for (const [rel, inode] of moved) {
    const path = rel === '' ? target.loc.path : joinPath(target.loc.path, rel);
    const opaque = rel === '' && inode.type === 'directory' && target.loc.whiteout;
    core.upper.set(path, { kind: 'node', inode, opaque });
  }
  core.touch(target.parent);
  moved[0]![1].ctimeMs = core.clock();
}

/** The subtree under `loc` as inodes, parents first: upper inodes kept, lower ones copied up. */
function snapshot(core: UnionCore, loc: Loc, rel: string, out: Array<[string, Inode]>): void {
  const inode = loc.up !== undefined ? loc.up.inode : core.copyInode(loc.low!);
  out.push([rel, inode]);
  if (inode.type !== 'directory') return;
  for (const name of core.names(loc)) snapshot(core, core.child(loc, name), joinPath(rel, name), out);
}

function sameNode(a: Loc, b: Loc): boolean {
  if (a.up !== undefined || b.up !== undefined) return a.up?.inode === b.up?.inode;
  return a.low!.ino === b.low!.ino && a.low!.source !== undefined;
}
