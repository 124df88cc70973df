/**
 * A container's writable layer as the kernel keeps it: an overlayfs `upper/` directory (files as
 * written, whiteouts as character devices 0/0, opaque directories marked by the
 * `trusted.overlay.opaque` xattr). {@link readKernelUpper} applies such a directory to a union
 * view (so `diff` and `commit` see what a process changed); {@link writeKernelUpper} writes a
 * union view's changes as one (a container that so far only ran the virtual shell, converted on
 * its first run on a real runtime).
 */
import { spawnSync } from 'node:child_process';
import nodeFs from 'node:fs';
import { join, posix } from 'node:path';
import { ErrorCodes, LayerkitError } from '../errors.js';
import { OPAQUE_MARKER, WHITEOUT_PREFIX } from '../tar/whiteout.js';
import type { DiffEntry } from '../union/changes.js';

/** What {@link readKernelUpper} needs from the view it writes into (layerkit's UnionFS has all of it). */
export interface KernelUpperTarget {
  lstatSync(path: string): { isDirectory(): boolean; isFile(): boolean; nlink: number };
  rm(path: string, options: { recursive?: boolean; force?: boolean }): Promise<void>;
  mkdir(path: string): Promise<unknown>;
  symlink(target: string, path: string): Promise<void>;
  link(existing: string, path: string): Promise<void>;
  writeFile(path: string, data: Buffer): Promise<void>;
  lchown(path: string, uid: number, gid: number): Promise<void>;
  chmod(path: string, mode: number): Promise<void>;
  utimes(path: string, atime: number, mtime: number): Promise<void>;
}

/** True when `dir` carries overlayfs's opaque marker (`getfattr` from the Debian package attr). */
export function isOpaqueDir(dir: string): boolean {
  const r = spawnSync('getfattr', ['--only-values', '-n', 'trusted.overlay.opaque', dir], { encoding: 'utf8' });
  return r.stdout === 'y';
}

/** Marks `dir` opaque for overlayfs (`setfattr`, as root). */
export function markOpaqueDir(dir: string): void {
  const r = spawnSync('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', dir], { encoding: 'utf8' });
  if (r.status !== 0)
    throw new LayerkitError(
      ErrorCodes.ERR_UNSUPPORTED,
      `cannot mark ${dir} opaque for overlayfs: ${r.error?.message ?? r.stderr.trim()} (needs root and setfattr from the Debian package attr)`,
      { path: dir },
    );
}

/** Makes the whiteout overlayfs understands (a character device 0/0) at `path`. */
export function makeWhiteout(path: string): void {
  const r = spawnSync('mknod', [path, 'c', '0', '0'], { encoding: 'utf8' });
  if (r.status !== 0)
    throw new LayerkitError(
      ErrorCodes.ERR_UNSUPPORTED,
      `cannot make the overlay whiteout ${path}: ${r.error?.message ?? r.stderr.trim()} (needs root)`,
      { path },
    );
}

/**
 * Applies an overlay upper directory to `view` below `path` ('/' for all of it): whiteouts
 * delete, opaque directories replace, the rest is written with its owner, mode and times; files
 * that share an inode in the directory share one in the view.
 */
