/**
 * The snapshotter: each image layer extracted once per diffID into a folder the kernel can use
 * as an overlay lower (whiteouts as character devices 0/0, opaque directories as the
 * `trusted.overlay.opaque` xattr), shared by every container; per container an init layer (the
 * mount points runc would otherwise create in the writable layer) and the container's own
 * `upper/` and `work/`, mounted together as a kernel overlay. Lower paths are given relative to
 * the snapshot folder, so a deep image still fits in one page of mount options.
 */
import { spawnSync } from 'node:child_process';
import nodeFs from 'node:fs';
import { join } from 'node:path';
import { type Digest, digestHex } from '../digest/digest.js';
import { ErrorCodes, LayerkitError } from '../errors.js';
import type { Descriptor } from '../oci/types.js';
import type { Store } from '../store/store.js';

/** The private state folder holding one extracted layer per diffID (`<hex>/fs`). */
export const SNAPSHOTS_STATE = 'runtime/layers';

/** Options for {@link ensureSnapshot}. */
export interface EnsureSnapshotOptions {
  store: Store;
  descriptor: Descriptor;
  diffId: Digest;
  signal?: AbortSignal | undefined;
}

/** The extracted folder of a layer (made once, then shared); returns its absolute path. */
export async function ensureSnapshot({ store, descriptor, diffId, signal }: EnsureSnapshotOptions): Promise<string> {
  const hex = digestHex(diffId);
  const dir = store.statePath(SNAPSHOTS_STATE, hex);
  const fs = join(dir, 'fs');
  const record = join(dir, OPAQUE_RECORD);
  const writeRecord = (opaque: string[]) => {
    nodeFs.writeFileSync(`${record}.${process.pid}.tmp`, JSON.stringify({ version: OPAQUE_RECORD_VERSION, opaque }));
    nodeFs.renameSync(`${record}.${process.pid}.tmp`, record);
  };
  if (nodeFs.existsSync(fs) && nodeFs.existsSync(record)) return fs;
  return store.withLock(`snapshot-${hex.slice(0, 32)}`, async () => {
    if (nodeFs.existsSync(fs)) {
      // Extracted by a layerkit that kept no record of its opaque folders: make it once, from the index.
      if (!nodeFs.existsSync(record)) {
        const { layerOpaqueDirs } = await import('./snapshot-extract.js');
        writeRecord(await layerOpaqueDirs({ store, descriptor, diffId, signal }));
      }
      return fs;
    }
    const staging = join(dir, `fs.${process.pid}.tmp`);
    nodeFs.rmSync(staging, { recursive: true, force: true });
    nodeFs.mkdirSync(dir, { recursive: true });
    try {
      // The tar reader, layer index and unpacker load only here, for a layer not yet extracted.
      const { extractLayer } = await import('./snapshot-extract.js');
      const opaque = await extractLayer({ store, descriptor, diffId, dir: staging, signal });
      // Beside fs/ (never in it): what the host reads through the layers needs the opaque folders,
      // which only a process (getfattr) could read back from the xattrs.
      writeRecord(opaque);
      nodeFs.renameSync(staging, fs);
    } catch (err) {
      nodeFs.rmSync(staging, { recursive: true, force: true });
      throw err;
    }
    return fs;
  });
}

/** The file beside an extracted layer's `fs/` naming the folders it marks opaque. */
const OPAQUE_RECORD = 'opaque.json';
/** The format version of {@link OPAQUE_RECORD}. */
export const OPAQUE_RECORD_VERSION = 1;

/**
 * The folders an extracted layer (its `fs/` path) marks opaque, relative ('' for its root), as
 * recorded at extraction; undefined when there is no usable record (a layer extracted by an
 * older layerkit, a damaged or newer record): the caller then mounts the overlay and reads the
 * merged view, as the kernel shows it. The record is a cache of the xattrs, never needed.
 */
export function snapshotOpaqueDirs(fsDir: string): Set<string> | undefined {
  try {
    const value = JSON.parse(nodeFs.readFileSync(join(fsDir, '..', OPAQUE_RECORD), 'utf8')) as {
      version?: unknown;
      opaque?: unknown;
    };
    if (value.version !== OPAQUE_RECORD_VERSION || !Array.isArray(value.opaque)) return undefined;
    if (!value.opaque.every((d) => typeof d === 'string')) return undefined;
    return new Set(value.opaque as string[]);
  } catch {
    return undefined;
  }
}

/** Options for {@link writeInitLayer}. */
export interface InitLayerOptions {
  /** The folder to write (made fresh). */
  dir: string;
  /** Bind-mount targets (`-v` destinations) and whether each source is a directory. */
  mountPoints: Array<{ path: string; directory: boolean }>;
  /** The image's extracted layers, top first: a folder the init layer holds takes its attributes from them. */
  lowers?: string[] | undefined;
}

