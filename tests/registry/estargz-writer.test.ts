/**
 * The eStargz writer against the format's rules and against plain gzip readers: for random trees
 * (empty files, files spanning several chunks, symlinks, hardlinks, whiteouts, opaque dirs), Node's
 * zlib gunzips the blob to a tar whose entries are the layer's plus the landmark and the TOC; every
 * TOC offset starts a gzip member that holds exactly that chunk, with its digest; the footer points
 * at the TOC, whose digest is the annotation; the diffID is the digest of the gunzipped stream.
 */
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect } from 'vitest';
import { it } from '../helpers/fixtures.js';
import { layerTreeArb } from '../helpers/layer-tree.js';
import { FOOTER_SIZE, parseFooter, parseToc, type EstargzToc } from '../../src/tar/estargz.js';
import { writeLayer, type LayerEntryInput } from '../../src/tar/layer-writer.js';
import { readTarEntries } from '../../src/tar/read-tar-entries.js';
import { addLayer } from '../../src/image/add-layer.js';
import { bufferRangeSource, openEstargzLayer } from '../../src/layer/estargz-layer.js';

const CHUNK = 1024;

async function write(entries: LayerEntryInput[], compression: 'estargz' | 'none') {
  const { stream, result } = writeLayer({ entries, compression, chunkSize: CHUNK, sourceDateEpoch: 0 });
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return { blob: Buffer.concat(parts), result: await result };
}

async function entriesOf(tar: Buffer) {
  const out = [];
  for await (const e of readTarEntries([tar])) out.push({ header: e.header, data: e.data.toString('base64') });
  return out;
}

const sha = (b: Uint8Array): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

const layerArb = layerTreeArb({ chunk: CHUNK });

