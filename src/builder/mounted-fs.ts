/**
 * The filesystem a RUN with `--mount` sees: the step's union view, with other views mounted at
 * target paths (a bind of the context or a stage, a cache, a tmpfs, a secret file). Every call
 * goes to the mount whose target is the longest prefix of its path, with the path translated
 * into that view; read-only mounts refuse writes with `EROFS`; a rename or link across mounts is
 * `EXDEV`, as with the kernel's mounts. Paths are matched as written (a symlink in the base that
 * points into a mount reaches the base's stub directory, not the mount).
 */
import { posix } from 'node:path';
import type { ExecutorDirent, ExecutorFs, ExecutorStats } from '../union/fs-contract.js';

/** One view mounted into another. */
export interface FsMount {
  /** Absolute, normalised path where it appears. */
  target: string;
  fs: ExecutorFs;
  /** The path inside `fs` that appears at `target` (a directory, or a file for a file mount). */
  root: string;
  readOnly: boolean;
  /** Bytes of file data the mount may hold; a write that would go beyond fails with ENOSPC (tmpfs `size=`). */
  sizeLimit?: number;
}

const ERRNO = {
  EROFS: [-30, 'read-only file system'],
  EXDEV: [-18, 'cross-device link not permitted'],
  ENOSPC: [-28, 'no space left on device'],
} as const;

function fsError(code: keyof typeof ERRNO, syscall: string, path: string): NodeJS.ErrnoException {
  const [errno, text] = ERRNO[code];
  const err = new Error(`${code}: ${text}, ${syscall} '${path}'`) as NodeJS.ErrnoException;
  err.code = code;
  err.errno = errno;
  err.syscall = syscall;
  err.path = path;
  return err;
}

const under = (path: string, target: string): boolean =>
  target === '/' || path === target || path.startsWith(`${target}/`);

/** Routes each call to the base view or the mount its path is under; see the module comment. */
export class MountedFs implements ExecutorFs {
  readonly #base: ExecutorFs;
  /** Longest target first, so the first match is the innermost mount. */
  readonly #mounts: FsMount[];

  constructor(base: ExecutorFs, mounts: readonly FsMount[]) {
    this.#base = base;
    this.#mounts = [...mounts].sort((a, b) => b.target.length - a.target.length);
  }

  /** The view and path inside it for an absolute or relative (to `/`) path. */
  #route(path: string): { fs: ExecutorFs; path: string; mount: FsMount | undefined } {
    const p = posix.resolve('/', path);
    for (const m of this.#mounts) {
      if (!under(p, m.target)) continue;
      const rest = p === m.target ? '' : p.slice(m.target === '/' ? 0 : m.target.length);
      return { fs: m.fs, path: rest === '' ? m.root : posix.join(m.root, rest), mount: m };
    }
    return { fs: this.#base, path: p, mount: undefined };
  }

