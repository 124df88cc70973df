/**
 * LayerIndexer: fed a layer tar in arbitrary chunks, it stores the same index that a pass over
 * the stored blob (`buildLayerIndex`) stores; abort and failures leave nothing behind.
 */
import { describe, expect } from 'vitest';
import { test, fc } from '@fast-check/vitest';
import { gzipSync } from 'node:zlib';
import { openStore, type Store } from '../../src/store/store.js';
import { buildLayerIndex } from '../../src/layer/build-layer-index.js';
import { LayerIndexer } from '../../src/layer/layer-indexer.js';
import { sha256 } from '../../src/digest/digest.js';
import { MediaTypes } from '../../src/oci/media-types.js';
import type { TarEntryInput } from '../../src/tar/types.js';
import { tarBytes } from '../image/layouts.js';
import { it } from '../helpers/fixtures.js';
import { withTempDir } from '../helpers/tmp.js';

type Input = { header: TarEntryInput; data?: Buffer };

const base = { mode: 0o644, uid: 0, gid: 0, mtime: 1_700_000_000 };

/** Small layers: folders, files, symlinks, hardlinks, whiteouts and opaque markers. */
const layerArb = fc
  .uniqueArray(
    fc.record({
      dir: fc.constantFrom('', 'a', 'a/b', 'c'),
      name: fc.constantFrom('x', 'y', 'z', 'long-name-of-a-file', '.wh.gone', '.wh..wh..opq', 'ln', 'hl'),
      size: fc.nat(3000),
    }),
    { selector: (e) => `${e.dir}/${e.name}`, maxLength: 12 },
  )
  .map((picked): Input[] => {
    const out: Input[] = [
      { header: { path: 'a', type: 'directory', ...base, mode: 0o755 } },
      { header: { path: 'a/b', type: 'directory', ...base, mode: 0o755 } },
    ];
    let firstFile: string | undefined;
    for (const { dir, name, size } of picked) {
      const path = dir === '' ? name : `${dir}/${name}`;
      if (name === 'ln') out.push({ header: { path, type: 'symlink', linkTarget: '../x', ...base } });
      else if (name === 'hl') {
        if (firstFile !== undefined) out.push({ header: { path, type: 'hardlink', linkTarget: firstFile, ...base } });
      } else if (name.startsWith('.wh.'))
        out.push({ header: { path, type: 'file', ...base, mtime: 0 }, data: Buffer.alloc(0) });
      else {
        out.push({ header: { path, type: 'file', ...base }, data: Buffer.alloc(size, path.length + size) });
        firstFile ??= path;
      }
    }
    return out;
  });

/** Splits bytes at the given fractions (sorted, deduplicated). */
function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => Math.floor(c * bytes.length)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of [...at, bytes.length]) {
    if (c > prev) out.push(bytes.subarray(prev, c));
    prev = c;
  }
  return out;
}

/** A fresh disk store in `dir` (each property run has its own folder: test.prop takes no fixtures). */
async function freshStore(dir: string, name: string): Promise<{ store: Store }> {
  return { store: await openStore({ root: `${dir}/${name}`, durable: false }) };
}

describe('LayerIndexer', () => {
  test.prop([layerArb, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 }), fc.boolean()], {
    numRuns: 40,
  })(
    'indexes a tar fed in any chunks exactly as buildLayerIndex indexes the stored blob',
    async (entries, cuts, gzip) => {
      const tar = await tarBytes(entries);
      const diffId = sha256(tar);
      await withTempDir(async (dir) => {
        const fed = await freshStore(dir, 'fed');
        const read = await freshStore(dir, 'read');
        // Fed: the blob is stored first (for an uncompressed layer it is the data file).
        const blob = gzip ? gzipSync(tar) : tar;
        const stored = await fed.store.blobs.put(blob);
        const indexer = new LayerIndexer({ store: fed.store, copy: gzip });
        for (const chunk of split(tar, cuts)) indexer.write(chunk);
        const { index, created } = indexer.finish({ diffId, dataBlob: gzip ? undefined : stored.digest });
        expect(created).toBe(true);

        const other = await read.store.blobs.put(blob);
        const descriptor = {
          mediaType: gzip ? MediaTypes.ociLayerGzip : MediaTypes.ociLayer,
          digest: other.digest,
          size: other.size,
        };
        const { index: expected } = await buildLayerIndex({ store: read.store, descriptor, expectedDiffId: diffId });

        expect(index.data).toEqual(expected.data);
        for (const e of expected.entries()) {
          if (e.type === 'file') expect(index.readSync(e.path)).toEqual(expected.readSync(e.path));
        }
        expect(fed.store.listState('tmp')).toEqual([]);
      }, 'layerkit-indexer-');
    },
  );

  it('a second finish of the same layer keeps the stored index (created: false)', async ({ diskStore: store }) => {
    const tar = await tarBytes([{ header: { path: 'f', type: 'file', ...base }, data: Buffer.from('hello') }]);
    const make = (): LayerIndexer => {
      const ix = new LayerIndexer({ store, copy: true });
      ix.write(tar);
      return ix;
    };
    expect(make().finish({ diffId: sha256(tar) }).created).toBe(true);
    const again = make().finish({ diffId: sha256(tar) });
    expect(again.created).toBe(false);
    expect(again.index.readSync('f').toString()).toBe('hello');
    expect(store.listState('tmp')).toEqual([]);
  });

  it.for([
    ['not a tar', Buffer.from('{"schemaVersion":2}'.padEnd(1024, ' '))],
    ['a truncated tar', Buffer.alloc(0)],
  ] as const)(
    '%s fails with ERR_LAYER_FORMAT and abort leaves no temp files or state',
    async ([_what, bytes], { diskStore: store }) => {
      const tar =
        bytes.length > 0
          ? bytes
          : (await tarBytes([{ header: { path: 'f', type: 'file', ...base }, data: Buffer.alloc(2000, 1) }])).subarray(
              0,
              1200,
            );
      const indexer = new LayerIndexer({ store, copy: true });
      let code: string | undefined;
      try {
        indexer.write(tar);
        indexer.finish({ diffId: sha256(tar) });
      } catch (err) {
        code = (err as { code?: string }).code;
        indexer.abort();
      }
      expect(code).toBe('ERR_LAYER_FORMAT');
      expect(store.listState('tmp')).toEqual([]);
      expect(store.listState('layers')).toEqual([]);
    },
  );
});
