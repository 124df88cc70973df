/**
 * The page's build-cache folder: where machine A's `--cache-to type=local,dest=/cache` writes and
 * machine B's `--cache-from type=local,src=/cache` reads, kept in memory as a map of paths to
 * bytes behind the few `fs.promises` calls layerkit's cache folder uses (`CacheFs`). A folder is
 * any path prefix; files appear whole (written, then renamed) as on a disk.
 */
import type { CacheFs } from '../../src/index.js';

function fsError(code: 'ENOENT', call: string, path: string): Error {
  return Object.assign(new Error(`${code}: no such file or directory, ${call} '${path}'`), {
    code,
    path,
    syscall: call,
  });
}

/** A file of the folder, as the page lists it. */
export interface FolderFile {
  path: string;
  size: number;
}

/** An in-memory folder tree: `fs` for layerkit, `list()` for the page. */
export function memoryFolder(): { fs: CacheFs; list(under: string): FolderFile[] } {
  const files = new Map<string, Uint8Array>();
  const get = (call: string, path: string) => {
    const data = files.get(path);
    if (data === undefined) throw fsError('ENOENT', call, path);
    return data;
  };
  const fs: CacheFs = {
    promises: {
      readFile: async (path) => get('open', path),
      writeFile: async (path, data) => void files.set(path, data.slice()),
      mkdir: async () => undefined,
      rename: async (from, to) => {
        files.set(to, get('rename', from));
        files.delete(from);
      },
      stat: async (path) => {
        if (files.has(path)) return { size: files.get(path)!.length };
        const prefix = `${path.replace(/\/+$/, '')}/`;
        for (const p of files.keys()) if (p.startsWith(prefix)) return { size: 0 };
        throw fsError('ENOENT', 'stat', path);
      },
      unlink: async (path) => {
        get('unlink', path);
        files.delete(path);
      },
    },
  };
  const list = (under: string) => {
    const prefix = `${under.replace(/\/+$/, '')}/`;
    return [...files.entries()]
      .filter(([p]) => p.startsWith(prefix))
      .map(([p, data]) => ({ path: p.slice(prefix.length), size: data.length }))
      .sort((a, b) => (a.path < b.path ? -1 : 1));
  };
  return { fs, list };
}
