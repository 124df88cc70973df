/**
 * The contract between a layer's index and everything that reads layers (union view, flatten,
 * reports). A layer is read through a {@link LayerReader}; `LayerIndex` (built in one pass over
 * a layer tar and kept in the store) is the real implementation, tests may use in-memory ones.
 *
 * Paths here are *relative and normalised*: no leading `/`, no `.` or `..` components, no
 * trailing `/`; the root directory is the empty string `''`.
 */
import type { Digest } from '../digest/digest.js';
import type { LayerEntry } from '../tar/entry.js';

export type { EntryType, LayerEntry } from '../tar/entry.js';

/** Read access to one layer: entries, whiteouts and opaque markers, and file bytes in O(1). */
export interface LayerReader {
  /** sha256 of the uncompressed layer tar. */
  readonly diffId: Digest;
  /** The entry at `path` written by this layer, if any (whiteout markers are not entries). */
  get(path: string): LayerEntry | undefined;
  /**
   * True when this layer has no entry for directory `path` but has entries below it (a tar may
   * omit parent directories). Such a directory exists in this layer but carries no attributes:
   * a union takes them from a lower layer, or uses 0755 root:root when none has it, as an
   * unpacker creating the missing parent would.
   */
  isImplicitDir(path: string): boolean;
  /**
   * True when this layer has an explicit whiteout (`.wh.<name>`) for `path`. A layer's own
   * entries are never hidden by its own whiteouts (image-spec): when `get(path)` returns an entry
   * too, the entry wins in this layer and the whiteout only hides lower layers.
   */
  isWhiteout(path: string): boolean;
  /** True when this layer marks directory `dir` opaque (`dir/.wh..wh..opq`). */
  isOpaque(dir: string): boolean;
  /**
   * Names (not paths) of the direct children of `dir` that this layer has an entry, an implicit
   * directory *or a whiteout* for, sorted by code unit. Lets a union compute directory listings.
   */
  children(dir: string): readonly string[];
  /** Every entry, sorted by path with parents before children. */
  entries(): Iterable<LayerEntry>;
  /** Every whiteout target path, sorted. */
  whiteouts(): Iterable<string>;
  /** Every opaque directory path, sorted. */
  opaqueDirs(): Iterable<string>;
  /**
   * Reads `length` bytes of a file entry's data starting at `position` (defaults: all of it).
   * Hardlink entries read their target's data. Synchronous: one positioned read.
   */
  readSync(path: string, options?: { position?: number; length?: number }): Buffer;
}
