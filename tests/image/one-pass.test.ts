/**
 * Layers are read once: `addLayer` indexes the tar as it writes it, and an import indexes an
 * uncompressed layer blob as it stores it. The indexes so made equal what a separate pass over
 * the stored blob makes, nothing is read back, and failures leave no layer state behind.
 */
import { afterEach, describe, expect, vi } from 'vitest';
import * as fs from 'node:fs';
import { join } from 'node:path';
import type { Store } from '../../src/store/store.js';
import { addLayer } from '../../src/image/add-layer.js';
import { importImage } from '../../src/image/import.js';
import { buildLayerIndex } from '../../src/layer/build-layer-index.js';
import { forgetLoadedLayers } from '../../src/layer/layer-store.js';
import { blobOf, packArchive, tarBytes, writeLayout } from './layouts.js';
import { it } from '../helpers/fixtures.js';
import type { Descriptor } from '../../src/oci/types.js';
import type { LayerEntryInput } from '../../src/tar/layer-writer.js';

const base = { mode: 0o644, uid: 0, gid: 0, mtime: 1_700_000_000 };
const entries = (): Array<LayerEntryInput & { data?: Buffer }> => [
  { header: { path: 'etc', type: 'directory', ...base, mode: 0o755 } },
  { header: { path: 'etc/big', type: 'file', ...base }, data: Buffer.alloc(300_000, 7) },
  { header: { path: 'etc/hosts', type: 'file', ...base }, data: Buffer.from('127.0.0.1 localhost\n') },
  { header: { path: 'etc/link', type: 'symlink', linkTarget: 'hosts', ...base } },
  { header: { path: 'etc/.wh.old', type: 'file', ...base, mtime: 0 }, data: Buffer.alloc(0) },
];

/** Rebuilds a layer's index from its stored blob (state removed first) and returns its data. */
async function rebuilt(store: Store, descriptor: Descriptor, diffId: string): Promise<unknown> {
  store.removeState(`layers/${diffId.slice(7)}`);
  forgetLoadedLayers(store);
  const { index } = await buildLayerIndex({ store, descriptor });
  return index.data;
}

