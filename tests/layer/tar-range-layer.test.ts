/**
 * Reading an uncompressed layer tar by ranges (src/layer/tar-range-layer.ts): for random trees,
 * the layer read from its headers has the same entries, whiteouts, opaque dirs, listings and file
 * bytes as the store's index of the same tar; listing a layer of big files reads a small part of
 * it, and reading part of a file reads only that part; a truncated tar, an entry running past the
 * blob, a bad checksum and a hostile name are coded errors naming the blob, and nothing is read
 * that a later read did not ask for.
 */
import fc from 'fast-check';
import { describe, expect } from 'vitest';
import { sha256, type Digest } from '../../src/digest/digest.js';
import { addLayer } from '../../src/image/add-layer.js';
import { bufferRangeSource } from '../../src/layer/range-layer.js';
import { openTarRangeLayer } from '../../src/layer/tar-range-layer.js';
import { openStore } from '../../src/store/store.js';
import { encodeHeader } from '../../src/tar/header-encode.js';
import { it } from '../helpers/fixtures.js';
import { layerTreeArb } from '../helpers/layer-tree.js';
import { countingSource, layerShape } from '../helpers/range-layers.js';

const meta = { uid: 0, gid: 0, mtime: 0 };

describe('uncompressed layer read by ranges', () => {
  it('reads every entry and byte the store index of the same tar has', async ({ tmp }) => {
    const store = await openStore({ root: `${tmp}/store` });
    // "Big" files from 40 KiB to 160 KiB: past the files kept with the headers (64 KiB).
    await fc.assert(
      fc.asyncProperty(layerTreeArb({ chunk: 40 << 10 }), async (entries) => {
        const plain = await addLayer({ store, entries, compression: 'none' });
        const blob = await store.blobs.read(plain.descriptor.digest);
        const source = countingSource(bufferRangeSource(blob));
        const layer = await openTarRangeLayer({ source, blob: plain.descriptor.digest, diffId: plain.diffId });
        expect(layerShape(layer)).toEqual(layerShape(plain.index));
        expect(layer.bytesScanned).toBe(source.served);
        expect(layer.verified).toBe(false);
        for (const entry of plain.index.entries()) {
          if (entry.type !== 'file' && entry.type !== 'hardlink') continue;
          const want = plain.index.readSync(entry.path);
          expect(await layer.readFile(entry.path)).toEqual(want);
          expect(layer.readSync(entry.path)).toEqual(want);
          if (entry.size > 100) {
            // A part of a file reads that part (from a layer opened afresh).
            const again = await openTarRangeLayer({ source, blob: plain.descriptor.digest, diffId: plain.diffId });
            const before = source.served;
            const got = await again.readFile(entry.path, { position: 37, length: 50 });
            expect(got).toEqual(want.subarray(37, 87));
            expect(source.served - before).toBeLessThanOrEqual(1 << 20);
            expect(again.bytesFetched).toBe(source.served - before);
          }
        }
      }),
      { numRuns: 20 },
    );
  });

  it('lists a layer of big files by reading a small part of it, and reads one file without the others', async ({
    tmp,
  }) => {
    const store = await openStore({ root: `${tmp}/store` });
    // Past the 1 MiB a chunk holds, so a file is read in several ranges.
    const big = (i: number) => Buffer.alloc((1 << 20) + 5000 + i * 1000, i + 1);
    const entries = Array.from({ length: 8 }, (_, i) => ({
      header: { path: `f${i}`, type: 'file' as const, mode: 0o644, ...meta, size: big(i).length },
      data: big(i),
    }));
    // Small files after the last big one: they come with the headers.
    const small = (i: number) => Buffer.from(`small file ${i}\n`.repeat(i + 1));
    for (let i = 0; i < 3; i++)
      entries.push({
        header: { path: `s${i}`, type: 'file' as const, mode: 0o644, ...meta, size: small(i).length },
        data: small(i),
      });
    const plain = await addLayer({ store, entries, compression: 'none' });
    const blob = await store.blobs.read(plain.descriptor.digest);
    const source = countingSource(bufferRangeSource(blob));
    const layer = await openTarRangeLayer({ source, blob: plain.descriptor.digest, diffId: plain.diffId });
    expect([...layer.entries()].map((e) => e.path)).toEqual(entries.map((e) => e.header.path));
    // One small window per big file (the small files and the end marker come with the last), not
    // the files' 8 MiB.
    expect(source.reads).toBeLessThanOrEqual(9);
    expect(source.served).toBeLessThanOrEqual(9 * (4 << 10));
    const scanned = source.served;
    for (let i = 0; i < 3; i++) expect(await layer.readFile(`s${i}`)).toEqual(small(i));
    expect(source.served).toBe(scanned);
    const before = source.served;
    expect(await layer.readFile('f5')).toEqual(big(5));
    expect(source.served - before).toBe(big(5).length);
    expect(layer.isFetched('f5')).toBe(true);
    expect(layer.isFetched('f6')).toBe(false);
    expect(() => layer.readSync('f6')).toThrow(/not fetched yet/);
  });

  const file = (name: string, size: number) =>
    encodeHeader({ name, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0, size });
  const end = Buffer.alloc(1024);
  it.each([
    ['a truncated tar', Buffer.concat([file('f', 10_000), Buffer.alloc(512)]), 'ERR_LAYER_FORMAT', /ends inside|past/],
    ['an entry running past the blob', Buffer.concat([file('f', 1 << 20), end]), 'ERR_LAYER_FORMAT', /past the blob/],
    [
      'a bad header checksum',
      (() => {
        const h = file('f', 0);
        h[0] = 0x67;
        return Buffer.concat([h, end]);
      })(),
      'ERR_LAYER_FORMAT',
      /checksum/,
    ],
    ['a name with ..', Buffer.concat([file('../etc/passwd', 0), end]), 'ERR_UNSAFE_PATH', /etc\/passwd/],
    ['no tar at all', Buffer.alloc(2048, 0x41), 'ERR_LAYER_FORMAT', /layer blob/],
  ] as Array<[string, Buffer, string, RegExp]>)('refuses %s, naming the blob', async (_what, blob, code, message) => {
    const digest = sha256(blob) as Digest;
    const err = await openTarRangeLayer({ source: bufferRangeSource(blob), blob: digest, diffId: digest }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code, data: { digest } });
    expect((err as Error).message).toContain(`layer blob ${digest}`);
    expect((err as Error).message).toMatch(message);
  });

  it('an aborted signal stops the scan', async () => {
    const blob = Buffer.concat([file('a', 0), file('b', 0), end]);
    const digest = sha256(blob) as Digest;
    const controller = new AbortController();
    controller.abort();
    await expect(
      openTarRangeLayer({ source: bufferRangeSource(blob), blob: digest, diffId: digest, signal: controller.signal }),
    ).rejects.toMatchObject({ code: 'ERR_ABORTED' });
  });
});
