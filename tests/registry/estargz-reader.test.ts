/**
 * Reading eStargz by ranges: for random trees, the layer read from footer + TOC + chunks has the
 * same entries, whiteouts, opaque dirs, listings and file bytes as the store's index of the same
 * files as a plain tar; reads touch only the chunks they need; a TOC that does not match its
 * annotation, a tampered chunk, and hostile TOC entries are coded errors naming the blob.
 */
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect } from 'vitest';
import { it } from '../helpers/fixtures.js';
import { layerTreeArb } from '../helpers/layer-tree.js';
import { countingSource, layerShape } from '../helpers/range-layers.js';
import { addLayer } from '../../src/image/add-layer.js';
import { bufferRangeSource, openEstargzLayer } from '../../src/layer/estargz-layer.js';
import { sha256, type Digest } from '../../src/digest/digest.js';
import { encodeFooter, type EstargzTocEntry } from '../../src/tar/estargz.js';
import { encodeHeader } from '../../src/tar/header-encode.js';
import { writeLayer, type LayerEntryInput } from '../../src/tar/layer-writer.js';
import { openStore } from '../../src/store/store.js';

const CHUNK = 512;

async function estargz(entries: LayerEntryInput[]) {
  const { stream, result } = writeLayer({ entries, compression: 'estargz', chunkSize: CHUNK });
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  const blob = Buffer.concat(parts);
  const r = await result;
  return { blob, digest: r.digest, diffId: r.diffId, toc: r.annotations!['containerd.io/snapshot/stargz/toc.digest']! };
}

const meta = { uid: 0, gid: 0, mtime: 0 };
const treeArb = layerTreeArb({ chunk: CHUNK });

/** An eStargz-shaped blob around a hand-made TOC (for hostile TOCs). */
function blobWithToc(entries: EstargzTocEntry[], payload = Buffer.alloc(0)): Buffer {
  const json = Buffer.from(JSON.stringify({ version: 1, entries }));
  const head = gzipSync(
    payload.length
      ? Buffer.concat([payload, Buffer.alloc(512 - (payload.length % 512))])
      : encodeHeader({ name: 'x', type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: 0, size: 0 }),
  );
  const tar = Buffer.concat([
    encodeHeader({ name: 'stargz.index.json', type: 'file', mode: 0o444, uid: 0, gid: 0, mtime: 0, size: json.length }),
    json,
    Buffer.alloc(512 - (json.length % 512) + 1024),
  ]);
  return Buffer.concat([head, gzipSync(tar), encodeFooter(head.length)]);
}

