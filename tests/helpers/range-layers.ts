/**
 * Helpers for the tests of layers read by ranges (eStargz, uncompressed tars): a range source
 * that counts what it serves, and a layer's shape (entries, whiteouts, opaque dirs, listings) to
 * compare with the store's index of the same files.
 */
import type { RangeSource } from '../../src/layer/range-layer.js';
import type { LayerReader } from '../../src/layer/types.js';

/** `source`, counting the reads and bytes it serves; a range outside the blob throws. */
export function countingSource(source: RangeSource): RangeSource & { served: number; reads: number } {
  const c = {
    size: source.size,
    served: 0,
    reads: 0,
    async read(start: number, end: number) {
      if (start < 0 || end > source.size || start > end) throw new Error(`bad range ${start}-${end}`);
      c.reads++;
      c.served += end - start;
      return source.read(start, end);
    },
  };
  return c;
}

/** What a reader shows of a layer, file hashes aside (the folders of the layer-tree arbitrary included). */
export function layerShape(layer: LayerReader) {
  const dirs = ['', ...[...layer.entries()].filter((e) => e.type === 'directory').map((e) => e.path), 'd'];
  return {
    entries: [...layer.entries()].map(({ sha256: _, ...e }) => e),
    whiteouts: [...layer.whiteouts()],
    opaque: [...layer.opaqueDirs()],
    children: dirs.map((d) => [d, layer.children(d), layer.isImplicitDir(d)]),
  };
}
