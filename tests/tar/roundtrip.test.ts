import { describe, expect } from 'vitest';
import { test, fc } from '@fast-check/vitest';
import { TarWriter } from '../../src/tar/writer.js';
import { TarParser } from '../../src/tar/reader.js';
import type { EntryType } from '../../src/tar/entry.js';
import type { TarEntryHeader, TarEntryInput } from '../../src/tar/types.js';

interface Generated {
  header: TarEntryInput & { size: number };
  data: Buffer | undefined;
}

const component = fc
  .oneof(
    {
      weight: 4,
      arbitrary: fc.constantFrom(
        'a',
        'bin',
        'etc',
        'caf\u00e9',
        'cafe\u0301',
        '\u{1f600}',
        'back\\slash',
        'sp ace',
        '...',
        '..x',
      ),
    },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }) },
    { weight: 1, arbitrary: fc.string({ minLength: 90, maxLength: 140 }).map((s) => `L${s}`) },
  )
  .filter((c) => !c.includes('/') && !c.includes('\0') && c !== '.' && c !== '..' && !c.startsWith('.wh.'));

const relPath = fc.array(component, { minLength: 1, maxLength: 5 }).map((parts) => parts.join('/'));

const mtime = fc.oneof(
  fc.integer({ min: 0, max: 2 ** 33 - 1 }),
  fc.integer({ min: -(2 ** 31), max: -1 }),
  fc
    .double({ min: -1e10, max: 1e11, noNaN: true, noDefaultInfinity: true })
    .filter((t) => t === 0 || Math.abs(t) >= 1e-6)
    .map((t) => (t === 0 ? 0 : t)), // -0 is written as 0
);
const id = fc.oneof(
  fc.integer({ min: 0, max: 70_000 }),
  fc.integer({ min: 0, max: 2 ** 32 }),
  fc.constant(Number.MAX_SAFE_INTEGER),
);
const xattrs = fc.option(
  fc.dictionary(
    fc.stringMatching(/^(user|security|trusted)\.[a-z.]{1,10}$/),
    fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b).toString('latin1')),
    { minKeys: 1, maxKeys: 3 },
  ),
  { nil: undefined },
);

const entry: fc.Arbitrary<Generated> = fc
  .record({
    path: relPath,
    type: fc.constantFrom<EntryType>(
      'file',
      'file',
      'file',
      'directory',
      'symlink',
      'hardlink',
      'char',
      'block',
      'fifo',
    ),
    mode: fc.integer({ min: 0, max: 0o7777 }),
    uid: id,
    gid: id,
    mtime,
    data: fc.uint8Array({ maxLength: 2000 }),
    symlinkTarget: fc.string({ unit: 'grapheme', maxLength: 160 }).filter((s) => !s.includes('\0')),
    hardlinkTarget: relPath,
    devmajor: fc.integer({ min: 0, max: 2 ** 30 }),
    devminor: fc.integer({ min: 0, max: 2 ** 30 }),
    xattrs,
  })
  .map((r) => {
    const header: Generated['header'] = {
      path: r.path,
      type: r.type,
      mode: r.mode,
      uid: r.uid,
      gid: r.gid,
      mtime: r.mtime,
      size: 0,
    };
    let data: Buffer | undefined;
    if (r.type === 'file') {
      data = Buffer.from(r.data);
      header.size = data.length;
    }
    if (r.type === 'symlink') header.linkTarget = r.symlinkTarget;
    if (r.type === 'hardlink') header.linkTarget = r.hardlinkTarget;
    if (r.type === 'char' || r.type === 'block') {
      header.devmajor = r.devmajor;
      header.devminor = r.devminor;
    }
    if (r.xattrs !== undefined) header.xattrs = r.xattrs;
    return { header, data };
  });

async function writeAll(entries: Generated[], sourceDateEpoch?: number): Promise<Buffer> {
  const writer = new TarWriter({ sourceDateEpoch });
  const out: Buffer[] = [];
  const reading = (async () => {
    for await (const chunk of writer) out.push(chunk as Buffer);
  })();
  for (const e of entries) {
    // Alternate between Buffer data and streamed data.
    const data = e.data === undefined ? undefined : e.data.length % 2 === 0 ? e.data : chunked(e.data);
    await writer.add(e.header, data);
  }
  await writer.finish();
  await reading;
  return Buffer.concat(out);
}

async function* chunked(data: Buffer): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += 333) yield data.subarray(i, i + 333);
}

function parseAll(tar: Buffer, cuts: number[]): Array<{ header: TarEntryHeader; offset: number; data: Buffer }> {
  const out: Array<{ header: TarEntryHeader; offset: number; data: Buffer[] }> = [];
  const parser = new TarParser({
    onEntry: (header, offset) => out.push({ header, offset, data: [] }),
    onData: (chunk) => out.at(-1)?.data.push(Buffer.from(chunk)),
  });
  let last = 0;
  for (const cut of [...cuts.map((c) => c % (tar.length + 1))].sort((a, b) => a - b)) {
    parser.write(tar.subarray(last, cut));
    last = cut;
  }
  parser.write(tar.subarray(last));
  parser.end();
  expect(parser.done).toBe(true);
  return out.map((e) => ({ header: e.header, offset: e.offset, data: Buffer.concat(e.data) }));
}

function expected(e: Generated): TarEntryHeader {
  const h: TarEntryHeader = {
    path: e.header.path,
    rawName: e.header.type === 'directory' ? `${e.header.path}/` : e.header.path,
    type: e.header.type,
    mode: e.header.mode,
    uid: e.header.uid,
    gid: e.header.gid,
    mtime: e.header.mtime,
    size: e.header.size,
  };
  if (e.header.linkTarget !== undefined) h.linkTarget = e.header.linkTarget;
  if (e.header.devmajor !== undefined) h.devmajor = e.header.devmajor;
  if (e.header.devminor !== undefined) h.devminor = e.header.devminor;
  if (e.header.xattrs !== undefined) h.xattrs = e.header.xattrs;
  return h;
}

describe('TarWriter -> TarParser round trip', () => {
  test.prop([fc.array(entry, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 10 })], { numRuns: 150 })(
    'every header field and every byte of data survives, however the stream is split',
    async (entries, cuts) => {
      const tar = await writeAll(entries);
      expect(tar.length % 512).toBe(0);
      expect(tar.subarray(-1024).every((b) => b === 0)).toBe(true);
      const parsed = parseAll(tar, cuts);
      expect(parsed.map((p) => p.header)).toEqual(entries.map(expected));
      parsed.forEach((p, i) => {
        const data = entries[i]?.data ?? Buffer.alloc(0);
        // (Buffer.equals: vitest's deep equality walks Buffers byte by byte, which is slow)
        expect(p.data.equals(data)).toBe(true);
        // the data offset is where the bytes really are
        expect(tar.subarray(p.offset, p.offset + p.header.size).equals(data)).toBe(true);
      });
      // deterministic: the same entries give the same bytes
      expect((await writeAll(entries)).equals(tar)).toBe(true);
    },
  );

  test.prop([fc.array(entry, { minLength: 1, maxLength: 6 }), fc.integer({ min: 0, max: 2 ** 31 })], { numRuns: 50 })(
    'SOURCE_DATE_EPOCH clamps every mtime to at most the epoch',
    async (entries, epoch) => {
      const parsed = parseAll(await writeAll(entries, epoch), []);
      parsed.forEach((p, i) => {
        expect(p.header.mtime).toBe(Math.min(entries[i]?.header.mtime ?? 0, epoch));
      });
    },
  );
});
