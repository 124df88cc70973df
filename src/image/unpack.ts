/**
 * Unpacking an image's flattened tree into a rootfs folder (as root, owners kept), or writing it
 * as one tar (`docker export`). The tree is flattened first, so each path is created exactly once
 * in sorted order under a parent this function made itself: a hostile layer cannot redirect a
 * write through a symlink, and hardlinks may only point at regular files inside the tree.
 */
import { Digester } from '../digest/digest.js';
import nodeFs from 'node:fs';
import { ErrorCodes, LayerkitError, throwIfAborted } from '../errors.js';
import { resolveFileData, type FileData } from '../layer/flatten.js';
import type { LayerEntry } from '../tar/entry.js';
import type { LayerEntryInput } from '../tar/layer-writer.js';
import type { TarEntryInput } from '../tar/types.js';
import { TarWriter } from '../tar/writer.js';
import { checkFileDigest, type FlatImage } from './listing.js';

/**
 * node:child_process, for the rare entries that need a tool (mknod, setfattr): loaded then, not by
 * every command that reads this module's listings (a cached build, `layerkit ls`).
 */
function childProcess(): typeof import('node:child_process') {
  return process.getBuiltinModule('node:child_process');
}

/** Options for {@link unpackRootfs}. */
export interface UnpackRootfsOptions {
  flat: FlatImage;
  /** The target folder: it must not exist or be empty. */
  dir: string;
  /** Keep owners (default: when running as root). */
  keepOwners?: boolean | undefined;
  signal?: AbortSignal | undefined;
}

/** What {@link unpackRootfs} could not reproduce exactly (devices without privileges, xattrs without `setfattr`). */
export interface UnpackReport {
  entries: number;
  warnings: string[];
}

const CHUNK = 1 << 20;

/** Writes the flattened image into `dir`. */
export function unpackRootfs({ flat, dir, keepOwners, signal }: UnpackRootfsOptions): UnpackReport {
  const fs = nodeFs;
  const root = dir.replace(/\/+$/, '') || '/';
  if (fs.existsSync(root)) {
    if (!fs.lstatSync(root).isDirectory() || fs.readdirSync(root).length > 0) {
      throw new LayerkitError(
        ErrorCodes.ERR_USAGE,
        `${root} exists and is not an empty folder; unpack into a new or empty folder`,
        { path: root },
      );
    }
  } else {
    fs.mkdirSync(root, { recursive: true });
  }
  const isRoot = process.getuid?.() === 0;
  const owners = keepOwners ?? isRoot;
  const made = new Map<string, 'directory' | 'file' | 'other'>([['', 'directory']]);
  /** The path each shared inode (layer index + path of its data) was first written at. */
  const inodes = new Map<string, string>();
  const warnings: string[] = [];
  const dirTimes: Array<[string, number]> = [];
  const hardlinks: string[] = [];
  let count = 0;
  const full = (p: string) => (p === '' ? root : `${root}/${p}`);
  const checkParent = (path: string) => {
    const parent = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
    if (path !== '' && made.get(parent) !== 'directory') {
      // The flattened tree guarantees parents first; anything else is a broken or hostile layer.
      throw new LayerkitError(
        ErrorCodes.ERR_UNSAFE_PATH,
        `refusing to create /${path}: its parent /${parent} is not a directory created by this unpack`,
        { path: `/${path}` },
      );
    }
  };
  const finish = (path: string, attrs: LayerEntry) => {
    const target = full(path);
    if (owners) fs.lchownSync(target, attrs.uid, attrs.gid);
    if (attrs.type !== 'symlink') fs.chmodSync(target, attrs.mode & 0o7777);
    if (attrs.xattrs && Object.keys(attrs.xattrs).length > 0) setXattrs(target, attrs.xattrs, warnings, path);
    if (attrs.type === 'directory') dirTimes.push([target, attrs.mtime]);
    else fs.lutimesSync(target, attrs.mtime, attrs.mtime);
  };
  for (const [path, flatEntry] of flat.entries) {
    throwIfAborted(signal);
    const { entry } = flatEntry;
    if (entry.type === 'hardlink') {
      // Links come after every file is made: a link may sort before the file it links.
      hardlinks.push(path);
      continue;
    }
    checkParent(path);
    const target = full(path);
    switch (entry.type) {
      case 'directory':
        if (path !== '') fs.mkdirSync(target, { mode: 0o700 });
        made.set(path, 'directory');
        break;
      case 'file': {
        const data = resolveFileData(flat.layers, flat.entries, path)!;
        writeData(target, data, path);
        inodes.set(inodeKey(data), path);
        made.set(path, 'file');
        break;
      }
      case 'symlink':
        if (!entry.linkTarget) {
          throw new LayerkitError(
            ErrorCodes.ERR_LAYER_FORMAT,
            `symlink /${path} has an empty target, which no Linux filesystem can hold; the layer is broken`,
            { path: `/${path}` },
          );
        }
        fs.symlinkSync(entry.linkTarget, target);
        made.set(path, 'other');
        break;
      case 'char':
      case 'block':
      case 'fifo': {
        const args =
          entry.type === 'fifo'
            ? ['mkfifo', target]
            : [
                'mknod',
                target,
                entry.type === 'char' ? 'c' : 'b',
                String(entry.devmajor ?? 0),
                String(entry.devminor ?? 0),
              ];
        const r = childProcess().spawnSync(args[0]!, args.slice(1), { stdio: 'ignore' });
        if (r.status !== 0) {
          warnings.push(
            `/${path}: could not create ${entry.type} (${args[0]} ${r.error ? r.error.message : `exited ${r.status}`}${entry.type === 'fifo' ? '' : '; devices need root'})`,
          );
          continue;
        }
        made.set(path, 'other');
        break;
      }
    }
    count++;
    finish(path, entry);
  }
  for (const path of hardlinks) {
    throwIfAborted(signal);
    checkParent(path);
    const linkTo = flat.entries.get(path)!.entry.linkTarget ?? '';
    const data = resolveFileData(flat.layers, flat.entries, path);
    if (data === undefined) {
      throw new LayerkitError(
        ErrorCodes.ERR_UNSAFE_PATH,
        `hardlink /${path} points at ${JSON.stringify(linkTo)}, which is not a regular file in the image`,
        { path: `/${path}`, linkTarget: linkTo },
      );
    }
    const key = inodeKey(data);
    const first = inodes.get(key);
    made.set(path, 'file');
    count++;
    if (first !== undefined) {
      fs.linkSync(full(first), full(path)); // shares the inode, and so its attributes
      continue;
    }
    // The file it links was replaced or deleted by a later layer: the link keeps its own inode.
    writeData(full(path), data, path);
    inodes.set(key, path);
    finish(path, data.entry);
  }
  // Directory times last: creating children changes them.
  for (const [p, t] of dirTimes.reverse()) fs.utimesSync(p, t, t);
  return { entries: count, warnings };
}

