import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TarWriter } from '../../src/tar/writer.js';
import { readTarEntries } from '../../src/tar/read-tar-entries.js';
import { writeLayer, type LayerEntryInput } from '../../src/tar/layer-writer.js';
import { compareTarPaths } from '../../src/tar/path.js';
import { sha256 } from '../../src/digest/digest.js';
import type { TarEntryInput } from '../../src/tar/types.js';

const EMPTY_TAR_DIFF_ID = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef';

async function collect(source: AsyncIterable<unknown>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of source) out.push(c as Buffer);
  return Buffer.concat(out);
}

async function tarOf(entries: Array<[TarEntryInput, (Buffer | undefined)?]>, options = {}): Promise<Buffer> {
  const writer = new TarWriter(options);
  const bytes = collect(writer);
  for (const [h, d] of entries) await writer.add(h, d);
  await writer.finish();
  return bytes;
}

async function headersOf(tar: Buffer): Promise<Array<Record<string, unknown>>> {
  const out = [];
  for await (const e of readTarEntries([tar])) out.push({ ...e.header, data: e.data.toString() });
  return out;
}

const f = (path: string, mtime = 1_700_000_000): TarEntryInput => ({
  path,
  type: 'file',
  mode: 0o644,
  uid: 0,
  gid: 0,
  mtime,
});

const layer: LayerEntryInput[] = [
  { header: { path: '', type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: 1_600_000_000 } },
  { header: { path: 'etc', type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: 1_600_000_000 } },
  { header: { ...f('etc/hostname'), size: 5 }, data: Buffer.from('box\n\n') },
  {
    header: {
      path: 'etc/link',
      type: 'symlink',
      mode: 0o777,
      uid: 0,
      gid: 0,
      mtime: 1_600_000_000,
      linkTarget: 'hostname',
    },
  },
  { header: { ...f('etc/.wh.old'), size: 0 } },
  { header: { ...f('var/.wh..wh..opq') } },
];

