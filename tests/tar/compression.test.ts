import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import * as zlib from 'node:zlib';
import { compressStream, decompressStream, sniffCompression } from '../../src/tar/compression.js';
import { readTarEntries } from '../../src/tar/read-tar-entries.js';
import { writeLayer } from '../../src/tar/layer-writer.js';
import { hasTool } from '../helpers/tools.js';
import { isLayerkitError } from '../../src/errors.js';

async function collect(source: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of source) out.push(c);
  return Buffer.concat(out);
}

async function* chunks(buf: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < buf.length; i += size) yield new Uint8Array(buf.subarray(i, i + size));
}

async function failure(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (err) {
    if (isLayerkitError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a failure');
}

const hasZstd = typeof (zlib as unknown as { createZstdDecompress?: unknown }).createZstdDecompress === 'function';

describe('sniffCompression', () => {
  it.each<[string, number[], string]>([
    ['gzip', [0x1f, 0x8b, 0x08, 0, 0, 0], 'gzip'],
    ['gzip magic with another method', [0x1f, 0x8b, 0x07, 0, 0, 0], 'none'],
    ['zstd frame', [0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x00], 'zstd'],
    ['zstd skippable frame 0x184D2A50', [0x50, 0x2a, 0x4d, 0x18, 0, 0], 'zstd'],
    ['zstd skippable frame 0x184D2A5F', [0x5f, 0x2a, 0x4d, 0x18, 0, 0], 'zstd'],
    ['not a skippable frame', [0x60, 0x2a, 0x4d, 0x18, 0, 0], 'none'],
    ['bzip2', [0x42, 0x5a, 0x68, 0x39, 0x31, 0x41], 'bzip2'],
    ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], 'xz'],
    ['xz prefix only', [0xfd, 0x37, 0x7a, 0x58, 0x5a], 'none'],
    ['a tar header', [...Buffer.from('etc/passwd')], 'none'],
    ['empty', [], 'none'],
    ['too short for gzip', [0x1f, 0x8b], 'none'],
  ])('%s', (_label, bytes, expected) => {
    expect(sniffCompression(Uint8Array.from(bytes))).toBe(expected);
  });

  it('recognises what real tools write', () => {
    const data = Buffer.from('hello world '.repeat(100));
    expect(sniffCompression(zlib.gzipSync(data))).toBe('gzip');
    expect(sniffCompression(zlib.brotliCompressSync(data))).toBe('none');
    for (const [tool, kind] of [
      ['zstd', 'zstd'],
      ['bzip2', 'bzip2'],
      ['xz', 'xz'],
    ] as const) {
      if (!hasTool(tool)) continue;
      expect(sniffCompression(execFileSync(tool, ['-c'], { input: data }))).toBe(kind);
    }
  });
});

