/**
 * One filesystem entry of a layer: what a tar header says about a file, directory, link or
 * device, in readable form. The tar codec reads and writes these; layer indexes, the union view,
 * flatten and the reports are built on them.
 *
 * Paths are *relative and normalised*: no leading `/`, no `.` or `..` components, no trailing
 * `/`; the root directory is the empty string `''`.
 */
import type { Digest } from '../digest/digest.js';

/** The kinds of entry a layer can hold (readable strings, never tar typeflag bytes). */
export type EntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';

/** One filesystem entry of a layer, with the attributes a layer records. */
export interface LayerEntry {
  /** Normalised relative path (`etc/passwd`); `''` is the root. */
  path: string;
  type: EntryType;
  /** Permission bits plus setuid/setgid/sticky (`& 0o7777`). */
  mode: number;
  uid: number;
  gid: number;
  /** Modification time in seconds since the epoch (may carry a fraction from PAX). */
  mtime: number;
  /** Size of the file's data; 0 for everything but files. */
  size: number;
  /** Symlink target as written (not normalised), or a hardlink's normalised target path. */
  linkTarget?: string;
  devmajor?: number;
  devminor?: number;
  /** Extended attributes (`SCHILY.xattr.*`), values as binary strings (latin1). */
  xattrs?: Record<string, string>;
  /** sha256 of the file's bytes (files only). */
  sha256?: Digest;
}
