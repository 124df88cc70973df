/**
 * Random layer trees for the eStargz writer and reader tests: unique paths in tar order under a
 * few folders (`d` is left implicit: only `d/e` has an entry), of every kind a layer holds: files
 * (empty, small, and spanning several chunks), symlinks (absolute and relative), hard links, fifos, whiteouts and opaque
 * markers, with random owners. File bytes follow from a seed, so a failing case shrinks to a
 * small, readable tree.
 */
import fc from 'fast-check';
import type { LayerEntryInput } from '../../src/tar/layer-writer.js';
import { compareTarPaths } from '../../src/tar/path.js';

/** Options for {@link layerTreeArb}. */
export interface LayerTreeOptions {
  /** The eStargz chunk size: "big" files span from one to four chunks (plus a few bytes). */
  chunk: number;
}

const DIRS = ['a', 'a/c', 'b', 'd/e'];
const meta = { uid: 0, gid: 0, mtime: 0 };

/** An arbitrary layer (1 to 14 random entries besides the folders), sorted as a tar writer wants. */
export function layerTreeArb({ chunk }: LayerTreeOptions): fc.Arbitrary<LayerEntryInput[]> {
  return fc
    .uniqueArray(
      fc.record({
        dir: fc.constantFrom(...DIRS),
        name: fc.stringMatching(/^[a-z0-9]{1,6}$/),
        kind: fc.constantFrom('file', 'file', 'empty', 'big', 'symlink', 'hardlink', 'whiteout', 'opaque', 'fifo'),
        seed: fc.integer({ min: 0, max: 255 }),
        big: fc.integer({ min: chunk, max: 4 * chunk + 3 }),
        uid: fc.integer({ min: 0, max: 70000 }),
      }),
      { selector: (f) => `${f.dir}/${f.name}`, minLength: 1, maxLength: 14 },
    )
    .map((files) => {
      const entries: LayerEntryInput[] = DIRS.map((d) => ({
        header: { path: d, type: 'directory', mode: 0o750, ...meta },
      }));
      let firstFile: string | undefined;
      for (const f of files) {
        const path = `${f.dir}/${f.name}`;
        if (f.kind === 'file' || f.kind === 'big' || f.kind === 'empty') {
          const size = f.kind === 'empty' ? 0 : f.kind === 'big' ? f.big : (f.seed % 50) + 1;
          const data = Buffer.alloc(size);
          for (let i = 0; i < size; i++) data[i] = (i * 7 + f.seed) & 0xff;
          entries.push({ header: { path, type: 'file', mode: 0o604, ...meta, uid: f.uid, size }, data });
          firstFile ??= path;
        } else if (f.kind === 'symlink') {
          entries.push({
            header: {
              path,
              type: 'symlink',
              mode: 0o777,
              linkTarget: f.seed % 2 ? `../t/${f.name}` : `/t/${f.name}`,
              ...meta,
            },
          });
        } else if (f.kind === 'hardlink' && firstFile !== undefined) {
          entries.push({ header: { path, type: 'hardlink', mode: 0o604, linkTarget: firstFile, ...meta } });
        } else if (f.kind === 'fifo') {
          entries.push({ header: { path, type: 'fifo', mode: 0o600, ...meta } });
        } else if (f.kind === 'whiteout') {
          entries.push({ header: { path: `${f.dir}/.wh.${f.name}`, type: 'file', mode: 0, size: 0, ...meta } });
        } else if (f.kind === 'opaque') {
          entries.push({ header: { path: `${f.dir}/.wh..wh..opq`, type: 'file', mode: 0, size: 0, ...meta } });
        }
      }
      const seen = new Set<string>();
      return entries
        .filter((e) => !seen.has(e.header.path) && seen.add(e.header.path))
        .sort((x, y) => compareTarPaths(x.header.path, y.header.path));
    });
}
