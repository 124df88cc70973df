/**
 * Flipping any byte of any blob of an imported image (manifest, config, gzip layer, uncompressed
 * layer) or of a kept uncompressed layer copy (`layerkit/layers/<hex>/data.tar`) is caught:
 * `verifyStore` reports it, and every read that touches the flipped bytes fails with EINTEGRITY
 * naming the digest (loading, flattening from the blob, reading or unpacking a file, exporting).
 * fast-check picks the blob, the byte and the bit pattern; each run flips the byte back.
 */
import { describe, expect } from 'vitest';
import { it, test } from '../helpers/fixtures.js';
import { fc } from '@fast-check/vitest';
import * as fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import {
  exportImage,
  flattenImage,
  importImage,
  isLayerkitError,
  listFlat,
  loadImage,
  openStore,
  readFlatFile,
  unpackRootfs,
  verifyStore,
  type Digest,
  type Image,
  type Store,
} from '../../src/index.js';
import { forgetLoadedLayers, type LayerIndex } from '../../src/low-level.js';
import { tarBytes, writeLayout } from './layouts.js';

const HELLO = fileURLToPath(new URL('../../fixtures/images/hello.oci.tar', import.meta.url));
const RUNS = Number(process.env['LAYERKIT_FUZZ_RUNS'] ?? 40);

type Kind = 'manifest' | 'config' | 'gzip layer' | 'tar layer' | 'kept copy';
interface Target {
  kind: Kind;
  image: string;
  /** The digest an error must name (the blob's, or the diffID of a kept copy). */
  digest: Digest;
  file: string;
}

const sink = () => new Writable({ write: (_c, _e, done) => done() });

async function failure(p: Promise<unknown> | (() => unknown)): Promise<{ code: string; message: string } | undefined> {
  try {
    if (typeof p === 'function') p();
    else await p;
    return undefined;
  } catch (err) {
    if (!isLayerkitError(err)) throw err;
    return { code: err.code, message: err.message };
  }
}

