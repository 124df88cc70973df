/**
 * Listings of an image's flattened tree: what `layerkit ls` prints, and the data behind
 * `layerkit cat`. Paths are absolute (`/etc/passwd`) at this level.
 */
import { Digester, digestHex, type Digest } from '../digest/digest.js';
import { ErrorCodes, FsError, LayerkitError } from '../errors.js';
import { flattenLayers, resolveFileData, type FileData, type FlatEntry } from '../layer/flatten.js';
import { indexImageLayers } from '../layer/layer-store.js';
import type { LayerReader } from '../layer/types.js';
import type { LayerEntry } from '../tar/entry.js';
import type { Store } from '../store/store.js';
import { resolveImage, type ImageLike } from './image.js';

/** One line of `ls --json`: a layer entry's attributes, with the content digest as bare hex. */
export type ListedEntry = Pick<
  LayerEntry,
  'path' | 'type' | 'mode' | 'uid' | 'gid' | 'size' | 'linkTarget' | 'mtime'
> & {
  /** sha256 hex of a file's bytes (hardlinks: of the file they link; their mode and owners are that file's too). */
  sha256?: string;
};

/** An image's flattened tree, ready to list and read. */
export interface FlatImage {
  layers: LayerReader[];
  entries: Map<string, FlatEntry>;
}

/** Flattens an image from the store (building any missing layer index). */
export async function flattenImage({
  store,
  image: which,
  signal,
}: {
  store: Store;
  image: ImageLike;
  signal?: AbortSignal | undefined;
}): Promise<FlatImage> {
  const image = await resolveImage({ store, image: which });
  const { indexes } = await indexImageLayers({ store, image, signal });
  return { layers: indexes, entries: flattenLayers(indexes) };
}

/** Converts an absolute or relative image path to the normalised relative form (`/etc/` → `etc`). */
export function relativeImagePath(path: string): string {
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return parts.join('/');
}

/** The listing of a flattened image below `path` (`recursive`: the whole subtree; else the entry's children). */
export function listFlat(flat: FlatImage, options: { path?: string; recursive?: boolean } = {}): ListedEntry[] {
  const base = relativeImagePath(options.path ?? '/');
  const at = flat.entries.get(base);
  if (base !== '' && at === undefined) {
    throw new LayerkitError(ErrorCodes.ERR_NOT_FOUND, `no such file or directory in the image: /${base}`, {
      path: `/${base}`,
    });
  }
  if (at !== undefined && at.entry.type !== 'directory') return [toListed(flat, base, at)];
  const prefix = base === '' ? '' : `${base}/`;
  const out: ListedEntry[] = [];
  for (const [p, e] of flat.entries) {
    if (p === '' || !p.startsWith(prefix)) continue;
    if (!options.recursive && p.slice(prefix.length).includes('/')) continue;
    out.push(toListed(flat, p, e));
  }
  return out;
}

function toListed(flat: FlatImage, path: string, { entry }: FlatEntry): ListedEntry {
  const out: ListedEntry = {
    path: `/${path}`,
    type: entry.type,
    mode: entry.mode,
    uid: entry.uid,
    gid: entry.gid,
    size: entry.size,
    mtime: entry.mtime,
  };
  if (entry.type === 'file') {
    if (entry.sha256) out.sha256 = digestHex(entry.sha256);
    else {
      const data = resolveFileData(flat.layers, flat.entries, path);
      if (data) out.sha256 = digestHex(fileSha256(data));
    }
  }
  if (entry.type === 'hardlink') {
    // A hardlink is the inode it links: its bytes, mode and owners are the linked file's.
    const data = resolveFileData(flat.layers, flat.entries, path);
    if (data) {
      Object.assign(out, { mode: data.entry.mode, uid: data.entry.uid, gid: data.entry.gid, size: data.size });
      out.sha256 = digestHex(data.entry.sha256 ?? fileSha256(data));
    }
  }
  if (entry.linkTarget !== undefined)
    out.linkTarget = entry.type === 'hardlink' ? `/${entry.linkTarget}` : entry.linkTarget;
  return out;
}

