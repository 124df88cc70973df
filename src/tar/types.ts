/**
 * The shape of one tar entry as layerkit's tar reader reports it and its writer takes it.
 */
import type { EntryType } from '../layer/types.js';

/** One decoded tar entry: the ustar fields with PAX, GNU and global-header overrides applied. */
export interface TarEntryHeader {
  /**
   * The normalised relative path (see `normalizeEntryPath`): `''` is the root, directories
   * carry no trailing `/`. Whiteout names (`.wh.*`) are kept as they are.
   */
  path: string;
  /** The name exactly as the archive spelled it (after PAX/GNU long-name resolution). */
  rawName: string;
  type: EntryType;
  /** Permission bits plus setuid/setgid/sticky (`& 0o7777`); file-type bits are ignored. */
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch; may be negative or carry a fraction (PAX `mtime`). */
  mtime: number;
  /** Bytes of data; always 0 for entries other than files. */
  size: number;
  /** Symlink target as written; hardlink target normalised like a path (relative to the root). */
  linkTarget?: string;
  /** Device numbers of char and block devices. */
  devmajor?: number;
  devminor?: number;
  /** Extended attributes; values are binary strings (latin1, one char per byte). */
  xattrs?: Record<string, string>;
  /** Owner and group names when the archive has them (layerkit writes them empty). */
  uname?: string;
  gname?: string;
}

/** What the tar writer takes for one entry. `rawName`, `uname` and `gname` are not written. */
export type TarEntryInput = Omit<TarEntryHeader, 'rawName' | 'uname' | 'gname' | 'size'> & {
  /** Bytes of data; required for files (defaults to the data's length for a Buffer), else 0. */
  size?: number;
  rawName?: string;
  uname?: string;
  gname?: string;
};
