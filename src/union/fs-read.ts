/**
 * Reading operations of the union view. Lower files are read with one positioned read of their
 * layer (`LayerReader.readSync`); nothing is copied up or cached by a read.
 */
import { constants } from 'node:fs';
import { FsError } from '../errors.js';
import { openTarget, parseOpenFlags, readWholeTarget } from './file-handle.js';
import { toAbsolute } from './paths.js';
import { UnionDirent, type UnionStats } from './stats.js';
import { typeOf, type UnionCore } from './union-core.js';

/** `stat` (follows a final symlink) and `lstat` (does not). */
export function statSync(core: UnionCore, path: string, follow: boolean): UnionStats {
  const r = core.resolve(path, { follow, syscall: follow ? 'stat' : 'lstat' });
  return core.stats(r.loc);
}

/** `readFile`: the whole file; a directory gives `EISDIR`. */
export function readFileSync(core: UnionCore, path: string, flag?: string): Buffer {
  if (flag !== undefined && flag !== 'r')
    return readWholeTarget(core, openTarget(core, path, parseOpenFlags(flag, path)));
  const r = core.resolve(path, { follow: true, syscall: 'open' });
  const type = typeOf(r.loc);
  if (type === 'directory') throw new FsError('EISDIR', 'read');
  return type === 'file' ? core.read(r.loc) : Buffer.alloc(0);
}

/** `readdir`: names (sorted by code unit; Node gives kernel order), or dirents. */
export function readdirSync(core: UnionCore, path: string, withFileTypes: boolean): string[] | UnionDirent[] {
  const r = core.resolve(path, { follow: true, syscall: 'scandir' });
  if (typeOf(r.loc) !== 'directory') throw new FsError('ENOTDIR', 'scandir', path);
  const names = core.names(r.loc);
  if (!withFileTypes) return names;
  const parent = path;
  return names.map((name) => new UnionDirent(name, parent, typeOf(core.child(r.loc, name))!));
}

/** `readlink`: a symlink's target as written (`EINVAL` for anything else). */
export function readlinkSync(core: UnionCore, path: string): string {
  const r = core.resolve(path, { follow: false, syscall: 'readlink' });
  if (typeOf(r.loc) !== 'symlink') throw new FsError('EINVAL', 'readlink', path);
  return core.linkTarget(r.loc);
}

/** `realpath`: the absolute path in the image with every symlink resolved. */
export function realpathSync(core: UnionCore, path: string): string {
  return toAbsolute(core.resolve(path, { follow: true, syscall: 'realpath' }).loc.path);
}

/**
 * `access` as root: existence for `F_OK` and `R_OK`, `EROFS` for `W_OK` on a read-only view,
 * `EACCES` for `X_OK` on a file without any execute bit (root's rule on Linux).
 */
export function accessSync(core: UnionCore, path: string, mode = constants.F_OK): void {
  const r = core.resolve(path, { follow: true, syscall: 'access' });
  if ((mode & constants.W_OK) !== 0 && core.readOnly) throw new FsError('EROFS', 'access', path);
  if ((mode & constants.X_OK) !== 0) {
    const st = core.stats(r.loc);
    if (!st.isDirectory() && (st.mode & 0o111) === 0) throw new FsError('EACCES', 'access', path);
  }
}

/** True when `path` exists (following symlinks), like `fs.existsSync`. */
export function existsSync(core: UnionCore, path: string): boolean {
  try {
    core.resolve(path, { follow: true, syscall: 'stat' });
    return true;
  } catch {
    return false;
  }
}