/** Reads a file of a flattened image, following symlinks inside the image (never the host). */
export function readFlatFile(flat: FlatImage, path: string): Buffer {
  let rel = relativeImagePath(path);
  for (let hops = 0; hops <= 40; hops++) {
    const resolved = resolveParents(flat, rel);
    const e = flat.entries.get(resolved);
    if (e === undefined)
      throw new LayerkitError(ErrorCodes.ERR_NOT_FOUND, `no such file in the image: ${path}`, { path });
    if (e.entry.type === 'symlink') {
      const target = e.entry.linkTarget ?? '';
      rel = relativeImagePath(
        target.startsWith('/') ? target : `${resolved.split('/').slice(0, -1).join('/')}/${target}`,
      );
      continue;
    }
    if (e.entry.type === 'directory') throw new FsError('EISDIR', 'read', path);
    const data = resolveFileData(flat.layers, flat.entries, resolved);
    if (data === undefined)
      throw new LayerkitError(ErrorCodes.ERR_USAGE, `${path} is a ${e.entry.type}, not a regular file`, { path });
    const bytes = data.layer.readSync(data.path);
    const digester = new Digester();
    digester.update(bytes);
    checkFileDigest(data, `/${resolved}`, digester.digest());
    return bytes;
  }
  throw new LayerkitError(ErrorCodes.ERR_USAGE, `too many levels of symbolic links resolving ${path} in the image`, {
    path,
  });
}

/**
 * Checks the bytes read for a file against the sha256 its layer index recorded: file reads are
 * positioned reads of the layer data (an uncompressed blob or the kept copy), which the blob's
 * own digest check never sees. A mismatch is `EINTEGRITY` naming the layer and the file.
 */
export function checkFileDigest(data: FileData, path: string, found: Digest): void {
  const expected = data.entry.sha256;
  if (expected === undefined || expected === found) return;
  throw new LayerkitError(
    ErrorCodes.EINTEGRITY,
    `${path}: its bytes in layer ${data.layer.diffId} hash to ${found}, not ${expected} as the layer index says; the layer data is corrupt`,
    { digest: data.layer.diffId, path, expected, found },
  );
}

const lazyDigests = new WeakMap<object, Map<string, Digest>>();

/**
 * The sha256 of a file whose layer index has none (files of 64 MiB and more are hashed lazily,
 * not at import): read once in 1 MiB pieces, then remembered for the layer.
 */
export function fileSha256(data: FileData): Digest {
  let cache = lazyDigests.get(data.layer);
  if (!cache) lazyDigests.set(data.layer, (cache = new Map()));
  const known = cache.get(data.path);
  if (known) return known;
  const digester = new Digester();
  for (let pos = 0; pos < data.size; pos += 1 << 20)
    digester.update(data.layer.readSync(data.path, { position: pos, length: Math.min(1 << 20, data.size - pos) }));
  const digest = digester.digest();
  cache.set(data.path, digest);
  return digest;
}

/** Resolves symlinks in the directory part of a relative path, inside the image. */
function resolveParents(flat: FlatImage, rel: string): string {
  const parts = rel.split('/').filter(Boolean);
  let done: string[] = [];
  for (let i = 0; i < parts.length - 1; i++) {
    let hops = 0;
    let candidate = [...done, parts[i]!].join('/');
    let e = flat.entries.get(candidate);
    while (e?.entry.type === 'symlink' && hops++ < 40) {
      const target = e.entry.linkTarget ?? '';
      const next = relativeImagePath(target.startsWith('/') ? target : `${done.join('/')}/${target}`);
      done = next === '' ? [] : next.split('/');
      candidate = done.join('/');
      e = flat.entries.get(candidate);
    }
    if (e?.entry.type !== 'symlink') done = candidate === '' ? [] : candidate.split('/');
  }
  return [...done, parts[parts.length - 1] ?? ''].filter(Boolean).join('/');
}
