/** fast-check arbitraries for small layer stacks over a tiny set of paths (so layers collide often). */
import { fc } from '@fast-check/vitest';
import type { CreateMemoryLayerOptions, MemoryLayerEntryInput } from '../../src/low-level.js';

const NAMES = ['a', 'a/x', 'a/y', 'a/b', 'a/b/z', 'c', 'c/x', 'x'];

/** One layer: files (sized, content varies with size), directories, symlinks, hardlinks to `x`, whiteouts, opaque dirs. */
export const layerSpecArb: fc.Arbitrary<CreateMemoryLayerOptions> = fc
  .record({
    picks: fc.array(
      fc.tuple(
        fc.constantFrom(...NAMES),
        fc.constantFrom('file', 'dir', 'link', 'hard'),
        fc.integer({ min: 0, max: 300 }),
      ),
      { maxLength: 6 },
    ),
    whiteouts: fc.subarray(NAMES, { maxLength: 2 }),
    opaque: fc.subarray(['a', 'c', 'a/b'], { maxLength: 1 }),
  })
  .map(({ picks, whiteouts, opaque }) => {
    const chosen = new Map<string, MemoryLayerEntryInput>();
    for (const [path, kind, size] of picks) {
      if (chosen.has(path)) continue;
      if (kind === 'file')
        chosen.set(path, { path, type: 'file', data: String.fromCharCode(97 + (size % 26)).repeat(size) });
      else if (kind === 'dir') chosen.set(path, { path, type: 'directory' });
      else if (kind === 'link') chosen.set(path, { path, type: 'symlink', linkTarget: '/x' });
      else chosen.set(path, { path, type: 'hardlink', linkTarget: 'x' });
    }
    // A layer cannot hold entries below one of its own non-directories.
    for (const [p, e] of [...chosen])
      if (e.type !== 'directory') for (const q of [...chosen.keys()]) if (q.startsWith(`${p}/`)) chosen.delete(q);
    const entries = [...chosen.values()];
    // Whiteouts only where the layer writes nothing at or below the path, nor a non-directory above it.
    const touches = (p: string) =>
      entries.some(
        (e) => e.path === p || e.path.startsWith(`${p}/`) || (e.type !== 'directory' && p.startsWith(`${e.path}/`)),
      );
    return {
      entries,
      whiteouts: whiteouts.filter((w) => !touches(w)),
      opaqueDirs: opaque.filter((d) => chosen.get(d)?.type === 'directory'),
    };
  });
