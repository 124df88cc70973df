/**
 * Model-based property test: random operation lists applied to the union view over random
 * layer stacks and to a plain in-memory filesystem give the same results, error codes and
 * tree; committing `diff()` as a new layer and remounting (and flattening) gives the tree again.
 */
import { describe, expect } from 'vitest';
import { test } from '@fast-check/vitest';
import { createUnionFS, deserializeUpper, serializeUpper } from '../../src/union/index.js';
import { ops, outcome, stack } from './helpers/gen.js';
import { ModelFs } from './helpers/model.js';
import { runOnModel, runOnUnion } from './helpers/run-op.js';
import { flattenLayers, layerFromDiff, makeLayers, plain, treeOfUnion } from './helpers/tree.js';

const RUNS = Number(process.env['LAYERKIT_FUZZ_RUNS'] ?? 300);

describe('union view against a reference model', () => {
  test.prop([stack({ relativeLinks: false, explicitParents: false })], { numRuns: RUNS })(
    'mounts to the flattened tree',
    (specs) => {
      const layers = makeLayers(specs);
      expect(plain(treeOfUnion(createUnionFS({ layers })))).toEqual(plain(flattenLayers(layers)));
    },
  );

  test.prop([stack({ relativeLinks: false, explicitParents: false }), ops({ relativeLinks: false, maxLength: 25 })], {
    numRuns: RUNS,
    // Found by this property (seed 66277003): a directory renamed away and back holds copies of
    // what the image had below it, which the diff must write (the renamed-back directory is opaque).
    examples: [
      [
        [
          {
            entries: [{ path: 'c/a/a', type: 'directory', mode: 0o755, uid: 0, gid: 0 }],
            whiteouts: [],
            opaqueDirs: [],
          },
          { entries: [], whiteouts: [], opaqueDirs: [] },
        ],
        [
          { op: 'rename', from: '/c/a', to: '/a' },
          { op: 'rename', from: '/a', to: '/c/a' },
        ],
      ],
    ],
  })('same results, errors and tree as the model; diff() commits to the same tree', (specs, list) => {
    const layers = makeLayers(specs);
    const model = new ModelFs(flattenLayers(layers));
    const fs = createUnionFS({ layers, clock: () => 5_000 });
    list.forEach((o, i) => {
      const want = outcome(() => runOnModel(model, o));
      const got = outcome(() => runOnUnion(fs, o));
      expect({ i, o, got }).toEqual({ i, o, got: want });
    });
    const tree = plain(model.tree());
    expect(plain(treeOfUnion(fs))).toEqual(tree);

    const diff = fs.diff();
    const paths = diff.map((e) => e.header.path);
    expect(new Set(paths).size).toBe(paths.length);
    for (const e of diff) {
      const name = e.header.path.slice(e.header.path.lastIndexOf('/') + 1);
      if (!name.startsWith('.wh.') || name === '.wh..wh..opq') continue;
      const dir = e.header.path.slice(0, Math.max(0, e.header.path.lastIndexOf('/')));
      const target = dir === '' ? name.slice(4) : `${dir}/${name.slice(4)}`;
      // Never a whiteout and an entry for one path, and never a whiteout for what the image lacks.
      expect(paths).not.toContain(target);
      expect(createUnionFS({ layers, readOnly: true }).existsSync(`/${target}`) || isLinkIn(layers, target)).toBe(true);
    }
    const top = layerFromDiff(diff);
    expect(plain(flattenLayers([...layers, top]))).toEqual(tree);
    expect(plain(treeOfUnion(createUnionFS({ layers: [...layers, top], readOnly: true })))).toEqual(tree);

    const reopened = createUnionFS({ layers, upper: deserializeUpper(serializeUpper(fs.upper)) });
    expect(plain(treeOfUnion(reopened))).toEqual(tree);
    expect(reopened.diff().map((e) => e.header)).toEqual(diff.map((e) => e.header));
  });
});

/** True when the image has a (maybe dangling) symlink at `path` (existsSync follows links). */
function isLinkIn(layers: ReturnType<typeof makeLayers>, path: string): boolean {
  try {
    return createUnionFS({ layers, readOnly: true }).lstatSync(`/${path}`) !== undefined;
  } catch {
    return false;
  }
}