describe('eStargz writer', () => {
  it('gunzips to the layer plus landmark and TOC, with members, chunks and footer as the spec says', async () => {
    await fc.assert(
      fc.asyncProperty(layerArb, async (entries) => {
        const plain = await write(entries, 'none');
        const esgz = await write(entries, 'estargz');
        // Valid gzip for any reader: zlib reads every member as one stream, a tar.
        const tar = Buffer.from(gunzipSync(esgz.blob));
        expect(sha(tar)).toBe(esgz.result.diffId);
        expect(tar.length).toBe(esgz.result.uncompressedSize);
        const got = await entriesOf(tar);
        const want = await entriesOf(plain.blob);
        expect(got[0]!.header.path).toBe('.no.prefetch.landmark');
        expect(Buffer.from(got[0]!.data, 'base64')).toEqual(Buffer.from([0x0f]));
        expect(got.at(-1)!.header.path).toBe('stargz.index.json');
        expect(got.slice(1, -1)).toEqual(want);

        // The footer points at the TOC member, whose JSON is the tar's last entry and the annotation's digest.
        const tocOffset = parseFooter(esgz.blob.subarray(esgz.blob.length - FOOTER_SIZE));
        const tocTar = Buffer.from(gunzipSync(esgz.blob.subarray(tocOffset, esgz.blob.length - FOOTER_SIZE)));
        const tocJson = Buffer.from(got.at(-1)!.data, 'base64');
        expect(tocTar.subarray(512, 512 + tocJson.length)).toEqual(tocJson);
        expect(esgz.result.annotations).toEqual({
          'containerd.io/snapshot/stargz/toc.digest': sha(tocJson),
          'io.containers.estargz.uncompressed-size': String(tar.length),
        });
        const toc: EstargzToc = parseToc(tocJson, { tocOffset });

        // Every payload chunk is a member of its own at `offset`, ending where the next one starts.
        const offsets = [...new Set(toc.entries.flatMap((e) => (e.offset ? [e.offset] : [])))].sort((a, b) => a - b);
        const files = new Map(want.map((e) => [e.header.path, Buffer.from(e.data, 'base64')]));
        files.set('.no.prefetch.landmark', Buffer.from([0x0f]));
        for (const e of toc.entries) {
          const data = files.get(e.name.replace(/\/$/, ''));
          if (e.type === 'reg') expect(e.digest).toBe(sha(data!));
          if (e.type !== 'reg' && e.type !== 'chunk') continue;
          if (e.size === 0) {
            expect(e.offset).toBeUndefined();
            continue;
          }
          const next = offsets.find((o) => o > e.offset!) ?? tocOffset;
          const member = Buffer.from(gunzipSync(esgz.blob.subarray(e.offset!, next)));
          const start = e.chunkOffset ?? 0;
          const size = e.chunkSize || data!.length - start;
          expect(size).toBeLessThanOrEqual(CHUNK);
          expect(member.subarray(0, size)).toEqual(data!.subarray(start, start + size));
          expect(e.chunkDigest).toBe(sha(member.subarray(0, size)));
        }
        // Every chunk of every file is listed, in order, covering the file.
        for (const [path, data] of files) {
          if (data.length === 0) continue;
          const chunks = toc.entries.filter((e) => e.name === path && (e.type === 'reg' || e.type === 'chunk'));
          expect(chunks.map((c) => c.chunkOffset ?? 0)).toEqual(
            Array.from({ length: Math.ceil(data.length / CHUNK) }, (_, i) => i * CHUNK),
          );
        }
        // Reproducible.
        expect((await write(entries, 'estargz')).blob).toEqual(esgz.blob);
      }),
      { numRuns: 40 },
    );
  });

  it('puts prioritized files (and their parents) first, then .prefetch.landmark, then the rest', async () => {
    await fc.assert(
      fc.asyncProperty(layerArb, fc.integer({ min: 0, max: 1000 }), async (entries, seed) => {
        const files = entries.filter((e) => e.header.type === 'file' && !e.header.path.includes('.wh.'));
        const chosen = files.filter((_, i) => (i * 7 + seed) % 3 === 0).map((e) => e.header.path);
        const { stream, result } = writeLayer({ entries, compression: 'estargz', chunkSize: CHUNK, prefetch: chosen });
        const parts: Buffer[] = [];
        for await (const c of stream) parts.push(c as Buffer);
        const blob = Buffer.concat(parts);
        const tar = Buffer.from(gunzipSync(blob));
        expect(sha(tar)).toBe((await result).diffId);
        const got = (await entriesOf(tar)).map((e) => e.header.path);
        const wanted = new Set<string>();
        for (const p of chosen) {
          const segs = p.split('/');
          for (let i = 1; i <= segs.length; i++) wanted.add(segs.slice(0, i).join('/'));
        }
        const all = entries.map((e) => e.header.path);
        const first = all.filter((p) => wanted.has(p));
        const rest = all.filter((p) => !wanted.has(p));
        const landmark = chosen.length > 0 ? '.prefetch.landmark' : '.no.prefetch.landmark';
        expect(got).toEqual(
          chosen.length > 0
            ? [...first, landmark, ...rest, 'stargz.index.json']
            : [landmark, ...all, 'stargz.index.json'],
        );
        // The reader finds every file wherever it now is.
        const r = await result;
        const layer = await openEstargzLayer({
          source: bufferRangeSource(blob),
          blob: r.digest,
          diffId: r.diffId,
          tocDigest: r.annotations!['containerd.io/snapshot/stargz/toc.digest'],
        });
        for (const f of files) expect(await layer.readFile(f.header.path)).toEqual(f.data);
        // Every payload still starts a member at its TOC offset, with its digest.
        const tocOffset = parseFooter(blob.subarray(blob.length - FOOTER_SIZE));
        const tocTar = Buffer.from(gunzipSync(blob.subarray(tocOffset, blob.length - FOOTER_SIZE)));
        const toc = parseToc(tocTar.subarray(512, 512 + Number.parseInt(tocTar.toString('latin1', 124, 135), 8)), {
          tocOffset,
        });
        expect(
          toc.entries
            .filter((e) => e.type !== 'chunk')
            .map((e) => e.name.replace(/\/$/, ''))
            .filter((n) => n !== '.'),
        ).toEqual(got.slice(0, -1).filter((n) => n !== ''));
        for (const e of toc.entries) {
          if (!e.offset) continue;
          const member = Buffer.from(
            gunzipSync(
              blob.subarray(
                e.offset,
                toc.entries
                  .map((x) => x.offset ?? 0)
                  .filter((o) => o > e.offset!)
                  .sort((a, b) => a - b)[0] ?? tocOffset,
              ),
            ),
          );
          const total = toc.entries.find((x) => x.name === e.name && x.type === 'reg')!.size!;
          const size = e.chunkSize || total - (e.chunkOffset ?? 0);
          expect(sha(member.subarray(0, size))).toBe(e.chunkDigest);
        }
      }),
      { numRuns: 30 },
    );
  });

  it('addLayer stores an eStargz layer as tar+gzip with the annotations, indexed to the eStargz tar', async ({
    store,
  }) => {
    const data = Buffer.from('hello\n');
    const layer = await addLayer({
      store,
      compression: 'estargz',
      entries: [{ header: { path: 'hello', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0, size: 6 }, data }],
    });
    expect(layer.descriptor.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip');
    expect(Object.keys(layer.descriptor.annotations ?? {}).sort()).toEqual([
      'containerd.io/snapshot/stargz/toc.digest',
      'io.containers.estargz.uncompressed-size',
    ]);
    expect(layer.index.readSync('hello')).toEqual(data);
    expect(layer.index.get('stargz.index.json')?.type).toBe('file');
    expect(layer.index.data.tarSize).toBe(
      Number(layer.descriptor.annotations!['io.containers.estargz.uncompressed-size']),
    );
  });
});
