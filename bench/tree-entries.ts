/**
 * The layerkit side of the export benchmark's input: a folder on disk read as layer entries, in
 * the order a layer wants them (parents first, `compareTarPaths` order), the way a caller of
 * `addLayer` would read a tree. Small files are read with one synchronous call (Node's async fs
 * costs 30–100 µs per call here, reference §A4); files over 1 MiB are streamed in 1 MiB chunks.
 * Files with several links become hardlink entries after their first name, as GNU tar does.
 */
import { createReadStream, lstatSync, readdirSync, readFileSync, readlinkSync, type Stats } from 'node:fs';
import { compareTarPaths } from '../src/tar/path.js';
import type { LayerEntryInput } from '../src/tar/layer-writer.js';
import type { EntryType } from '../src/tar/entry.js';

/** Files up to this size are read whole and synchronously. */
const READ_WHOLE = 1 << 20;

/** Options for {@link treeEntries}. */
export interface TreeEntriesOptions {
  /** The folder whose contents become the layer (it is the layer's root). */
  dir: string;
  signal?: AbortSignal | undefined;
}

/** Yields the entries of a folder, root first, depth first, names in `compareTarPaths` order. */
export async function* treeEntries({ dir, signal }: TreeEntriesOptions): AsyncGenerator<LayerEntryInput> {
  const firstName = new Map<string, string>();
  const root = lstatSync(dir);
  yield { header: { path: '', type: 'directory', ...attributes(root) } };
  const stack: Array<{ rel: string; names: string[]; next: number }> = [{ rel: '', names: sortedNames(dir), next: 0 }];
  while (stack.length > 0) {
    signal?.throwIfAborted();
    const top = stack[stack.length - 1]!;
    if (top.next >= top.names.length) {
      stack.pop();
      continue;
    }
    const name = top.names[top.next++]!;
    const rel = top.rel === '' ? name : `${top.rel}/${name}`;
    const full = `${dir}/${rel}`;
    const st = lstatSync(full);
    const attrs = attributes(st);
    if (st.isDirectory()) {
      yield { header: { path: rel, type: 'directory', ...attrs } };
      stack.push({ rel, names: sortedNames(full), next: 0 });
    } else if (st.isSymbolicLink()) {
      yield { header: { path: rel, type: 'symlink', linkTarget: readlinkSync(full), ...attrs } };
    } else if (st.isFile()) {
      if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        const first = firstName.get(key);
        if (first !== undefined) {
          yield { header: { path: rel, type: 'hardlink', linkTarget: first, ...attrs } };
          continue;
        }
        firstName.set(key, rel);
      }
      if (st.size <= READ_WHOLE) {
        const data = readFileSync(full);
        yield { header: { path: rel, type: 'file', size: data.length, ...attrs }, data };
      } else {
        yield {
          header: { path: rel, type: 'file', size: st.size, ...attrs },
          data: createReadStream(full, { highWaterMark: READ_WHOLE }),
        };
      }
    } else {
      const type: EntryType = st.isFIFO() ? 'fifo' : st.isCharacterDevice() ? 'char' : 'block';
      if (st.isSocket()) continue; // tar skips sockets too
      const device =
        type === 'fifo'
          ? {}
          : { devmajor: Math.floor(st.rdev / 256) & 0xfff, devminor: (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00) };
      yield { header: { path: rel, type, ...device, ...attrs } };
    }
  }
}

function sortedNames(dir: string): string[] {
  return (readdirSync(dir) as string[]).sort(compareTarPaths);
}

function attributes(st: Stats): { mode: number; uid: number; gid: number; mtime: number } {
  return { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000) };
}
