/**
 * Listing a union view (a container) the way `layerkit ls` lists an image: same entry shape,
 * read through the view, so what a container changed shows up.
 */
import { createHash } from '#platform';
import type { ListedEntry } from '../image/listing.js';
import type { UnionFS } from '../union/union-fs.js';
import type { UnionStats } from '../union/stats.js';

function typeOf(st: UnionStats): ListedEntry['type'] {
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isFIFO()) return 'fifo';
  return 'file';
}

/** Lists `path` of a union view (its children, or the subtree with `recursive`), sorted. */
export function listView(fs: UnionFS, options: { path?: string; recursive?: boolean } = {}): ListedEntry[] {
  const start = options.path ?? '/';
  const out: ListedEntry[] = [];
  const describe = (p: string, st: UnionStats): ListedEntry => {
    const type = typeOf(st);
    const e: ListedEntry = {
      path: p,
      type,
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
      size: type === 'file' ? st.size : 0,
      mtime: Math.floor(st.mtimeMs / 1000),
    };
    if (type === 'file') e.sha256 = createHash('sha256').update(fs.readFileSync(p)).digest('hex');
    if (type === 'symlink') e.linkTarget = fs.readlinkSync(p);
    return e;
  };
  const top = fs.lstatSync(start);
  if (!top.isDirectory()) return [describe(start, top)];
  const visit = (dir: string): void => {
    for (const name of fs.readdirSync(dir).sort()) {
      const p = dir === '/' ? `/${name}` : `${dir}/${name}`;
      const st = fs.lstatSync(p);
      out.push(describe(p, st));
      if (options.recursive && st.isDirectory()) visit(p);
    }
  };
  visit(start === '/' ? '/' : start.replace(/\/+$/, ''));
  return out;
}
