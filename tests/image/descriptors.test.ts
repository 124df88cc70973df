/**
 * Every descriptor is checked where it enters: index.json entries and a manifest's config and
 * layers need a media type, a valid digest and a non-negative integer size. A layout or archive
 * with a bad one is refused with ERR_INVALID_MANIFEST naming the field, and the store is unchanged.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { importImage } from '../../src/image/import.js';
import { writeTinyLayout } from '../helpers/tiny-layout.js';
import { it } from '../helpers/fixtures.js';
import { snapshotStore } from './store-snapshot.js';

type Obj = Record<string, unknown>;
const entry = (o: Obj) => (o.manifests as Obj[])[0]!;
const layer = (o: Obj) => (o.layers as Obj[])[0]!;

/** [what, where the mutation goes, the mutation, the field the error must name] */
const MUTANTS: Array<[string, 'index' | 'manifest', (o: Obj) => void, string]> = [
  ['index entry without size', 'index', (o) => delete entry(o).size, 'manifests[0].size'],
  ['index entry with a string size', 'index', (o) => (entry(o).size = '42'), 'manifests[0].size'],
  ['index entry with a negative size', 'index', (o) => (entry(o).size = -1), 'manifests[0].size'],
  ['index entry with a fractional size', 'index', (o) => (entry(o).size = 1.5), 'manifests[0].size'],
  ['index entry without digest', 'index', (o) => delete entry(o).digest, 'manifests[0].digest'],
  ['index entry with a bad digest', 'index', (o) => (entry(o).digest = 'sha256:xyz'), 'manifests[0].digest'],
  ['index entry with a numeric media type', 'index', (o) => (entry(o).mediaType = 7), 'manifests[0].mediaType'],
  ['index entry that is a string', 'index', (o) => ((o.manifests as unknown[])[0] = 'x'), 'manifests[0]'],
  ['config without digest', 'manifest', (o) => delete (o.config as Obj).digest, 'config.digest'],
  ['config without size', 'manifest', (o) => delete (o.config as Obj).size, 'config.size'],
  ['config without media type', 'manifest', (o) => delete (o.config as Obj).mediaType, 'config.mediaType'],
  ['layer without digest', 'manifest', (o) => delete layer(o).digest, 'layers[0].digest'],
  ['layer with a digest of another algorithm', 'manifest', (o) => (layer(o).digest = 'md5:abc'), 'layers[0].digest'],
  ['layer without size', 'manifest', (o) => delete layer(o).size, 'layers[0].size'],
  ['layer with a null size', 'manifest', (o) => (layer(o).size = null), 'layers[0].size'],
  ['layer without media type', 'manifest', (o) => delete layer(o).mediaType, 'layers[0].mediaType'],
  ['layers that are not an array', 'manifest', (o) => (o.layers = { 0: layer(o) }), 'layers'],
];

describe('descriptor validation on import', () => {
  it.for(MUTANTS)(
    '%s: ERR_INVALID_MANIFEST naming the field, as a layout and as an archive',
    async ([_, at, mutate, field], { tmp, diskStore: store }) => {
      const layout = join(tmp, 'layout');
      writeTinyLayout(layout, {
        layers: ['one\n', 'two\n'],
        ...(at === 'index' ? { mutateIndex: mutate } : { mutateManifest: mutate }),
      });
      const archive = join(tmp, 'image.tar');
      execFileSync('tar', ['-cf', archive, '-C', layout, 'oci-layout', 'index.json', 'blobs']);
      const before = snapshotStore(store);
      for (const source of [layout, archive]) {
        const err = await importImage({ store, source, tags: ['x:1'] }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err, source).toMatchObject({ code: 'ERR_INVALID_MANIFEST', data: { field } });
        expect((err as Error).message).toContain(field);
        expect(snapshotStore(store)).toEqual(before);
      }
    },
  );

  it('the unmutated layout imports (the table changes one thing each)', async ({ tmp, diskStore: store }) => {
    writeTinyLayout(join(tmp, 'layout'), { layers: ['one\n', 'two\n'] });
    await importImage({ store, source: join(tmp, 'layout'), tags: ['x:1'] });
    expect(store.resolveRef('x:1').descriptor.size).toBeGreaterThan(0);
  });
});