/**
 * Writes a container's init layer: the mount points Docker's init layer holds (proc, sys, dev,
 * dev/pts, dev/shm, etc/hosts, etc/hostname, etc/resolv.conf, etc/mtab → /proc/mounts) plus one
 * per bind mount, so runc's mount-point creation never lands in the writable layer.
 */
export function writeInitLayer({ dir, mountPoints, lowers = [] }: InitLayerOptions): void {
  nodeFs.rmSync(dir, { recursive: true, force: true });
  nodeFs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  const mkdir = (p: string) => nodeFs.mkdirSync(join(dir, p), { recursive: true, mode: 0o755 });
  const touch = (p: string) => {
    nodeFs.mkdirSync(join(dir, p, '..'), { recursive: true, mode: 0o755 });
    if (!nodeFs.existsSync(join(dir, p))) nodeFs.writeFileSync(join(dir, p), '', { mode: 0o644 });
  };
  for (const d of ['proc', 'sys', 'dev/pts', 'dev/shm', 'dev/mqueue']) mkdir(d);
  for (const f of ['etc/hosts', 'etc/hostname', 'etc/resolv.conf', 'dev/console']) touch(f);
  nodeFs.symlinkSync('/proc/mounts', join(dir, 'etc/mtab'));
  for (const m of mountPoints) {
    const rel = m.path.replace(/^\/+/, '');
    if (rel === '' || rel.split('/').includes('..')) continue;
    if (m.directory) mkdir(rel);
    else touch(rel);
  }
  // The init layer's folders hide the image's in the merged view: they must look exactly like them.
  const copy = (rel: string) => {
    for (const lower of lowers) {
      let st: nodeFs.Stats;
      try {
        st = nodeFs.lstatSync(join(lower, rel));
      } catch {
        continue;
      }
      if (!st.isDirectory()) return;
      const target = join(dir, rel);
      nodeFs.lchownSync(target, st.uid, st.gid);
      nodeFs.chmodSync(target, st.mode & 0o7777);
      for (const name of nodeFs.readdirSync(target)) {
        if (nodeFs.lstatSync(join(target, name)).isDirectory()) copy(rel === '' ? name : `${rel}/${name}`);
      }
      nodeFs.utimesSync(target, st.atime, st.mtime);
      return;
    }
    for (const name of nodeFs.readdirSync(join(dir, rel)))
      if (nodeFs.lstatSync(join(dir, rel, name)).isDirectory()) copy(rel === '' ? name : `${rel}/${name}`);
  };
  copy('');
}

/** Options for {@link mountOverlay}. */
export interface MountOverlayOptions {
  /** Lower folders, top first (init layer, then the image's layers from the top down). */
  lowers: string[];
  upper: string;
  work: string;
  target: string;
}

/**
 * Mounts the overlay. Option paths are made relative to the lowers' common parent (the kernel
 * resolves them against the caller's cwd), as containerd does to stay within one page.
 */
export function mountOverlay({ lowers, upper, work, target }: MountOverlayOptions): void {
  nodeFs.mkdirSync(target, { recursive: true });
  nodeFs.mkdirSync(work, { recursive: true });
  const cwd = commonParent([...lowers, upper, work]);
  const rel = (p: string) => (p.startsWith(`${cwd}/`) ? p.slice(cwd.length + 1) : p);
  const options = `lowerdir=${lowers.map(rel).join(':')},upperdir=${rel(upper)},workdir=${rel(work)}`;
  const r = spawnSync('mount', ['-t', 'overlay', 'overlay', '-o', options, target], { cwd, encoding: 'utf8' });
  if (r.status !== 0)
    throw new LayerkitError(
      ErrorCodes.ERR_UNSUPPORTED,
      `cannot mount the container's overlay at ${target}: ${(r.stderr || r.error?.message || '').trim()}`,
      { path: target },
    );
}

function commonParent(paths: string[]): string {
  const split = paths.map((p) => p.split('/'));
  const out: string[] = [];
  for (let i = 0; ; i++) {
    const c = split[0]![i];
    if (c === undefined || split.some((s) => s[i] !== c) || split.some((s) => s.length <= i + 1)) break;
    out.push(c);
  }
  return out.join('/') || '/';
}

/** True when `path` is a mount point (from /proc/self/mountinfo). */
export function isMounted(path: string): boolean {
  return mountedUnder(path).includes(path);
}

/** Every mount point at or below `prefix`, deepest first. */
export function mountedUnder(prefix: string): string[] {
  let text = '';
  try {
    text = nodeFs.readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f.length < 5) continue;
    const mp = f[4]!.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
    if (mp === prefix || mp.startsWith(`${prefix}/`)) out.push(mp);
  }
  return out.sort((a, b) => b.length - a.length);
}

/** Unmounts `path` when it is mounted (lazily when busy). */
export function unmount(path: string): void {
  for (const mp of mountedUnder(path)) {
    const r = spawnSync('umount', [mp], { stdio: 'ignore' });
    if (r.status !== 0) spawnSync('umount', ['-l', mp], { stdio: 'ignore' });
  }
}