/** Identifies the inode a flattened file or hardlink shares (see `resolveFileData`). */
function inodeKey(data: FileData): string {
  return `${data.layerIndex}\0${data.path}`;
}

/** Writes a file's bytes (checked against the digest its layer index recorded) into a new file. */
function writeData(target: string, data: FileData, path: string): void {
  const fd = nodeFs.openSync(
    target,
    nodeFs.constants.O_WRONLY | nodeFs.constants.O_CREAT | nodeFs.constants.O_EXCL | nodeFs.constants.O_NOFOLLOW,
    0o600,
  );
  const digester = new Digester();
  try {
    for (let pos = 0; pos < data.size; pos += CHUNK) {
      const buf = data.layer.readSync(data.path, { position: pos, length: Math.min(CHUNK, data.size - pos) });
      digester.update(buf);
      let off = 0;
      while (off < buf.length) off += nodeFs.writeSync(fd, buf, off);
    }
  } finally {
    nodeFs.closeSync(fd);
  }
  checkFileDigest(data, `/${path}`, digester.digest());
}

function setXattrs(target: string, xattrs: Record<string, string>, warnings: string[], path: string): void {
  for (const [name, value] of Object.entries(xattrs)) {
    const r = childProcess().spawnSync(
      'setfattr',
      ['-h', '-n', name, '-v', `0x${Buffer.from(value, 'latin1').toString('hex')}`, target],
      { stdio: 'ignore' },
    );
    if (r.status !== 0)
      warnings.push(
        `/${path}: could not set xattr ${name} (setfattr from the Debian package attr is needed, and trusted.* needs root)`,
      );
  }
}

/** Options for {@link flatTarEntries}. */
export interface FlatTarOptions {
  flat: FlatImage;
  signal?: AbortSignal | undefined;
}

/** The flattened tree as tar entries, in order, with file data streamed from the layers. */
export function* flatTarEntries({ flat, signal }: FlatTarOptions): Iterable<LayerEntryInput> {
  /** The path each shared inode was first written at: later paths become hardlinks to it. */
  const inodes = new Map<string, string>();
  for (const [path, { entry }] of flat.entries) {
    throwIfAborted(signal);
    const header: TarEntryInput = {
      path,
      type: entry.type,
      mode: entry.mode,
      uid: entry.uid,
      gid: entry.gid,
      mtime: entry.mtime,
    };
    if (entry.linkTarget !== undefined) header.linkTarget = entry.linkTarget;
    if (entry.devmajor !== undefined) header.devmajor = entry.devmajor;
    if (entry.devminor !== undefined) header.devminor = entry.devminor;
    if (entry.xattrs) header.xattrs = entry.xattrs;
    if (entry.type === 'file' || entry.type === 'hardlink') {
      const data = resolveFileData(flat.layers, flat.entries, path);
      if (data === undefined) {
        yield { header }; // a dangling hardlink, written as it was
        continue;
      }
      const key = inodeKey(data);
      const first = inodes.get(key);
      if (first !== undefined) {
        yield { header: { ...header, type: 'hardlink', linkTarget: first } };
        continue;
      }
      inodes.set(key, path);
      const a = data.entry;
      const fileHeader: TarEntryInput = {
        path,
        type: 'file',
        mode: a.mode,
        uid: a.uid,
        gid: a.gid,
        mtime: a.mtime,
        size: data.size,
      };
      if (a.xattrs) fileHeader.xattrs = a.xattrs;
      yield { header: fileHeader, data: readChunks(data, path) };
      continue;
    }
    yield { header };
  }
}

async function* readChunks(data: FileData, path: string): AsyncIterable<Buffer> {
  const digester = new Digester();
  for (let pos = 0; pos < data.size; pos += CHUNK) {
    const buf = data.layer.readSync(data.path, { position: pos, length: Math.min(CHUNK, data.size - pos) });
    digester.update(buf);
    yield buf;
  }
  checkFileDigest(data, `/${path}`, digester.digest());
}

/** Writes the flattened tree as one tar stream (no whiteouts: they are applied). */
export function flatTarStream({
  flat,
  signal,
  sourceDateEpoch,
}: FlatTarOptions & { sourceDateEpoch?: number | undefined }): NodeJS.ReadableStream {
  const writer = new TarWriter({ sourceDateEpoch });
  void (async () => {
    try {
      for (const { header, data } of flatTarEntries({ flat, signal })) await writer.add(header, data);
      await writer.finish();
    } catch (err) {
      writer.stream.destroy(err as Error);
    }
  })();
  return writer.stream;
}
