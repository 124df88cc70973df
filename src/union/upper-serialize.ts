/**
 * Saving and reopening an upper layer (a container's writable layer): a JSON-able `meta` plus
 * one blob per materialised file. Lazy (metacopy) files keep their pointer into the lower
 * layers, which is why an upper remembers the diffIDs it was made on.
 */
import { ErrorCodes, LayerkitError } from '../errors.js';
import { isDigest, type Digest } from '../digest/digest.js';
import { UpperLayer, WHITEOUT, type Inode, type InodeType } from './upper-layer.js';

/** Version of the {@link SerializedUpper} meta format. */
export const UPPER_FORMAT_VERSION = 1;

/** One inode in the meta (`blob` names its bytes in `blobs`). */
export interface SerializedInode {
  ino: number;
  type: InodeType;
  mode: number;
  uid: number;
  gid: number;
  atimeMs: number;
  mtimeMs: number;
  ctimeMs: number;
  birthtimeMs: number;
  size: number;
  blob?: string;
  lazy?: { layer: number; path: string };
  linkTarget?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: Record<string, string>;
}

/** The JSON-able part of a saved upper layer. */
export interface SerializedUpperMeta {
  version: number;
  nextIno: number;
  lowerDiffIds?: string[];
  inodes: SerializedInode[];
  /** `[path, ino]` for a node (`opaque` for a directory that hides its lower children), `[path, null]` for a whiteout. */
  records: Array<[string, number | null, boolean?]>;
}

/** A saved upper layer: `meta` (JSON) and file bytes keyed by the names `meta` uses. */
export interface SerializedUpper {
  meta: SerializedUpperMeta;
  blobs: Map<string, Buffer>;
}

/**
 * Saves an upper layer. Records are written sorted, so the same state always gives the same
 * meta. File bytes are copied (later writes to the view do not change the saved blobs).
 */
export function serializeUpper(upper: UpperLayer): SerializedUpper {
  const inodes = new Map<number, SerializedInode>();
  const blobs = new Map<string, Buffer>();
  const records: SerializedUpperMeta['records'] = [];
  for (const path of [...upper.records.keys()].sort()) {
    const rec = upper.records.get(path)!;
    if (rec.kind === 'whiteout') {
      records.push([path, null]);
      continue;
    }
    const i = rec.inode;
    records.push(rec.opaque ? [path, i.ino, true] : [path, i.ino]);
    if (inodes.has(i.ino)) continue;
    const s: SerializedInode = {
      ino: i.ino,
      type: i.type,
      mode: i.mode,
      uid: i.uid,
      gid: i.gid,
      atimeMs: i.atimeMs,
      mtimeMs: i.mtimeMs,
      ctimeMs: i.ctimeMs,
      birthtimeMs: i.birthtimeMs,
      size: i.size,
    };
    if (i.lazy !== undefined) s.lazy = { layer: i.lazy.layer, path: i.lazy.path };
    else if (i.data !== undefined) {
      s.blob = String(i.ino);
      blobs.set(s.blob, Buffer.from(i.data.subarray(0, i.size)));
    }
    if (i.linkTarget !== undefined) s.linkTarget = i.linkTarget;
    if (i.devmajor !== undefined) s.devmajor = i.devmajor;
    if (i.devminor !== undefined) s.devminor = i.devminor;
    if (i.xattrs !== undefined) s.xattrs = { ...i.xattrs };
    inodes.set(i.ino, s);
  }
  const meta: SerializedUpperMeta = {
    version: UPPER_FORMAT_VERSION,
    nextIno: upper.nextIno,
    inodes: [...inodes.values()],
    records,
  };
  if (upper.lowerDiffIds !== undefined) meta.lowerDiffIds = [...upper.lowerDiffIds];
  return { meta, blobs };
}

/** Reopens a saved upper layer. Throws `ERR_STORE_CORRUPT` naming what is wrong with the input. */
export function deserializeUpper(saved: SerializedUpper): UpperLayer {
  const { meta, blobs } = saved;
  const bad = (what: string): never => {
    throw new LayerkitError(
      ErrorCodes.ERR_STORE_CORRUPT,
      `saved upper layer is damaged: ${what}; remove the container and create it again`,
      { what },
    );
  };
  if (meta?.version !== UPPER_FORMAT_VERSION)
    bad(`format version ${String(meta?.version)} is not ${UPPER_FORMAT_VERSION}`);
  const lowerDiffIds = meta.lowerDiffIds?.map((d) => (isDigest(d) ? d : bad(`lower diffID '${d}' is not a digest`)));
  const upper = new UpperLayer(
    lowerDiffIds === undefined
      ? { nextIno: meta.nextIno }
      : { nextIno: meta.nextIno, lowerDiffIds: lowerDiffIds as Digest[] },
  );
  const inodes = new Map<number, Inode>();
  for (const s of meta.inodes) {
    const inode: Inode = {
      ino: s.ino,
      type: s.type,
      mode: s.mode,
      uid: s.uid,
      gid: s.gid,
      atimeMs: s.atimeMs,
      mtimeMs: s.mtimeMs,
      ctimeMs: s.ctimeMs,
      birthtimeMs: s.birthtimeMs,
      nlink: 0,
      size: s.size,
      data: undefined,
      lazy: s.lazy === undefined ? undefined : { layer: s.lazy.layer, path: s.lazy.path },
    };
    if (s.blob !== undefined) {
      const bytes = blobs.get(s.blob) ?? bad(`blob '${s.blob}' of inode ${s.ino} is missing`);
      if (bytes.length !== s.size) bad(`blob '${s.blob}' has ${bytes.length} bytes, inode ${s.ino} says ${s.size}`);
      inode.data = Buffer.from(bytes);
    } else if (s.type === 'file' && s.lazy === undefined) {
      inode.data = Buffer.alloc(s.size);
    }
    if (s.linkTarget !== undefined) inode.linkTarget = s.linkTarget;
    if (s.devmajor !== undefined) inode.devmajor = s.devmajor;
    if (s.devminor !== undefined) inode.devminor = s.devminor;
    if (s.xattrs !== undefined) inode.xattrs = { ...s.xattrs };
    upper.adoptInode(inode);
    inodes.set(s.ino, inode);
  }
  const sorted = [...meta.records].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (const [path, ino, opaque] of sorted) {
    if (ino === null) {
      upper.set(path, WHITEOUT);
      continue;
    }
    const inode = inodes.get(ino) ?? bad(`record '${path}' names inode ${ino}, which is not saved`);
    upper.set(path, { kind: 'node', inode, opaque: opaque === true });
  }
  return upper;
}