describe('decompressStream', () => {
  const tar = Buffer.concat([Buffer.from('x'.repeat(3000)), Buffer.alloc(1024)]);

  it('passes uncompressed data through unchanged, chunk for chunk', async () => {
    const out: Buffer[] = [];
    for await (const c of decompressStream(chunks(tar, 1000))) out.push(c);
    expect(out.map((c) => c.length)).toEqual([1000, 1000, 1000, 1000, 24]);
    expect(Buffer.concat(out).equals(tar)).toBe(true);
  });

  it('handles input shorter than the sniff window', async () => {
    expect(await collect(decompressStream(chunks(Buffer.from('abc'), 1)))).toEqual(Buffer.from('abc'));
    expect(await collect(decompressStream(chunks(Buffer.alloc(0), 1)))).toEqual(Buffer.alloc(0));
  });

  it.each([1, 3, 7, 4096])('decodes every member of a multi-member gzip fed in %i-byte chunks', async (size) => {
    const a = Buffer.alloc(5000, 'a');
    const b = Buffer.alloc(7000, 'b');
    const blob = Buffer.concat([zlib.gzipSync(a), zlib.gzipSync(b, { level: 1 }), zlib.gzipSync(Buffer.alloc(0))]);
    expect((await collect(decompressStream(chunks(blob, size)))).equals(Buffer.concat([a, b]))).toBe(true);
  });

  it('decompresses gzip data whatever the media type claimed (a "tar" layer that is gzip)', async () => {
    const { stream, result } = writeLayer({
      entries: [
        { header: { path: 'f', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0 }, data: Buffer.from('payload') },
      ],
      compression: 'gzip',
    });
    const blob = await collect(stream);
    const names = [];
    for await (const e of readTarEntries(decompressStream(chunks(blob, 10))))
      names.push([e.header.path, e.data.toString()]);
    expect(names).toEqual([['f', 'payload']]);
    expect((await result).digest).not.toBe((await result).diffId);
  });

  it('reports corrupt and truncated gzip as ERR_LAYER_FORMAT', async () => {
    const gz = zlib.gzipSync(Buffer.alloc(100_000, 'z'));
    const corrupt = Buffer.from(gz);
    corrupt[gz.length - 6] = (corrupt[gz.length - 6] as number) ^ 0xff; // CRC
    expect(await failure(collect(decompressStream(chunks(corrupt, 512))))).toEqual({
      code: 'ERR_LAYER_FORMAT',
      message: 'gzip data is corrupt: incorrect data check; the blob is damaged or truncated, fetch it again',
    });
    expect(await failure(collect(decompressStream(chunks(gz.subarray(0, gz.length - 10), 512))))).toMatchObject({
      code: 'ERR_LAYER_FORMAT',
      message: expect.stringContaining('unexpected end of file'),
    });
    const garbage = Buffer.concat([gz, Buffer.from('trailing junk')]);
    expect((await failure(collect(decompressStream(chunks(garbage, 512))))).code).toBe('ERR_LAYER_FORMAT');
  });

  it('passes errors of the source through unchanged', async () => {
    async function* broken(): AsyncGenerator<Uint8Array> {
      yield zlib.gzipSync(Buffer.alloc(10)).subarray(0, 12);
      throw new Error('network reset');
    }
    await expect(collect(decompressStream(broken()))).rejects.toThrow('network reset');
    async function* brokenPlain(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('plain data');
      throw new Error('disk error');
    }
    await expect(collect(decompressStream(brokenPlain()))).rejects.toThrow('disk error');
  });

  it.runIf(!hasZstd)('explains that zstd needs a newer Node and how to convert the image', async () => {
    const zst = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x01, 0x09, 0x00, 0x00, 0x61]);
    const err = await failure(collect(decompressStream(chunks(zst, 4))));
    expect(err.code).toBe('ERR_UNSUPPORTED_COMPRESSION');
    expect(err.message).toMatch(/zstd needs Node >= 22\.15 .*skopeo copy --dest-compress-format gzip/);
  });

  it.runIf(hasZstd && hasTool('zstd'))('decodes zstd, including skippable frames', async () => {
    const data = Buffer.alloc(50_000, 'q');
    const skippable = Buffer.concat([Buffer.from([0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0]), Buffer.from('meta')]);
    const blob = Buffer.concat([skippable, execFileSync('zstd', ['-c'], { input: data })]);
    expect((await collect(decompressStream(chunks(blob, 1000)))).equals(data)).toBe(true);
  });

  it.each([
    ['bzip2', Buffer.from('BZh91AY&SY')],
    ['xz', Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0x00, 0x04])],
  ])('refuses %s with ERR_UNSUPPORTED_COMPRESSION', async (kind, blob) => {
    const err = await failure(collect(decompressStream(chunks(blob, 3))));
    expect(err).toMatchObject({
      code: 'ERR_UNSUPPORTED_COMPRESSION',
      message: expect.stringContaining(`${kind}-compressed`),
    });
  });

  it('stops reading the source when the consumer stops, and honours abort', async () => {
    let closed = false;
    let pulled = 0;
    const gz = zlib.gzipSync(Buffer.alloc(1 << 20, 'r'), { level: 0 });
    async function* source(): AsyncGenerator<Uint8Array> {
      try {
        for (let i = 0; i < gz.length; i += 1024) {
          pulled++;
          yield gz.subarray(i, i + 1024);
        }
      } finally {
        closed = true;
      }
    }
    for await (const _ of decompressStream(source())) break;
    await new Promise((r) => setImmediate(r));
    expect(closed).toBe(true);
    expect(pulled).toBeLessThan(gz.length / 1024);

    const controller = new AbortController();
    controller.abort();
    expect((await failure(collect(decompressStream(chunks(gz, 1024), { signal: controller.signal })))).code).toBe(
      'ERR_ABORTED',
    );
    const later = new AbortController();
    const it = decompressStream(chunks(gz, 1024), { signal: later.signal });
    await it.next();
    later.abort();
    expect((await failure(collect(it))).code).toBe('ERR_ABORTED');
  });
});

describe('compressStream', () => {
  it('round-trips and is deterministic for a level', async () => {
    const data = Buffer.from(Array.from({ length: 20000 }, (_, i) => (i * 7919) % 251));
    const one = await collect(compressStream(chunks(data, 777), { level: 1 }));
    const nine = await collect(compressStream(chunks(data, 333), { level: 9 }));
    expect(one.equals(await collect(compressStream(chunks(data, 5000), { level: 1 })))).toBe(true);
    expect(zlib.gunzipSync(one).equals(data)).toBe(true);
    expect(zlib.gunzipSync(nine).equals(data)).toBe(true);
    expect(sniffCompression(one)).toBe('gzip');
    expect(one.readUInt32LE(4)).toBe(0); // no mtime in the gzip header
  });
});
