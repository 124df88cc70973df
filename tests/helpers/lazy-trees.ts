/**
 * Helpers for the lazy-mount tests: a layer's entries from a map of paths (files, links,
 * whiteouts and opaque markers, parent folders added), and a view's whole tree as text to compare
 * a lazy mount with a pulled one.
 */
import type { ImageFS } from '../../src/index.js';
import type { LayerEntryInput } from '../../src/tar/layer-writer.js';
import { compareTarPaths } from '../../src/tar/path.js';

/** What a path of a test layer is: bytes, a symlink, a hard link, or a whiteout / opaque marker. */
export type LayerFiles = Record<string, Buffer | { link: string } | { hardlink: string } | 'whiteout' | 'opaque'>;

const meta = { uid: 0, gid: 0, mtime: 0 };

/** The entries of a layer holding `files` (their folders included), in tar order. */
export function layerEntriesOf(files: LayerFiles): LayerEntryInput[] {
  const entries: LayerEntryInput[] = [];
  const dirs = new Set<string>();
  for (const path of Object.keys(files)) {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  for (const d of dirs) entries.push({ header: { path: d, type: 'directory', mode: 0o755, ...meta } });
  for (const [path, v] of Object.entries(files)) {
    const slash = path.lastIndexOf('/');
    if (Buffer.isBuffer(v)) entries.push({ header: { path, type: 'file', mode: 0o644, ...meta }, data: v });
    else if (v === 'whiteout' || v === 'opaque') {
      const name = v === 'opaque' ? `${path}/.wh..wh..opq` : `${path.slice(0, slash + 1)}.wh.${path.slice(slash + 1)}`;
      entries.push({ header: { path: name, type: 'file', mode: 0, size: 0, ...meta }, data: Buffer.alloc(0) });
    } else if ('link' in v)
      entries.push({ header: { path, type: 'symlink', mode: 0o777, linkTarget: v.link, ...meta } });
    else entries.push({ header: { path, type: 'hardlink', mode: 0o644, linkTarget: v.hardlink, ...meta } });
  }
  return entries.sort((a, b) => compareTarPaths(a.header.path, b.header.path));
}

/** Every path of a view with what a stat and readlink say, sorted. */
export async function viewTree(fs: ImageFS, dir = '/'): Promise<string[]> {
  const out: string[] = [];
  for (const name of await fs.readdir(dir)) {
    const path = dir === '/' ? `/${name}` : `${dir}/${name}`;
    const st = await fs.lstat(path);
    const kind = st.isDirectory() ? 'd' : st.isSymbolicLink() ? `l->${await fs.readlink(path)}` : 'f';
    out.push(`${path} ${kind} ${(st.mode & 0o7777).toString(8)} ${st.isFile() ? st.size : ''} ${st.nlink}`);
    if (st.isDirectory()) out.push(...(await viewTree(fs, path)));
  }
  return out;
}
