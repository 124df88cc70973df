/**
 * Wasted space, against hand-computed answers, and against dive's formula to show where it goes
 * wrong (dive#684 over-count, smallest-copy-survives, opaque directories ignored).
 */
import { describe, expect } from 'vitest';
import { test, fc } from '@fast-check/vitest';
import { createMemoryLayer, type LayerReader, type MemoryLayerEntryInput } from '../../src/low-level.js';
import { analyzeWaste } from '../../src/report/waste.js';
import { diveModel } from './dive-model.js';
import { layerSpecArb } from './arbitraries.js';

const file = (path: string, size: number, fill = 'x'): MemoryLayerEntryInput => ({
  path,
  type: 'file',
  data: fill.repeat(size),
});
const dir = (path: string): MemoryLayerEntryInput => ({ path, type: 'directory' });
const layer = (
  entries: MemoryLayerEntryInput[],
  markers: { whiteouts?: string[]; opaqueDirs?: string[] } = {},
): LayerReader => createMemoryLayer({ entries, ...markers });

interface Case {
  name: string;
  layers: () => LayerReader[];
  stored: number;
  final: number;
  reclaimable: number;
  /** path → [reclaimable, fates bottom first] */
  paths: Record<string, [number, string[]]>;
  dive: { efficiency: number; wastedReleased: number; wastedFixed: number };
}

const shared = layer([file('a', 100)]);

const CASES: Case[] = [
  {
    name: 'a file rewritten in 3 layers: the top copy stays, not the smallest',
    layers: () => [layer([file('x', 50, 'a')]), layer([file('x', 200, 'b')]), layer([file('x', 100, 'c')])],
    stored: 350,
    final: 100,
    reclaimable: 250,
    paths: { '/x': [250, ['overwritten', 'overwritten', 'final']] },
    // dive keeps the smallest copy (50) and its released code counts all three copies.
    dive: { efficiency: 50 / 350, wastedReleased: 350, wastedFixed: 300 },
  },
  {
    name: 'a file deleted by a whiteout (dive’s own worked example)',
    layers: () => [
      layer([dir('etc'), file('etc/x', 100)]),
      layer([dir('app'), file('app/big', 1000)]),
      layer([dir('app')], { whiteouts: ['app/big'] }),
      layer([file('etc/x', 100, 'y')]),
    ],
    stored: 1200,
    final: 100,
    reclaimable: 1100,
    paths: { '/app/big': [1000, ['deleted']], '/etc/x': [100, ['overwritten', 'final']] },
    dive: { efficiency: 100 / 1200, wastedReleased: 1200, wastedFixed: 1100 },
  },
  {
    name: 'a directory made opaque that hides 2 files',
    layers: () => [
      layer([dir('d'), file('d/a', 100), file('d/b', 50)]),
      layer([dir('d'), file('d/c', 10)], { opaqueDirs: ['d'] }),
    ],
    stored: 160,
    final: 10,
    reclaimable: 150,
    paths: { '/d/a': [100, ['hidden']], '/d/b': [50, ['hidden']] },
    // dive skips opaque markers: every path is seen once, nothing is wasted, 100% efficient.
    dive: { efficiency: 1, wastedReleased: 0, wastedFixed: 0 },
  },
  {
    name: 'a whole directory deleted by one whiteout',
    layers: () => [layer([dir('d'), file('d/a', 100), file('d/b', 100)]), layer([], { whiteouts: ['d'] })],
    stored: 200,
    final: 0,
    reclaimable: 200,
    paths: { '/d/a': [100, ['deleted']], '/d/b': [100, ['deleted']] },
    // dive sees /d/a, /d/b and the whiteout /d once each: no waste at all.
    dive: { efficiency: 1, wastedReleased: 0, wastedFixed: 0 },
  },
  {
    name: 'the same layer twice in a manifest',
    layers: () => [shared, shared],
    stored: 200,
    final: 100,
    reclaimable: 100,
    paths: { '/a': [100, ['overwritten', 'final']] },
    dive: { efficiency: 0.5, wastedReleased: 200, wastedFixed: 100 },
  },
  {
    name: 'a hardlink keeps the copy it was made on alive after its path is rewritten',
    layers: () => [
      layer([file('a', 100), { path: 'b', type: 'hardlink', linkTarget: 'a' }]),
      layer([file('a', 10, 'z')]),
    ],
    stored: 110,
    final: 110,
    reclaimable: 0,
    paths: {},
    // dive (and a per-path "Σ − surviving copy at that path") would call 100 bytes of /a wasted.
    dive: { efficiency: 10 / 110, wastedReleased: 110, wastedFixed: 100 },
  },
  {
    name: 'a file and its hardlink both deleted: one copy reclaimed, counted once',
    layers: () => [
      layer([file('a', 100), { path: 'b', type: 'hardlink', linkTarget: 'a' }]),
      layer([], { whiteouts: ['a', 'b'] }),
    ],
    stored: 100,
    final: 0,
    reclaimable: 100,
    paths: { '/a': [100, ['deleted']] },
    dive: { efficiency: 0, wastedReleased: 100, wastedFixed: 100 },
  },
  {
    name: 'the worked example of analyzeWaste’s TSDoc',
    layers: () => [
      layer([dir('etc'), file('etc/x', 100), dir('d'), file('d/a', 40)]),
      layer([dir('app'), file('app/big', 1000)]),
      layer([dir('d')], { whiteouts: ['app/big'], opaqueDirs: ['d'] }),
      layer([file('etc/x', 300, 'q')]),
    ],
    stored: 1440,
    final: 300,
    reclaimable: 1140,
    paths: { '/app/big': [1000, ['deleted']], '/etc/x': [100, ['overwritten', 'final']], '/d/a': [40, ['hidden']] },
    dive: { efficiency: 140 / 1440, wastedReleased: 1400, wastedFixed: 1300 },
  },
];