describe('eStargz reader', () => {
  it('reads every entry and byte a plain index of the same files has', async () => {
    const store = await openStore({ memory: true });
    await fc.assert(
      fc.asyncProperty(treeArb, async (entries) => {
        const plain = await addLayer({ store, entries, compression: 'none' });
        const e = await estargz(entries);
        const source = countingSource(bufferRangeSource(e.blob));
        const layer = await openEstargzLayer({ source, blob: e.digest, diffId: e.diffId, tocDigest: e.toc });
        expect(source.reads).toBe(2); // footer, TOC
        expect(layerShape(layer)).toEqual(layerShape(plain.index));
        for (const entry of plain.index.entries()) {
          if (entry.type !== 'file') continue;
          const want = plain.index.readSync(entry.path);
          expect(await layer.readFile(entry.path)).toEqual(want);
          // A part of a large file fetches only its chunks, and reads exactly those bytes.
          if (entry.size > 2 * CHUNK) {
            const again = await openEstargzLayer({ source, blob: e.digest, diffId: e.diffId });
            const before = source.served;
            const got = await again.readFile(entry.path, { position: CHUNK + 3, length: 10 });
            expect(got).toEqual(want.subarray(CHUNK + 3, CHUNK + 13));
            expect(again.bytesFetched).toBeLessThan(CHUNK); // one member of mostly-compressible bytes
            expect(source.served - before).toBeLessThan(e.blob.length);
          }
        }
        for (const entry of plain.index.entries()) {
          if (entry.type === 'hardlink') expect(layer.readSync(entry.path)).toEqual(plain.index.readSync(entry.path));
        }
      }),
      { numRuns: 30 },
    );
  });

  it('a TOC that does not match its annotation, and a tampered chunk, are EINTEGRITY naming the blob', async () => {
    const data = Buffer.alloc(3000, 'x');
    const e = await estargz([{ header: { path: 'f', type: 'file', mode: 0o644, ...meta, size: data.length }, data }]);
    const wrong = sha256('another toc');
    await expect(
      openEstargzLayer({ source: bufferRangeSource(e.blob), blob: e.digest, diffId: e.diffId, tocDigest: wrong }),
    ).rejects.toMatchObject({ code: 'EINTEGRITY', data: { digest: e.digest, expected: wrong } });

    // Flip one byte inside the second chunk's deflate data (after its 10-byte gzip header).
    const toc = await tocOf(e.blob);
    const second = toc.find((x) => x.type === 'chunk')!;
    const tampered = Buffer.from(e.blob);
    tampered[second.offset! + 12]! ^= 0x55;
    const bad = await openEstargzLayer({
      source: bufferRangeSource(tampered),
      blob: e.digest,
      diffId: e.diffId,
      tocDigest: e.toc,
    });
    await expect(bad.readFile('f', { position: 0, length: 10 })).resolves.toEqual(data.subarray(0, 10));
    await expect(bad.readFile('f')).rejects.toMatchObject({
      code: 'EINTEGRITY',
      data: { digest: e.digest, path: 'f', offset: second.offset },
    });
    expect(() => bad.readSync('f')).toThrow(/not fetched yet/);
  });

  it.each([
    ['a name with ..', [{ name: '../etc/passwd', type: 'reg', size: 0 }], 'ERR_UNSAFE_PATH'],
    ['an absolute name', [{ name: '/etc/passwd', type: 'reg', size: 0 }], 'ERR_UNSAFE_PATH'],
    ['a hardlink out of the root', [{ name: 'l', type: 'hardlink', linkName: 'a/../../x' }], 'ERR_UNSAFE_PATH'],
    [
      'an offset past the TOC',
      [{ name: 'f', type: 'reg', size: 5, offset: 1 << 30, chunkDigest: sha256('') }],
      'ERR_LAYER_FORMAT',
    ],
    ['a negative size', [{ name: 'f', type: 'reg', size: -1 }], 'ERR_LAYER_FORMAT'],
    ['an unknown type', [{ name: 'f', type: 'socket' }], 'ERR_LAYER_FORMAT'],
    ['a bad digest', [{ name: 'f', type: 'reg', size: 1, offset: 0, chunkDigest: 'md5:00' }], 'ERR_LAYER_FORMAT'],
    [
      'chunks with a gap',
      [
        { name: 'f', type: 'reg', size: 10, offset: 0, chunkSize: 4, chunkDigest: sha256('a') },
        { name: 'f', type: 'chunk', offset: 0, chunkOffset: 6, chunkDigest: sha256('b') },
      ],
      'ERR_LAYER_FORMAT',
    ],
  ] as Array<[string, EstargzTocEntry[], string]>)('refuses a TOC with %s', async (_what, entries, code) => {
    const blob = blobWithToc(entries);
    const digest = sha256(blob) as Digest;
    await expect(
      openEstargzLayer({ source: bufferRangeSource(blob), blob: digest, diffId: digest }),
    ).rejects.toMatchObject({ code, data: { digest } });
  });

  it('refuses a blob without a footer, or whose footer points past it', async () => {
    const blob = gzipSync(Buffer.alloc(1024));
    const digest = sha256(blob) as Digest;
    await expect(
      openEstargzLayer({ source: bufferRangeSource(blob), blob: digest, diffId: digest }),
    ).rejects.toMatchObject({ code: 'ERR_LAYER_FORMAT', data: { digest } });
    const past = Buffer.concat([gzipSync(Buffer.alloc(1024)), encodeFooter(1 << 20)]);
    await expect(openEstargzLayer({ source: bufferRangeSource(past), blob: digest, diffId: digest })).rejects.toThrow(
      /past the blob/,
    );
  });
});

async function tocOf(blob: Buffer): Promise<EstargzTocEntry[]> {
  const { gunzipSync } = await import('node:zlib');
  const { readTarEntries } = await import('../../src/tar/read-tar-entries.js');
  for await (const e of readTarEntries([gunzipSync(blob)])) {
    if (e.header.path === 'stargz.index.json') return JSON.parse(e.data.toString()).entries;
  }
  throw new Error('no TOC');
}