describe('a flipped byte in any blob or kept layer copy', () => {
  let tmp: string;
  let store: Store;
  const images = new Map<string, Image>();
  const targets: Target[] = [];

  test.beforeAll(async ({ fileTmp }) => {
    tmp = fileTmp;
    store = await openStore({ root: join(tmp, 'store'), durable: false });
    const file = (path: string, text: string) => ({
      header: { path, type: 'file' as const, mode: 0o644, uid: 0, gid: 0, mtime: 0, size: text.length },
      data: Buffer.from(text),
    });
    const dir = (path: string) => ({
      header: { path, type: 'directory' as const, mode: 0o755, uid: 0, gid: 0, mtime: 0 },
    });
    writeLayout(join(tmp, 'plain'), [
      {
        tag: 'plain:1',
        layers: [
          await tarBytes([dir('data'), file('data/one', 'one '.repeat(300)), file('data/two', 'two '.repeat(200))]),
        ],
      },
    ]);
    await importImage({ store, source: HELLO });
    await importImage({ store, source: join(tmp, 'plain') });
    for (const name of ['hello:latest', 'plain:1']) {
      const image = await loadImage({ store, image: name });
      images.set(name, image);
      targets.push({
        kind: 'manifest',
        image: name,
        digest: image.descriptor.digest,
        file: store.blobs.path(image.descriptor.digest),
      });
      targets.push({
        kind: 'config',
        image: name,
        digest: image.manifest.config.digest,
        file: store.blobs.path(image.manifest.config.digest),
      });
      image.layers.forEach((l, i) => {
        const gzip = l.mediaType.endsWith('gzip');
        targets.push({
          kind: gzip ? 'gzip layer' : 'tar layer',
          image: name,
          digest: l.digest,
          file: store.blobs.path(l.digest),
        });
        const copy = store.statePath('layers', image.diffIds[i]!.slice(7), 'data.tar');
        if (gzip) targets.push({ kind: 'kept copy', image: name, digest: image.diffIds[i]!, file: copy });
        else expect(fs.existsSync(copy)).toBe(false); // an uncompressed blob is read in place
      });
    }
    expect(new Set(targets.map((t) => t.kind)).size).toBe(5);
  });

  /** Which stored layer (and which file of it) holds byte `pos` of the kept copy or uncompressed blob. */
  function fileAt(image: Image, digest: Digest, pos: number, layers: LayerIndex[]): string | undefined {
    const i =
      image.diffIds.indexOf(digest) >= 0
        ? image.diffIds.indexOf(digest)
        : image.layers.findIndex((l) => l.digest === digest);
    const data = layers[i]!.data;
    for (let e = 0; e < data.paths.length; e++) {
      if (data.types[e] === 'f' && pos >= data.offsets[e]! && pos < data.offsets[e]! + data.sizes[e]!)
        return `/${data.paths[e]}`;
    }
    return undefined;
  }

  async function checkCaught(t: Target, pos: number): Promise<void> {
    const image = images.get(t.image)!;
    const report = await verifyStore({ store });
    expect(report.problems.map((p) => [p.code, p.digest])).toContainEqual(['EINTEGRITY', t.digest]);
    const named = (f: { code: string; message: string } | undefined) => {
      expect(f?.code).toBe('EINTEGRITY');
      expect(f?.message).toContain(t.digest);
    };
    if (t.kind === 'manifest' || t.kind === 'config') {
      named(await failure(loadImage({ store, image: t.image })));
      named(await failure(exportImage({ store, image, format: 'oci-archive', output: sink() })));
      return;
    }
    if (t.kind === 'gzip layer' || t.kind === 'tar layer') {
      named(await failure(exportImage({ store, image, format: 'oci-archive', output: sink() })));
      named(
        await failure(
          exportImage({
            store,
            image,
            format: 'oci',
            output: join(tmp, `layout-${Math.random().toString(36).slice(2)}`),
          }),
        ),
      );
    }
    if (t.kind === 'kept copy')
      named(await failure(exportImage({ store, image, format: 'docker-archive', output: sink() })));
    if (t.kind === 'tar layer' || t.kind === 'kept copy') {
      // File reads are positioned: only a read of the flipped file fails, and it names the layer.
      const flat = await flattenImage({ store, image });
      const hit = fileAt(image, t.digest, pos, flat.layers as LayerIndex[]);
      for (const e of listFlat(flat, { recursive: true })) {
        if (e.type !== 'file') continue;
        const f = await failure(() => readFlatFile(flat, e.path));
        if (e.path === hit) named(f);
        else expect(f, e.path).toBeUndefined();
      }
      const unpacked = await failure(() =>
        unpackRootfs({ flat, dir: join(tmp, `rootfs-${Math.random().toString(36).slice(2)}`) }),
      );
      if (hit) named(unpacked);
      else expect(unpacked).toBeUndefined();
    }
    if (t.kind === 'gzip layer' || t.kind === 'tar layer') {
      // With its layer state gone, flattening reads the blob again and must refuse it.
      const i = image.layers.findIndex((l) => l.digest === t.digest);
      const state = store.statePath('layers', image.diffIds[i]!.slice(7));
      fs.renameSync(state, `${state}.aside`);
      forgetLoadedLayers(store);
      try {
        named(await failure(flattenImage({ store, image })));
        expect(fs.existsSync(state)).toBe(false);
        expect(store.listState('tmp')).toEqual([]);
      } finally {
        fs.renameSync(`${state}.aside`, state);
        forgetLoadedLayers(store);
      }
    }
  }

  it('is reported by verifyStore and fails every read of it with EINTEGRITY naming the digest', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(1000),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.integer({ min: 1, max: 255 }),
        async (which, where, mask) => {
          const t = targets[which % targets.length]!;
          const size = fs.statSync(t.file).size;
          const pos = Math.floor(where * size);
          const mode = fs.statSync(t.file).mode;
          fs.chmodSync(t.file, 0o644);
          const fd = fs.openSync(t.file, 'r+');
          const flip = () => {
            const b = Buffer.alloc(1);
            fs.readSync(fd, b, 0, 1, pos);
            b[0] = b[0]! ^ mask;
            fs.writeSync(fd, b, 0, 1, pos);
          };
          flip();
          try {
            await checkCaught(t, pos);
          } finally {
            flip();
            fs.closeSync(fd);
            fs.chmodSync(t.file, mode & 0o7777);
          }
          expect((await verifyStore({ store })).problems).toEqual([]);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('a big gzip layer damaged at its start (gzip fails long before the digest is checked) is EINTEGRITY, not a gzip error', async ({
    tmp: own,
    diskStore: s,
  }) => {
    // 6 MiB of hex text (about 3 MiB gzipped): the blob is read in several chunks, so gunzip sees the damage first.
    const big = Buffer.from(randomBytes(3 << 20).toString('hex'));
    const layer = await tarBytes([
      { header: { path: 'big', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0, size: big.length }, data: big },
    ]);
    const source = join(own, 'big');
    const [written] = writeLayout(source, [{ tag: 'big:1', layers: [layer], gzip: true }]);
    const { images } = await importImage({ store: s, source });
    const image = images[0]!.image;
    const digest = written!.layers[0]!.digest;
    const file = s.blobs.path(digest as Digest);
    fs.chmodSync(file, 0o644);
    // Byte 10 starts the first deflate block: setting both BTYPE bits (reserved type 3) is an
    // error the decoder reports at once, megabytes before the digest can be checked.
    const bytes = fs.readFileSync(file);
    bytes[10] = bytes[10]! | 0x06;
    fs.writeFileSync(file, bytes);
    s.removeState(`layers/${image.diffIds[0]!.slice(7)}`);
    forgetLoadedLayers(s);
    const f = await failure(flattenImage({ store: s, image }));
    expect(f?.code).toBe('EINTEGRITY');
    expect(f?.message).toContain(digest);
    expect(s.listState('layers')).toEqual([]);
    expect(s.listState('tmp')).toEqual([]);
  });

  it('covers every kind of blob: one run each at the first, middle and last byte', async () => {
    for (const t of targets) {
      const size = fs.statSync(t.file).size;
      for (const pos of [0, Math.floor(size / 2), size - 1]) {
        const mode = fs.statSync(t.file).mode;
        fs.chmodSync(t.file, 0o644);
        const original = fs.readFileSync(t.file);
        const flipped = Buffer.from(original);
        flipped[pos] = flipped[pos]! ^ 0x01;
        fs.writeFileSync(t.file, flipped);
        try {
          await checkCaught(t, pos);
        } finally {
          fs.writeFileSync(t.file, original);
          fs.chmodSync(t.file, mode & 0o7777);
        }
      }
    }
    expect((await verifyStore({ store })).problems).toEqual([]);
  });
});