describe('one pass per layer', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it.for(['gzip', 'none'] as const)(
    'addLayer (%s) stores the index a pass over the blob would, without reading the blob',
    async (compression, { diskStore: store }) => {
      const open = vi.spyOn(store.blobs, 'open');
      const added = await addLayer({ store, entries: entries(), compression, gzipLevel: 1 });
      expect(open).not.toHaveBeenCalled();
      expect(added.index.readSync('etc/hosts').toString()).toBe('127.0.0.1 localhost\n');
      expect(store.listState('tmp')).toEqual([]);
      const data = structuredClone(added.index.data);
      expect(await rebuilt(store, added.descriptor, added.diffId)).toEqual(data);
    },
  );

  it('addLayer whose entries fail leaves no blob, layer state or temp file', async ({ diskStore: store }) => {
    async function* failing(): AsyncGenerator<LayerEntryInput> {
      yield* entries().slice(0, 3);
      throw new Error('source went away');
    }
    await expect(addLayer({ store, entries: failing() })).rejects.toThrow('source went away');
    expect(store.listState('layers')).toEqual([]);
    expect(store.listState('tmp')).toEqual([]);
    expect(store.blobs.list()).toEqual([]);
  });

  it.for(['layout', 'oci-archive'] as const)(
    'an import from an %s indexes uncompressed layers as it stores them',
    async (form, { tmp, diskStore: store }) => {
      const layers = [
        await tarBytes(entries()),
        await tarBytes([{ header: { path: 'only', type: 'file', ...base }, data: Buffer.from('x') }]),
      ];
      const layout = join(tmp, 'layout');
      const [written] = writeLayout(layout, [{ tag: 'one:pass', layers }]);
      let source = layout;
      if (form === 'oci-archive') {
        source = join(tmp, 'image.tar');
        // An extra tar blob no manifest uses: indexed while staged, then dropped with its blob.
        const stray = await tarBytes([
          { header: { path: 'stray', type: 'file', ...base }, data: Buffer.from('stray') },
        ]);
        fs.writeFileSync(join(layout, 'blobs', 'sha256', blobOf(stray).digest.slice(7)), stray);
        const names = [
          'oci-layout',
          'index.json',
          ...fs.readdirSync(join(layout, 'blobs', 'sha256')).map((n) => `blobs/sha256/${n}`),
        ].sort();
        fs.writeFileSync(
          source,
          await packArchive(names.map((name) => ({ name, bytes: fs.readFileSync(join(layout, name)) }))),
        );
      }
      const open = vi.spyOn(store.blobs, 'open');
      const { images } = await importImage({ store, source });
      const image = images[0]!.image;
      // Nothing was read back: every layer was indexed while it was stored.
      expect(open.mock.calls.map((c) => c[0]).filter((d) => image.layers.some((l) => l.digest === d))).toEqual([]);
      expect(store.listState('layers')).toEqual(written!.diffIds.map((d) => d.slice(7)).sort());
      expect(store.blobs.list()).toHaveLength(2 + layers.length);
      expect(store.listState('tmp')).toEqual([]);
      for (const [i, layer] of image.layers.entries()) {
        const state = JSON.parse(
          store.readState(`layers/${image.diffIds[i]!.slice(7)}/index.json`)!.toString('utf8'),
        ) as unknown;
        open.mockRestore();
        expect(await rebuilt(store, layer, image.diffIds[i]!)).toEqual(state);
      }
    },
  );

  it('a layout blob several read buffers long imports byte-exact (blob digest, diffID and file bytes)', async ({
    tmp,
    diskStore: store,
  }) => {
    const big = Buffer.alloc(2_500_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7919) % 251;
    const layer = await tarBytes([{ header: { path: 'big', type: 'file', ...base }, data: big }]);
    const layout = join(tmp, 'big-layout');
    writeLayout(layout, [{ tag: 'big:1', layers: [layer] }]);
    const { images } = await importImage({ store, source: layout });
    const image = images[0]!.image;
    expect(image.diffIds[0]).toBe(blobOf(layer).digest);
    const state = JSON.parse(store.readState(`layers/${image.diffIds[0]!.slice(7)}/index.json`)!.toString('utf8')) as {
      hashes: string[];
    };
    expect(state.hashes).toContain(blobOf(big).digest.slice(7));
  });

  it('a failed import removes the layer states it made while staging', async ({ tmp, diskStore: store }) => {
    const layer = await tarBytes(entries());
    const layout = join(tmp, 'bad');
    const [written] = writeLayout(layout, [{ tag: 'bad:1', layers: [layer] }]);
    // A config naming another diffID: the layer is staged (and indexed) before the mismatch shows.
    const config = JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: {},
      rootfs: { type: 'layers', diff_ids: [`sha256:${'0'.repeat(64)}`] },
    });
    const cfg = blobOf(config);
    fs.writeFileSync(join(layout, 'blobs', 'sha256', cfg.digest.slice(7)), cfg.bytes);
    const manifest = JSON.parse(written!.manifest.bytes.toString('utf8')) as {
      config: { digest: string; size: number };
    };
    manifest.config.digest = cfg.digest;
    manifest.config.size = cfg.size;
    const m = blobOf(JSON.stringify(manifest));
    fs.writeFileSync(join(layout, 'blobs', 'sha256', m.digest.slice(7)), m.bytes);
    fs.writeFileSync(
      join(layout, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: m.digest, size: m.size }],
      }),
    );
    await expect(importImage({ store, source: layout })).rejects.toMatchObject({ code: 'ERR_INVALID_MANIFEST' });
    expect(store.listState('layers')).toEqual([]);
    expect(store.blobs.list()).toEqual([]);
  });
});