describe('TarWriter', () => {
  it('writes the empty archive as exactly two zero blocks', async () => {
    const tar = await tarOf([]);
    expect(tar).toEqual(Buffer.alloc(1024));
    expect(sha256(tar)).toBe(EMPTY_TAR_DIFF_ID);
  });

  it('writes the root as ./, directories with a trailing slash, and no record padding', async () => {
    const tar = await tarOf([
      [{ path: '/', type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: 0 }],
      [{ path: './usr/', type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: 0 }],
      [f('usr/x'), Buffer.from('1')],
    ]);
    expect(tar.length).toBe(512 * 4 + 1024);
    expect((await headersOf(tar)).map((h) => h.rawName)).toEqual(['./', 'usr/', 'usr/x']);
  });

  it('is deterministic, and matches a golden digest', async () => {
    const entries: Array<[TarEntryInput, (Buffer | undefined)?]> = layer.map((e) => [
      e.header,
      e.data as Buffer | undefined,
    ]);
    const a = await tarOf(entries);
    const b = await tarOf(entries);
    expect(a.equals(b)).toBe(true);
    // Changing this digest changes every layer layerkit writes: only do it on purpose.
    expect(sha256(a)).toMatchInlineSnapshot(
      `"sha256:6f18da8393699b26f8c528456a7c94bdfad22db57821dfb2666da018fda6c5d6"`,
    );
  });

  it('clamps mtimes to SOURCE_DATE_EPOCH and gives whiteouts mtime 0', async () => {
    const tar = await tarOf(
      [[f('new', 2_000_000_000)], [f('old', 1_000)], [f('a/.wh.gone', 1_500_000_000)], [f('.wh..wh..opq', 99)]],
      {
        sourceDateEpoch: 1_700_000_000,
      },
    );
    expect((await headersOf(tar)).map((h) => [h.path, h.mtime])).toEqual([
      ['new', 1_700_000_000],
      ['old', 1_000],
      ['a/.wh.gone', 0],
      ['.wh..wh..opq', 0],
    ]);
  });

  it.each<[string, TarEntryInput, Buffer | AsyncIterable<Uint8Array> | undefined, RegExp]>([
    [
      'a Buffer shorter than size',
      { ...f('x'), size: 5 },
      Buffer.from('abc'),
      /says 5 bytes but its data source yielded 3/,
    ],
    [
      'an iterable that yields too much',
      { ...f('x'), size: 2 },
      gen(['ab', 'c']),
      /says 2 bytes but its data source yielded more \(at least 3\)/,
    ],
    [
      'an iterable that yields too little',
      { ...f('x'), size: 4 },
      gen(['ab']),
      /says 4 bytes but its data source yielded 2/,
    ],
    ['an iterable without size', f('x'), gen(['ab']), /needs header.size/],
    ['a size without data', { ...f('x'), size: 3 }, undefined, /size is 3 but no data/],
    ['data for a directory', { ...f('d'), type: 'directory' }, Buffer.from('x'), /a directory entry has no data/],
    ['a symlink without target', { ...f('l'), type: 'symlink' }, undefined, /needs linkTarget/],
    ['a file as the root', f('/'), undefined, /the root can only be a directory/],
    ['a whiteout with data', { ...f('.wh.x'), size: 1 }, Buffer.from('x'), /a whiteout must be an empty regular file/],
    ['an invalid whiteout', f('.wh.'), undefined, /has an invalid name/],
    ['an unsafe path', f('../x'), undefined, /climbs above the layer root/],
    [
      'an unsafe hardlink',
      { ...f('h'), type: 'hardlink', linkTarget: '../../x' },
      undefined,
      /climbs above the layer root/,
    ],
  ])('refuses %s and fails the stream', async (_label, header, data, message) => {
    const writer = new TarWriter();
    const consumed = collect(writer).then(
      () => 'ended',
      (err: Error) => err.message,
    );
    await writer.add(f('first'));
    await expect(writer.add(header, data)).rejects.toThrow(message);
    await expect(writer.add(f('after'))).rejects.toThrow(message);
    expect(await consumed).toMatch(message); // the consumer sees the same error
  });

  it('refuses overlapping calls', async () => {
    const writer = new TarWriter();
    void collect(writer).catch(() => {});
    const first = writer.add({ ...f('slow'), size: 3 }, gen(['a', 'b', 'c']));
    await expect(writer.add(f('second'))).rejects.toThrow(/await each call/);
    await first.catch(() => {});
  });

  it('applies backpressure: add() waits for the consumer and nothing is buffered whole', async () => {
    const writer = new TarWriter({ highWaterMark: 16 * 1024 });
    const size = 4 * 1024 * 1024;
    let produced = 0;
    async function* data(): AsyncGenerator<Buffer> {
      for (let i = 0; i < size; i += 64 * 1024) {
        produced += 64 * 1024;
        yield Buffer.alloc(64 * 1024, 1);
      }
    }
    let done = false;
    const adding = writer.add({ ...f('big'), size }, data()).then(() => {
      done = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(done).toBe(false);
    expect(produced).toBeLessThanOrEqual(2 * 64 * 1024);
    expect(writer.stream.readableLength).toBeLessThanOrEqual(16 * 1024 + 64 * 1024 + 512);
    const hash = createHash('sha256');
    const consuming = pipeline(
      writer.stream,
      new Writable({
        write(chunk, _enc, cb) {
          hash.update(chunk);
          cb();
        },
      }),
    );
    await adding;
    await writer.finish();
    await consuming;
    expect(writer.bytesWritten).toBe(512 + size + 1024);
  });

  it('rejects pending and later calls when the consumer destroys the stream', async () => {
    const writer = new TarWriter({ highWaterMark: 1024 });
    const adding = writer.add({ ...f('big'), size: 1 << 20 }, Buffer.alloc(1 << 20));
    writer.stream.destroy();
    await expect(adding).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    await expect(writer.add(f('x'))).rejects.toMatchObject({ code: 'ERR_ABORTED' });
  });
});

async function* gen(parts: string[]): AsyncGenerator<Buffer> {
  for (const p of parts) yield Buffer.from(p);
}

describe('writeLayer', () => {
  it.each(['gzip', 'none'] as const)(
    'reports diffId, digest and sizes computed in one pass (%s)',
    async (compression) => {
      const { stream, result } = writeLayer({ entries: layer, compression });
      const blob = await collect(stream);
      const r = await result;
      const tar = compression === 'gzip' ? gunzipSync(blob) : blob;
      expect(r).toEqual({ diffId: sha256(tar), digest: sha256(blob), size: blob.length, uncompressedSize: tar.length });
      if (compression === 'none') expect(r.digest).toBe(r.diffId);
      else expect(blob.subarray(0, 3)).toEqual(Buffer.from([0x1f, 0x8b, 0x08]));
      expect((await headersOf(tar)).map((h) => h.path)).toEqual([
        '',
        'etc',
        'etc/hostname',
        'etc/link',
        'etc/.wh.old',
        'var/.wh..wh..opq',
      ]);
    },
  );

  it('is deterministic, and the empty layer has the well-known diffID', async () => {
    const run = async (): Promise<Buffer> =>
      collect(writeLayer({ entries: layer, compression: 'gzip', gzipLevel: 9 }).stream);
    expect((await run()).equals(await run())).toBe(true);
    const empty = writeLayer({ entries: [], compression: 'gzip' });
    await collect(empty.stream);
    expect((await empty.result).diffId).toBe(EMPTY_TAR_DIFF_ID);
  });

  it('clamps mtimes to sourceDateEpoch', async () => {
    const { stream, result } = writeLayer({ entries: layer, compression: 'none', sourceDateEpoch: 1_650_000_000 });
    const tar = await collect(stream);
    await result;
    expect((await headersOf(tar)).map((h) => h.mtime)).toEqual([
      1_600_000_000, 1_600_000_000, 1_650_000_000, 1_600_000_000, 0, 0,
    ]);
  });

  it('takes entries sorted with compareTarPaths from an async iterable', async () => {
    const paths = ['b', 'a-b', 'a/c', 'a', 'a/b'];
    async function* entries(): AsyncGenerator<LayerEntryInput> {
      for (const p of [...paths].sort(compareTarPaths)) yield { header: f(p) };
    }
    const { stream } = writeLayer({ entries: entries(), compression: 'none' });
    expect((await headersOf(await collect(stream))).map((h) => h.path)).toEqual(['a', 'a/b', 'a/c', 'a-b', 'b']);
  });

  it('fails the stream and the result when an entry is bad', async () => {
    const { stream, result } = writeLayer({
      entries: [{ header: f('ok') }, { header: { ...f('bad'), size: 9 }, data: Buffer.from('short') }],
      compression: 'gzip',
    });
    await expect(collect(stream)).rejects.toThrow(/says 9 bytes/);
    await expect(result).rejects.toMatchObject({ code: 'ERR_LAYER_FORMAT' });
  });

  it('fails with ERR_ABORTED when aborted or when the consumer stops early', async () => {
    const controller = new AbortController();
    async function* slow(): AsyncGenerator<LayerEntryInput> {
      yield { header: f('one') };
      controller.abort();
      yield { header: f('two') };
    }
    const aborted = writeLayer({ entries: slow(), compression: 'gzip', signal: controller.signal });
    await expect(collect(aborted.stream)).rejects.toThrow();
    await expect(aborted.result).rejects.toMatchObject({ code: 'ERR_ABORTED' });

    const big = writeLayer({
      entries: [{ header: { ...f('big'), size: 1 << 22 }, data: Buffer.alloc(1 << 22) }],
      compression: 'none',
    });
    for await (const _ of big.stream) break;
    await expect(big.result).rejects.toMatchObject({ code: 'ERR_ABORTED' });
  });
});
