/**
 * Writing operations of the union view (create, change attributes, links). Each copies up
 * what it touches: parents with their lower attributes, files metadata-first (the bytes stay in
 * the lower layer until a data write), and leaves the change in the upper layer's records.
 */
import { FsError } from '../errors.js';
import { openTarget, parseOpenFlags, truncateInode, writeInode } from './file-handle.js';
import { toAbsolute } from './paths.js';
import { typeOf, type UnionCore } from './union-core.js';

/** Options of `writeFile` / `appendFile`. */
export interface WriteFileOptions {
  encoding?: BufferEncoding | null;
  mode?: number;
  flag?: string;
}

function toBytes(data: string | Uint8Array, encoding: BufferEncoding | null | undefined): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data, encoding ?? 'utf8') : data;
}

/** `writeFile`: create or replace a file's bytes (`flag` `'a'` appends). */
export function writeFileSync(
  core: UnionCore,
  path: string,
  data: string | Uint8Array,
  options?: WriteFileOptions | BufferEncoding,
): void {
  const o = typeof options === 'string' ? { encoding: options } : (options ?? {});
  const mode = parseOpenFlags(o.flag ?? 'w', path);
  const target = openTarget(core, path, mode, o.mode ?? 0o666);
  if (target.kind !== 'inode') throw new FsError('EBADF', 'write');
  const inode = target.inode;
  if (inode.type !== 'file') {
    if (inode.type === 'fifo' || inode.type === 'char' || inode.type === 'block') return;
    throw new FsError('EISDIR', 'write', path);
  }
  const bytes = toBytes(data, o.encoding);
  writeInode(core, inode, bytes, mode.append ? inode.size : 0);
}

/** `mkdir`: returns the first directory made (`recursive`) or undefined. */
export function mkdirSync(
  core: UnionCore,
  path: string,
  options?: { recursive?: boolean; mode?: number } | number,
): string | undefined {
  const o = typeof options === 'number' ? { mode: options } : (options ?? {});
  const mode = o.mode ?? 0o777;
  core.writable('mkdir', path);
  if (o.recursive !== true) {
    const r = core.resolve(path, { follow: false, syscall: 'mkdir', allowMissing: true });
    if (typeOf(r.loc) !== undefined) throw new FsError('EEXIST', 'mkdir', path);
    core.create(r, core.upper.newInode(core.fresh('directory', mode)));
    return undefined;
  }
  // Make the missing directories one at a time, from the first missing one down.
  let first: string | undefined;
  const parts = path.split('/');
  for (let i = 1; i <= parts.length; i++) {
    const prefix = parts.slice(0, i).join('/');
    if (prefix === '' || parts[i - 1] === '' || parts[i - 1] === '.') continue;
    const r = core.resolve(prefix, { follow: false, syscall: 'mkdir', allowMissing: true });
    let type = typeOf(r.loc);
    // A symlink counts as what it points at; a dangling one is ENOENT (as Node's mkdir -p).
    if (type === 'symlink')
      type = typeOf(core.resolve(prefix, { follow: true, syscall: 'mkdir', dest: undefined }).loc);
    if (type === 'directory') continue;
    if (type !== undefined)
      throw new FsError(
        i === parts.length || parts.slice(i).every((p) => p === '') ? 'EEXIST' : 'ENOTDIR',
        'mkdir',
        path,
      );
    core.create(r, core.upper.newInode(core.fresh('directory', mode)));
    first ??= toAbsolute(r.loc.path);
  }
  return first;
}

/** `symlink`: a link at `path` reading `target` (kept as written). */
export function symlinkSync(core: UnionCore, target: string, path: string): void {
  core.writable('symlink', target, path);
  const r = core.resolve(path, { follow: false, syscall: 'symlink', allowMissing: true, dest: path });
  if (typeOf(r.loc) !== undefined || r.trailingSlash) throw new FsError('EEXIST', 'symlink', target, path);
  const inode = core.upper.newInode({ ...core.fresh('symlink', 0o777), linkTarget: target });
  inode.mode = 0o777;
  core.create(r, inode);
}

/**
 * `link`: a second name for an existing non-directory. A lower file is copied up first, then
 * both names share the upper inode (a hard link inside the upper layer).
 */
export function linkSync(core: UnionCore, existing: string, newPath: string): void {
  core.writable('link', existing, newPath);
  const src = core.resolve(existing, { follow: false, syscall: 'link', dest: newPath });
  const dst = core.resolve(newPath, { follow: false, syscall: 'link', allowMissing: true, dest: newPath });
  if (typeOf(dst.loc) !== undefined) throw new FsError('EEXIST', 'link', existing, newPath);
  if (typeOf(src.loc) === 'directory') throw new FsError('EPERM', 'link', existing, newPath);
  const rec = core.copyUp(src);
  // Copy-up may have created the destination's parents: look them up again.
  const again = core.resolve(newPath, { follow: false, syscall: 'link', allowMissing: true, dest: newPath });
  core.create(again, rec.inode);
  rec.inode.ctimeMs = core.clock();
}