  #writable(path: string, syscall: string): { fs: ExecutorFs; path: string; mount: FsMount | undefined } {
    const r = this.#route(path);
    if (r.mount?.readOnly) throw fsError('EROFS', syscall, path);
    return r;
  }

  /** Fails with ENOSPC when a mount with a size limit would hold more than it after `grow(existing size)` more bytes. */
  async #room(
    r: { fs: ExecutorFs; path: string; mount: FsMount | undefined },
    syscall: string,
    path: string,
    grow: (existing: number) => number,
  ): Promise<void> {
    const limit = r.mount?.sizeLimit;
    if (limit === undefined) return;
    const existing = await r.fs.stat(r.path).then(
      (st) => (st.isFile() ? st.size : 0),
      () => 0,
    );
    const more = grow(existing);
    if (more > 0 && (await usedBytes(r.fs, r.mount!.root)) + more > limit) throw fsError('ENOSPC', syscall, path);
  }

  /** A path a mount's view returned (realpath), back in the global namespace. */
  #outward(mount: FsMount | undefined, inner: string): string {
    if (mount === undefined) return inner;
    if (!under(inner, mount.root)) return inner;
    const rest = inner === mount.root ? '' : inner.slice(mount.root === '/' ? 0 : mount.root.length);
    return rest === '' ? mount.target : posix.join(mount.target, rest);
  }

  readFile(path: string): Promise<Buffer>;
  readFile(path: string, encoding: BufferEncoding): Promise<string>;
  readFile(path: string, encoding?: BufferEncoding): Promise<Buffer | string> {
    const r = this.#route(path);
    return encoding === undefined ? r.fs.readFile(r.path) : r.fs.readFile(r.path, encoding);
  }

  async writeFile(path: string, data: string | Uint8Array, options?: { mode?: number; flag?: string }): Promise<void> {
    const r = this.#writable(path, 'open');
    const appending = options?.flag?.startsWith('a') === true;
    await this.#room(r, 'write', path, (existing) => byteLength(data) - (appending ? 0 : existing));
    await r.fs.writeFile(r.path, data, options);
  }

  async appendFile(path: string, data: string | Uint8Array): Promise<void> {
    const r = this.#writable(path, 'open');
    await this.#room(r, 'write', path, () => byteLength(data));
    await r.fs.appendFile(r.path, data);
  }

  readdir(path: string): Promise<string[]>;
  readdir(path: string, options: { withFileTypes: true }): Promise<ExecutorDirent[]>;
  readdir(path: string, options?: { withFileTypes: true }): Promise<string[] | ExecutorDirent[]> {
    const r = this.#route(path);
    return options ? r.fs.readdir(r.path, options) : r.fs.readdir(r.path);
  }

  stat(path: string): Promise<ExecutorStats> {
    const r = this.#route(path);
    return r.fs.stat(r.path);
  }

  lstat(path: string): Promise<ExecutorStats> {
    const r = this.#route(path);
    return r.fs.lstat(r.path);
  }

  async access(path: string, mode?: number): Promise<void> {
    const r = this.#route(path);
    // W_OK (2) on a read-only mount fails as the kernel's access(2) does.
    if (r.mount?.readOnly && mode !== undefined && (mode & 2) !== 0) throw fsError('EROFS', 'access', path);
    await r.fs.access(r.path, mode);
  }

  async mkdir(path: string, options?: { recursive?: boolean; mode?: number }): Promise<string | undefined> {
    const r = this.#writable(path, 'mkdir');
    const made = await r.fs.mkdir(r.path, options);
    return made === undefined ? undefined : this.#outward(r.mount, made);
  }

  async rm(path: string, options?: { recursive?: boolean; force?: boolean }): Promise<void> {
    const r = this.#writable(path, 'rm');
    await r.fs.rm(r.path, options);
  }

  async rmdir(path: string): Promise<void> {
    const r = this.#writable(path, 'rmdir');
    await r.fs.rmdir(r.path);
  }

  async unlink(path: string): Promise<void> {
    const r = this.#writable(path, 'unlink');
    await r.fs.unlink(r.path);
  }

  async rename(from: string, to: string): Promise<void> {
    const a = this.#writable(from, 'rename');
    const b = this.#writable(to, 'rename');
    if (a.mount !== b.mount) throw fsError('EXDEV', 'rename', from);
    await a.fs.rename(a.path, b.path);
  }

  async copyFile(from: string, to: string, mode?: number): Promise<void> {
    const a = this.#route(from);
    const b = this.#writable(to, 'copyfile');
    if (a.mount === b.mount) {
      if (b.mount?.sizeLimit !== undefined) {
        const size = (await a.fs.stat(a.path)).size;
        await this.#room(b, 'copyfile', to, (existing) => size - existing);
      }
      await a.fs.copyFile(a.path, b.path, mode);
      return;
    }
    // Across mounts the bytes travel (the kernel copies too); COPYFILE_EXCL (1) still applies.
    if (mode !== undefined && (mode & 1) !== 0)
      await b.fs.lstat(b.path).then(
        () => {
          const err = new Error(`EEXIST: file already exists, copyfile '${from}' -> '${to}'`) as NodeJS.ErrnoException;
          err.code = 'EEXIST';
          throw err;
        },
        () => undefined,
      );
    const st = await a.fs.stat(a.path);
    await this.#room(b, 'copyfile', to, (existing) => st.size - existing);
    await b.fs.writeFile(b.path, await a.fs.readFile(a.path), { mode: st.mode & 0o7777 });
  }

  async symlink(target: string, path: string): Promise<void> {
    const r = this.#writable(path, 'symlink');
    await r.fs.symlink(target, r.path);
  }

  readlink(path: string): Promise<string> {
    const r = this.#route(path);
    return r.fs.readlink(r.path);
  }

  async realpath(path: string): Promise<string> {
    const r = this.#route(path);
    return this.#outward(r.mount, await r.fs.realpath(r.path));
  }

  async link(existing: string, newPath: string): Promise<void> {
    const a = this.#route(existing);
    const b = this.#writable(newPath, 'link');
    if (a.mount !== b.mount) throw fsError('EXDEV', 'link', existing);
    await a.fs.link(a.path, b.path);
  }

  async chmod(path: string, mode: number): Promise<void> {
    const r = this.#writable(path, 'chmod');
    await r.fs.chmod(r.path, mode);
  }

  async chown(path: string, uid: number, gid: number): Promise<void> {
    const r = this.#writable(path, 'chown');
    await r.fs.chown(r.path, uid, gid);
  }

  async lchown(path: string, uid: number, gid: number): Promise<void> {
    const r = this.#writable(path, 'lchown');
    await r.fs.lchown(r.path, uid, gid);
  }

  async utimes(path: string, atime: number | Date, mtime: number | Date): Promise<void> {
    const r = this.#writable(path, 'utime');
    await r.fs.utimes(r.path, atime, mtime);
  }

  async truncate(path: string, length?: number): Promise<void> {
    const r = this.#writable(path, 'open');
    await this.#room(r, 'truncate', path, (existing) => (length ?? 0) - existing);
    await r.fs.truncate(r.path, length);
  }
}

function byteLength(data: string | Uint8Array): number {
  return typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
}

/** Bytes of file data below `dir` in a view (hard links counted once per name: a tmpfs is small). */
async function usedBytes(fs: ExecutorFs, dir: string): Promise<number> {
  let total = 0;
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const p = posix.join(dir, entry.name);
    if (entry.isDirectory()) total += await usedBytes(fs, p);
    else if (entry.isFile()) total += (await fs.lstat(p)).size;
  }
  return total;
}
