/**
 * The shape of one tar entry as layerkit's tar reader reports it and its writer takes it.
 */
import type { LayerEntry } from './entry.js';

/**
 * One decoded tar entry: a layer entry's fields (see `LayerEntry`: normalised path, `''` for the
 * root, directories without a trailing `/`, whiteout names kept as they are; mode `& 0o7777`;
 * size 0 for non-files; mtime may be negative or fractional) with PAX, GNU and global-header
 * overrides applied, plus what only the archive knows.
 */
export interface TarEntryHeader extends Omit<LayerEntry, 'sha256'> {
  /** The name exactly as the archive spelled it (after PAX/GNU long-name resolution). */
  rawName: string;
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