/** `chmod` / `lchmod`: permission bits plus setuid/setgid/sticky. */
export function chmodSync(core: UnionCore, path: string, mode: number, follow = true): void {
  const syscall = follow ? 'chmod' : 'lchmod';
  core.writable(syscall, path);
  const inode = core.copyUp(core.resolve(path, { follow, syscall })).inode;
  inode.mode = mode & 0o7777;
  inode.ctimeMs = core.clock();
}

/**
 * `chown` / `lchown`: owners are stored exactly (the view acts as root and enforces nothing).
 * As on Linux, changing the owner of a non-directory clears its setuid bit, and its setgid bit
 * when the group may execute it (`chown_common` sets `ATTR_KILL_SUID`/`ATTR_KILL_SGID`).
 */
export function chownSync(core: UnionCore, path: string, uid: number, gid: number, follow: boolean): void {
  const syscall = follow ? 'chown' : 'lchown';
  core.writable(syscall, path);
  const inode = core.copyUp(core.resolve(path, { follow, syscall })).inode;
  if (uid !== -1) inode.uid = uid;
  if (gid !== -1) inode.gid = gid;
  if (inode.type !== 'directory') {
    inode.mode &= ~0o4000;
    if ((inode.mode & 0o010) !== 0) inode.mode &= ~0o2000;
  }
  inode.ctimeMs = core.clock();
}

/** `utimes` / `lutimes`: seconds (number), numeric strings or Dates, like Node. */
export function utimesSync(
  core: UnionCore,
  path: string,
  atime: number | string | Date,
  mtime: number | string | Date,
  follow: boolean,
): void {
  const syscall = follow ? 'utime' : 'lutime';
  core.writable(syscall, path);
  const inode = core.copyUp(core.resolve(path, { follow, syscall })).inode;
  inode.atimeMs = toMs(atime);
  inode.mtimeMs = toMs(mtime);
  inode.ctimeMs = core.clock();
}

function toMs(t: number | string | Date): number {
  if (t instanceof Date) return t.getTime();
  return Number(t) * 1000;
}

/** `truncate`: cut or zero-extend a file. */
export function truncateSync(core: UnionCore, path: string, length = 0): void {
  core.writable('open', path);
  const r = core.resolve(path, { follow: true, syscall: 'open' });
  const type = typeOf(r.loc);
  if (type === 'directory') throw new FsError('EISDIR', 'open', path);
  if (length < 0) throw new FsError('EINVAL', 'ftruncate', path);
  const inode = core.copyUp(r).inode;
  if (type === 'file') truncateInode(core, inode, length);
}

/**
 * `copyFile`: the destination gets the source's bytes and mode (an existing destination too, as
 * libuv does). Copying a lower file shares its bytes lazily (nothing is read until the copy is
 * written). `COPYFILE_EXCL` (1) refuses an existing destination.
 */
export function copyFileSync(core: UnionCore, from: string, to: string, mode = 0): void {
  core.writable('copyfile', from, to);
  const src = core.resolve(from, { follow: true, syscall: 'copyfile', dest: to });
  const type = typeOf(src.loc);
  if (type === 'directory') throw new FsError('EISDIR', 'copyfile', from, to);
  const dst = core.resolve(to, { follow: true, syscall: 'copyfile', allowMissing: true, dest: to });
  const dtype = typeOf(dst.loc);
  if (dtype !== undefined && (mode & 1) !== 0) throw new FsError('EEXIST', 'copyfile', from, to);
  if (dtype === 'directory') throw new FsError('EISDIR', 'copyfile', from, to);
  if (dst.loc.up !== undefined && src.loc.up !== undefined && dst.loc.up.inode === src.loc.up.inode) return;
  const srcMode = src.loc.up !== undefined ? src.loc.up.inode.mode : src.loc.low!.entry.mode;
  const srcInode = src.loc.up?.inode;
  const lazy = srcInode !== undefined ? srcInode.lazy : src.loc.low!.source;
  const bytes = lazy === undefined ? (srcInode !== undefined ? core.readInode(srcInode) : Buffer.alloc(0)) : undefined;
  const size = srcInode !== undefined ? srcInode.size : src.loc.low!.entry.size;
  const now = core.clock();
  if (dtype === undefined) {
    const inode = core.upper.newInode({ ...core.fresh('file', srcMode), mode: srcMode, size, data: bytes, lazy });
    core.create(dst, inode);
    return;
  }
  const inode = core.copyUp(dst).inode;
  if (inode.type !== 'file') return;
  inode.lazy = lazy;
  inode.data = bytes;
  inode.size = size;
  inode.mode = srcMode;
  inode.mtimeMs = now;
  inode.ctimeMs = now;
}
