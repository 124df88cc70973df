/**
 * What each layer adds, modifies and deletes: hand-computed tables, and a property that replaying
 * the change lists layer by layer gives exactly the tree `flattenLayers` gives at every height.
 */
import { describe, expect } from 'vitest';
import { test, fc } from '@fast-check/vitest';
import { createMemoryLayer, flattenLayers, type LayerReader, type MemoryLayerEntryInput } from '../../src/low-level.js';
import { analyzeLayerChanges } from '../../src/report/layer-changes.js';
import { layerSpecArb } from './arbitraries.js';

const file = (path: string, size: number, fill = 'x'): MemoryLayerEntryInput => ({
  path,
  type: 'file',
  data: fill.repeat(size),
});
const dir = (path: string, mode = 0o755): MemoryLayerEntryInput => ({ path, type: 'directory', mode });
const layer = (
  entries: MemoryLayerEntryInput[],
  markers: { whiteouts?: string[]; opaqueDirs?: string[] } = {},
): LayerReader => createMemoryLayer({ entries, ...markers });

/** A change list as short strings: `+/a`, `~/a(content)`, `-/a(whiteout by /a from 0)`. */
function summary(layers: LayerReader[]): string[][] {
  return analyzeLayerChanges({ layers }).layers.map((c) => [
    ...c.added.map((f) => `+${f.path}`),
    ...c.modified.map((f) => `~${f.path}(${f.differs!.join(',')})`),
    ...c.deleted.map((f) => `-${f.path}(${f.cause} by ${f.by} from ${f.from})`),
  ]);
}

describe('analyzeLayerChanges', () => {
  test.each([
    {
      name: 'a file rewritten in 3 layers: modified twice, identical copies say so',
      layers: () => [layer([file('x', 5, 'a')]), layer([file('x', 5, 'b')]), layer([file('x', 5, 'b')])],
      want: [['+/x'], ['~/x(content)'], ['~/x()']],
    },
    {
      name: 'a whiteout deletes a file; its directory re-listed unchanged is not noise',
      layers: () => [layer([dir('app'), file('app/big', 9)]), layer([dir('app')], { whiteouts: ['app/big'] })],
      want: [['+/app', '+/app/big'], ['-/app/big(whiteout by /app/big from 0)']],
    },
    {
      name: 'an opaque directory hides 2 files and keeps the one the layer writes',
      layers: () => [
        layer([dir('d'), file('d/a', 1), file('d/b', 2), file('d/c', 3)]),
        layer([dir('d', 0o700), file('d/c', 4, 'q')], { opaqueDirs: ['d'] }),
      ],
      want: [
        ['+/d', '+/d/a', '+/d/b', '+/d/c'],
        ['~/d(mode)', '~/d/c(content)', '-/d/a(opaque by /d from 0)', '-/d/b(opaque by /d from 0)'],
      ],
    },
    {
      name: 'a whiteout of a directory deletes its whole subtree',
      layers: () => [layer([dir('d'), dir('d/e'), file('d/e/f', 1)]), layer([], { whiteouts: ['d'] })],
      want: [
        ['+/d', '+/d/e', '+/d/e/f'],
        ['-/d(whiteout by /d from 0)', '-/d/e(whiteout by /d from 0)', '-/d/e/f(whiteout by /d from 0)'],
      ],
    },
    {
      name: 'a directory replaced by a file: the file is a modification, the subtree is deleted',
      layers: () => [layer([dir('d'), file('d/a', 1)]), layer([file('d', 2)])],
      want: [
        ['+/d', '+/d/a'],
        ['~/d(type)', '-/d/a(replaced by /d from 0)'],
      ],
    },
    {
      name: 'a file turned into a directory by a file written below it',
      layers: () => [layer([file('d', 2)]), layer([file('d/a', 1)])],
      want: [['+/d'], ['+/d/a', '~/d(type)']],
    },
    {
      name: 'implicit parents are added directories; a whiteout of nothing changes nothing',
      layers: () => [layer([file('a/b/c', 1)], { whiteouts: ['zz'] })],
      want: [['+/a', '+/a/b', '+/a/b/c']],
    },
    {
      name: 'the same layer twice: every file again, as identical copies',
      layers: () => {
        const l = layer([dir('etc'), file('etc/x', 3)]);
        return [l, l];
      },
      want: [['+/etc', '+/etc/x'], ['~/etc/x()']],
    },
    {
      name: 'a hardlink and a chmod',
      layers: () => [
        layer([file('a', 3), { path: 'b', type: 'hardlink', linkTarget: 'a' }]),
        layer([{ ...file('a', 3), mode: 0o600 }]),
      ],
      want: [['+/a', '+/b'], ['~/a(mode)']],
    },
  ])('$name', ({ layers, want }) => {
    expect(summary(layers())).toEqual(want);
  });

  test('sizes: a deleted file keeps its size, a modified file its size before', () => {
    const [, second] = analyzeLayerChanges({
      layers: [layer([file('a', 10), file('b', 20)]), layer([file('a', 15, 'y')], { whiteouts: ['b'] })],
    }).layers;
    expect(second!.modified).toEqual([
      { path: '/a', type: 'file', size: 15, sizeBefore: 10, differs: ['content'], from: 0 },
    ]);
    expect(second!.deleted).toEqual([{ path: '/b', type: 'file', size: 20, cause: 'whiteout', by: '/b', from: 0 }]);
  });

  test.prop([fc.array(layerSpecArb, { minLength: 1, maxLength: 5 })])(
    'replaying the changes gives flattenLayers’ tree at every height',
    (specs) => {
      const layers = specs.map((s) => createMemoryLayer(s));
      const { layers: changes } = analyzeLayerChanges({ layers });
      let tree = new Set<string>();
      changes.forEach((c, k) => {
        for (const f of [...c.modified, ...c.deleted])
          expect(tree.has(f.path), `layer ${k} ${f.path} was below`).toBe(true);
        const next = new Set(tree);
        for (const f of c.deleted) next.delete(f.path);
        for (const f of c.added) {
          expect(next.has(f.path), `layer ${k} added ${f.path}, which was there`).toBe(false);
          next.add(f.path);
        }
        const flat = new Set(
          [...flattenLayers(layers.slice(0, k + 1)).keys()].filter((p) => p !== '').map((p) => `/${p}`),
        );
        expect([...next].sort()).toEqual([...flat].sort());
        tree = next;
      });
    },
  );
});
