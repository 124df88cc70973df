/**
 * An in-memory {@link LayerReader}: a layer described as a list of entries, for tests and for
 * small synthetic layers. The store's `LayerIndex` is the real implementation over a layer tar.
 */
import { sha256, type Digest } from '../digest/digest.js';
import { canonicalJson } from '../oci/canonical-json.js';
import { ErrorCodes, LayerkitError } from '../errors.js';
import { compareTarPaths } from '../tar/path.js';
import type { EntryType, LayerEntry, LayerReader } from './types.js';

/** One entry given to {@link createMemoryLayer}: a path and a type, the rest defaulted. */
export type MemoryLayerEntryInput = Partial<LayerEntry> & {
  path: string;
  type: EntryType;
  /** File bytes (a string is UTF-8). Sets `size` and `sha256`. */
  data?: string | Uint8Array;
};

/** Options of {@link createMemoryLayer}. */
export interface CreateMemoryLayerOptions {
  entries: readonly MemoryLayerEntryInput[];
  /** Paths this layer whites out (`.wh.<name>` entries), `/etc/x` or `etc/x`. */
  whiteouts?: readonly string[];
  /** Directories this layer marks opaque (`<dir>/.wh..wh..opq`). */
  opaqueDirs?: readonly string[];
}

const DEFAULT_MODE: Record<EntryType, number> = {
  directory: 0o755,
  symlink: 0o777,
  file: 0o644,
  hardlink: 0o644,
  char: 0o644,
  block: 0o644,
  fifo: 0o644,
};

/**
 * Builds a layer from entries. Defaults: mode `0o755` for directories, `0o777` for symlinks,
 * `0o644` otherwise; uid/gid 0; mtime 0; `size` and `sha256` computed from `data`. Paths may be
 * written `/a/b`, `a/b/` or `./a/b`; `..` is refused (`ERR_UNSAFE_PATH`), a path given twice is
 * an error (`ERR_LAYER_FORMAT`, layer.md forbids duplicates).
 *
 * Like a tar without parent entries, a parent directory that is not listed has no entry
 * (`get()` returns undefined): it is an implicit directory (`isImplicitDir()`), and its name
 * still appears in `children()` of its own parent, so a union can find the files below it.
 *
 * `diffId` is the sha256 of a canonical JSON of the layer's content (entries with their digests,
 * whiteouts, opaque dirs) — a stable identity, **not** the digest of any tar.
 */
export function createMemoryLayer(options: CreateMemoryLayerOptions): LayerReader {
  const entries = new Map<string, LayerEntry>();
  const data = new Map<string, Buffer>();
  const children = new Map<string, Set<string>>();
  const addName = (path: string): void => {
    let p = path;
    while (p !== '') {
      const i = p.lastIndexOf('/');
      const parent = i < 0 ? '' : p.slice(0, i);
      let set = children.get(parent);
      if (set === undefined) children.set(parent, (set = new Set()));
      if (set.has(p.slice(i + 1))) return;
      set.add(p.slice(i + 1));
      p = parent;
    }
  };

  for (const input of options.entries) {
    const path = normalize(input.path);
    if (entries.has(path)) {
      throw new LayerkitError(ErrorCodes.ERR_LAYER_FORMAT, `memory layer lists '${path}' twice; give each path once`, {
        path,
      });
    }
    const { data: bytes, ...rest } = input;
    const entry: LayerEntry = {
      mode: DEFAULT_MODE[input.type],
      uid: 0,
      gid: 0,
      mtime: 0,
      ...rest,
      path,
      size: 0,
    };
    if (input.type === 'file') {
      const buf =
        bytes === undefined ? Buffer.alloc(0) : typeof bytes === 'string' ? Buffer.from(bytes) : Buffer.from(bytes);
      data.set(path, buf);
      entry.size = buf.length;
      entry.sha256 = sha256(buf);
    } else {
      delete entry.sha256;
    }
    if (input.type === 'hardlink' && input.linkTarget !== undefined) entry.linkTarget = normalize(input.linkTarget);
    entries.set(path, entry);
    addName(path);
  }
  const whiteouts = [...new Set((options.whiteouts ?? []).map(normalize))].sort();
  const opaque = [...new Set((options.opaqueDirs ?? []).map(normalize))].sort();
  for (const w of whiteouts) {
    if (w === '') throw new LayerkitError(ErrorCodes.ERR_LAYER_FORMAT, 'a memory layer cannot white out the root', {});
    addName(w);
  }
  for (const o of opaque) addName(o);
  const whiteoutSet = new Set(whiteouts);
  const opaqueSet = new Set(opaque);
  const sorted = [...entries.values()].sort((a, b) => compareTarPaths(a.path, b.path));
  const childLists = new Map<string, readonly string[]>();
  for (const [dir, names] of children) childLists.set(dir, [...names].sort());

  const diffId: Digest = sha256(canonicalJson({ entries: sorted, whiteouts, opaqueDirs: opaque }));
  const EMPTY: readonly string[] = Object.freeze([]);

  const reader = {
    diffId,
    get: (path: string) => entries.get(path),
    isImplicitDir: (path: string) =>
      path !== '' && !entries.has(path) && !whiteoutSet.has(path) && (childLists.has(path) || opaqueSet.has(path)),
    isWhiteout: (path: string) => whiteoutSet.has(path),
    isOpaque: (dir: string) => opaqueSet.has(dir),
    children: (dir: string) => childLists.get(dir) ?? EMPTY,
    entries: () => sorted.values(),
    whiteouts: () => whiteouts.values(),
    opaqueDirs: () => opaque.values(),
    readSync(path: string, opts?: { position?: number; length?: number }): Buffer {
      let entry = entries.get(path);
      if (entry?.type === 'hardlink' && entry.linkTarget !== undefined) {
        path = entry.linkTarget;
        entry = entries.get(path);
      }
      const buf = entry?.type === 'file' ? data.get(path) : undefined;
      if (buf === undefined) {
        throw new LayerkitError(ErrorCodes.ERR_NOT_FOUND, `memory layer ${diffId} has no file data at '${path}'`, {
          path,
          diffId,
        });
      }
      const start = Math.min(opts?.position ?? 0, buf.length);
      const end = opts?.length === undefined ? buf.length : Math.min(buf.length, start + opts.length);
      return Buffer.from(buf.subarray(start, end));
    },
  };
  return reader;
}

function normalize(path: string): string {
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      throw new LayerkitError(
        ErrorCodes.ERR_UNSAFE_PATH,
        `memory layer path '${path}' contains '..'; use a normalised path`,
        { path },
      );
    }
    parts.push(part);
  }
  return parts.join('/');
}
