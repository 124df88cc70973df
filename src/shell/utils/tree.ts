/**
 * Filesystem helpers for utilities: stat without throwing, entry types, and a sorted
 * depth-first walk (pre- or post-order) that never follows symlinks.
 */
import { posix } from 'node:path';
import type { ExecutorFs, ExecutorStats } from '../../union/fs-contract.js';
import { compareBytes } from '../glob.js';

/** The kind of a filesystem entry. */
export type FileType = 'file' | 'directory' | 'symlink' | 'fifo' | 'char' | 'block' | 'socket';

/** The kind of entry a stats object describes. */
export function fileType(st: ExecutorStats): FileType {
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isDirectory()) return 'directory';
  if (st.isFIFO()) return 'fifo';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isFile()) return 'file';
  return 'socket';
}

/** `lstat`, or undefined when the path does not exist. */
export async function lstatOrUndefined(fs: ExecutorFs, path: string): Promise<ExecutorStats | undefined> {
  try {
    return await fs.lstat(path);
  } catch {
    return undefined;
  }
}

/** `stat` (following symlinks), or undefined when the path or its target does not exist. */
export async function statOrUndefined(fs: ExecutorFs, path: string): Promise<ExecutorStats | undefined> {
  try {
    return await fs.stat(path);
  } catch {
    return undefined;
  }
}

/** Directory entries sorted bytewise. */
export async function sortedNames(fs: ExecutorFs, dir: string): Promise<string[]> {
  return (await fs.readdir(dir)).sort(compareBytes);
}

/** One entry met by {@link walk}. */
export interface WalkEntry {
  path: string;
  stats: ExecutorStats;
  depth: number;
}

/**
 * Walks a tree depth-first in sorted order without following symlinks below the root.
 * `postorder` yields a directory after its contents (for deletion).
 */
export async function* walk(
  fs: ExecutorFs,
  root: string,
  options: { postorder?: boolean; followRoot?: boolean; maxDepth?: number } = {},
): AsyncGenerator<WalkEntry> {
  const stats = options.followRoot === true ? await fs.stat(root) : await fs.lstat(root);
  yield* visit(fs, root, stats, 0, options);
}

async function* visit(
  fs: ExecutorFs,
  path: string,
  stats: ExecutorStats,
  depth: number,
  options: { postorder?: boolean; maxDepth?: number },
): AsyncGenerator<WalkEntry> {
  if (options.postorder !== true) yield { path, stats, depth };
  if (stats.isDirectory() && (options.maxDepth === undefined || depth < options.maxDepth)) {
    let names: string[] = [];
    try {
      names = await sortedNames(fs, path);
    } catch {
      names = [];
    }
    for (const name of names) {
      const child = path === '/' ? `/${name}` : posix.join(path, name);
      const st = await lstatOrUndefined(fs, child);
      if (st !== undefined) yield* visit(fs, child, st, depth + 1, options);
    }
  }
  if (options.postorder === true) yield { path, stats, depth };
}
