/**
 * Where COPY/ADD read from: the build context, or another stage's (or image's) flattened tree
 * for `COPY --from`. Both look the same to the copy step: entries with type, mode, owner, size,
 * mtime and link target, a way to read a file, to list a subtree and to expand a wildcard.
 */
import type { FlatImage } from '../image/listing.js';
import { resolveFileData } from '../layer/flatten.js';
import type { LayerEntry } from '../tar/entry.js';
import type { BuildContext } from './context.js';
import { globPaths } from './context-glob.js';

/** One entry of a source tree: a layer entry's attributes, without xattrs or a digest. Paths are relative (`''` is the root). */
export type SourceEntry = Pick<
  LayerEntry,
  'path' | 'type' | 'mode' | 'uid' | 'gid' | 'size' | 'mtime' | 'linkTarget' | 'devmajor' | 'devminor'
>;

/** A tree COPY can read. */
export interface SourceTree {
  /** For messages: `build context` or `stage "builder"`. */
  readonly label: string;
  /** The entry at `path` (symlinks not followed), or undefined. */
  stat(path: string): SourceEntry | undefined;
  /** Every entry strictly below `dir`, sorted, parents first. */
  below(dir: string): SourceEntry[];
  /** A file's bytes. */
  read(path: string): Buffer;
  /** Paths matching a wildcard pattern (Go filepath.Match per segment; `**` any depth with `globstar`), sorted. */
  glob(pattern: string, options?: { globstar?: boolean }): string[];
  /** sha256 hex of a file's bytes, when the tree can hash without allocating the whole file. */
  hash?(path: string): string;
}

/** The build context as a source tree (owners 0:0, as the docker client sends them). */
export function contextSource(context: BuildContext): SourceTree {
  const toEntry = (e: NonNullable<ReturnType<BuildContext['entry']>>): SourceEntry => ({
    path: e.path,
    type: e.type,
    mode: e.mode,
    uid: 0,
    gid: 0,
    size: e.size,
    mtime: Math.floor(e.mtimeMs / 1000),
    ...(e.linkTarget !== undefined ? { linkTarget: e.linkTarget } : {}),
  });
  return {
    label: 'build context',
    stat: (path) => {
      const e = context.entry(path);
      return e ? toEntry(e) : undefined;
    },
    below: (dir) => context.walk(dir).map(toEntry),
    read: (path) => context.read(path),
    // Hashing goes through the context's one reused buffer: no allocation per file.
    hash: (path) => context.hash(path),
    glob: (pattern, options) => context.glob(pattern, options),
  };
}

/** A stage's or image's flattened tree as a source tree (owners kept). */
export function flatSource(flat: FlatImage, label: string): SourceTree {
  const toEntry = (path: string): SourceEntry | undefined => {
    const f = flat.entries.get(path);
    if (f === undefined)
      return path === '' ? { path: '', type: 'directory', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 0 } : undefined;
    const e = f.entry;
    const out: SourceEntry = {
      path,
      type: e.type,
      mode: e.mode,
      uid: e.uid,
      gid: e.gid,
      size: e.size,
      mtime: Math.floor(e.mtime),
    };
    if (e.linkTarget !== undefined) out.linkTarget = e.linkTarget;
    if (e.devmajor !== undefined) out.devmajor = e.devmajor;
    if (e.devminor !== undefined) out.devminor = e.devminor;
    if (e.type === 'hardlink') {
      // A copy has no link to keep: it reads as the file it points at.
      const data = resolveFileData(flat.layers, flat.entries, path);
      out.type = 'file';
      delete out.linkTarget;
      out.size = data?.size ?? 0;
    }
    return out;
  };
  const paths = [...flat.entries.keys()];
  return {
    label,
    stat: toEntry,
    below: (dir) => {
      const prefix = dir === '' ? '' : `${dir}/`;
      return paths.filter((p) => p !== '' && p.startsWith(prefix)).map((p) => toEntry(p)!);
    },
    read: (path) => {
      const data = resolveFileData(flat.layers, flat.entries, path);
      return data ? data.layer.readSync(data.path) : Buffer.alloc(0);
    },
    glob: (pattern, options) => globPaths(paths, pattern, options),
  };
}