export async function readKernelUpper(
  view: KernelUpperTarget,
  upper: string,
  path = '/',
  links: Map<number, string> = new Map(),
): Promise<void> {
  const dir = path === '/' ? upper : join(upper, path);
  for (const name of nodeFs.readdirSync(dir).sort()) {
    const host = join(dir, name);
    const p = posix.join(path, name);
    const st = nodeFs.lstatSync(host);
    if (st.isCharacterDevice() && st.rdev === 0) {
      await view.rm(p, { recursive: true, force: true });
      continue;
    }
    if (st.isDirectory()) {
      let exists = false;
      try {
        exists = view.lstatSync(p).isDirectory();
      } catch {
        exists = false;
      }
      if (exists && isOpaqueDir(host)) {
        await view.rm(p, { recursive: true, force: true });
        exists = false;
      }
      if (!exists) {
        await view.rm(p, { recursive: true, force: true });
        await view.mkdir(p);
      }
      await readKernelUpper(view, upper, p, links);
    } else if (st.isSymbolicLink()) {
      await view.rm(p, { recursive: true, force: true });
      await view.symlink(nodeFs.readlinkSync(host), p);
    } else if (st.isFile() && st.nlink > 1 && links.has(st.ino)) {
      await view.rm(p, { recursive: true, force: true });
      await view.link(links.get(st.ino)!, p);
      continue;
    } else if (st.isFile()) {
      if (st.nlink > 1) links.set(st.ino, p);
      let existing;
      try {
        existing = view.lstatSync(p);
      } catch {
        existing = undefined;
      }
      if (existing && (!existing.isFile() || existing.nlink > 1)) await view.rm(p, { recursive: true, force: true });
      await view.writeFile(p, nodeFs.readFileSync(host));
    } else {
      continue; // devices, fifos and sockets a process made are not part of a layer here
    }
    await view.lchown(p, st.uid, st.gid);
    if (!st.isSymbolicLink()) await view.chmod(p, st.mode & 0o7777);
    if (!st.isSymbolicLink()) await view.utimes(p, st.atimeMs / 1000, st.mtimeMs / 1000);
  }
}

/**
 * Writes a union view's changes (its `diff()`, in layer order) into an empty directory as an
 * overlayfs upper: whiteout markers become character devices 0/0, opaque markers the
 * `trusted.overlay.opaque` xattr on their directory. Needs root.
 */
export function writeKernelUpper(entries: readonly DiffEntry[], dir: string): void {
  nodeFs.mkdirSync(dir, { recursive: true });
  const dirTimes: Array<[string, number]> = [];
  for (const { header, data } of entries) {
    const rel = header.path;
    if (rel === '' || rel.split('/').some((c) => c === '..' || c === '.' || c === ''))
      throw new LayerkitError(ErrorCodes.ERR_UNSAFE_PATH, `refusing the layer path ${JSON.stringify(rel)}`, {
        path: rel,
      });
    const base = posix.basename(rel);
    const parent = join(dir, posix.dirname(rel) === '.' ? '' : posix.dirname(rel));
    nodeFs.mkdirSync(parent, { recursive: true });
    if (base === OPAQUE_MARKER) {
      markOpaqueDir(parent);
      continue;
    }
    if (base.startsWith(WHITEOUT_PREFIX)) {
      makeWhiteout(join(parent, base.slice(WHITEOUT_PREFIX.length)));
      continue;
    }
    const target = join(dir, rel);
    switch (header.type) {
      case 'directory':
        nodeFs.mkdirSync(target, { recursive: true });
        dirTimes.push([target, header.mtime]);
        break;
      case 'file':
        nodeFs.writeFileSync(target, data ? data() : Buffer.alloc(0), { flag: 'wx' });
        break;
      case 'symlink':
        nodeFs.symlinkSync(header.linkTarget ?? '', target);
        break;
      case 'hardlink':
        nodeFs.linkSync(join(dir, header.linkTarget ?? ''), target);
        continue; // shares its inode's attributes
      case 'char':
      case 'block':
      case 'fifo': {
        const args =
          header.type === 'fifo'
            ? ['mkfifo', target]
            : ['mknod', target, header.type === 'char' ? 'c' : 'b', String(header.devmajor), String(header.devminor)];
        spawnSync(args[0]!, args.slice(1), { stdio: 'ignore' });
        break;
      }
    }
    nodeFs.lchownSync(target, header.uid, header.gid);
    if (header.type !== 'symlink') nodeFs.chmodSync(target, header.mode & 0o7777);
    if (header.type !== 'directory') nodeFs.lutimesSync(target, header.mtime, header.mtime);
  }
  for (const [p, t] of dirTimes.reverse()) nodeFs.utimesSync(p, t, t);
}