describe('analyzeWaste', () => {
  for (const c of CASES) {
    test(c.name, () => {
      const layers = c.layers();
      const w = analyzeWaste({ layers });
      expect({ stored: w.storedBytes, final: w.finalBytes, reclaimable: w.reclaimableBytes }).toEqual({
        stored: c.stored,
        final: c.final,
        reclaimable: c.reclaimable,
      });
      expect(w.efficiency).toBeCloseTo(c.stored === 0 ? 1 : c.final / c.stored, 10);
      const got = Object.fromEntries(w.paths.map((p) => [p.path, [p.reclaimableBytes, p.copies.map((x) => x.fate)]]));
      expect(got).toEqual(c.paths);
      // Most reclaimable first.
      const order = w.paths.map((p) => p.reclaimableBytes);
      expect(order).toEqual([...order].sort((a, b) => b - a));
    });

    test(`dive gives a different answer: ${c.name}`, () => {
      const layers = c.layers();
      const dive = diveModel(layers);
      expect(dive.wastedReleased).toBe(c.dive.wastedReleased);
      expect(dive.wastedFixed).toBe(c.dive.wastedFixed);
      expect(dive.efficiency).toBeCloseTo(c.dive.efficiency, 10);
    });
  }

  test('dive’s released formula over-counts (dive#684) wherever a path is rewritten', () => {
    const layers = CASES[0]!.layers();
    const ours = analyzeWaste({ layers });
    const dive = diveModel(layers);
    expect(dive.wastedReleased).toBeGreaterThan(ours.reclaimableBytes);
    expect(dive.wastedReleased - ours.reclaimableBytes).toBe(100); // it counted the surviving copy too
    expect(dive.efficiency).not.toBeCloseTo(ours.efficiency, 3);
  });

  test('the copies of a path carry the layer that made them invisible', () => {
    const w = analyzeWaste({ layers: CASES[1]!.layers() });
    expect(w.paths.find((p) => p.path === '/app/big')!.copies).toEqual([
      { layer: 1, size: 1000, fate: 'deleted', by: 2 },
    ]);
    expect(w.paths.find((p) => p.path === '/etc/x')!.copies).toEqual([
      { layer: 0, size: 100, fate: 'overwritten', by: 3 },
      { layer: 3, size: 100, fate: 'final' },
    ]);
  });

  test('an empty stack is 100% efficient', () => {
    expect(analyzeWaste({ layers: [] })).toEqual({
      storedBytes: 0,
      finalBytes: 0,
      reclaimableBytes: 0,
      efficiency: 1,
      paths: [],
    });
  });
});

describe('analyzeWaste properties', () => {
  test.prop([fc.array(layerSpecArb, { maxLength: 5 })])(
    'stored = final + reclaimable = Σ paths = Σ copies by layer',
    (specs) => {
      const layers = specs.map((s) => createMemoryLayer(s));
      const w = analyzeWaste({ layers });
      expect(w.storedBytes).toBe(w.finalBytes + w.reclaimableBytes);
      expect(w.paths.reduce((n, p) => n + p.reclaimableBytes, 0)).toBe(w.reclaimableBytes);
      expect(w.efficiency).toBeGreaterThanOrEqual(0);
      expect(w.efficiency).toBeLessThanOrEqual(1);
      for (const p of w.paths) {
        // Every invisible copy was made invisible by a layer above it (the bottom-up pass and the
        // top-down flatten agree on what survives).
        for (const c of p.copies) if (c.fate !== 'final') expect(c.by).toBeGreaterThan(c.layer);
      }
    },
  );
});
