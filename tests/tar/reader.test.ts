import { describe, expect, it } from 'vitest';
import { test, fc } from '@fast-check/vitest';
import { gzipSync } from 'node:zlib';
import { BLOCK_SIZE, paddedSize, TYPEFLAG } from '../../src/tar/header.js';
import { writeBlock, type BlockFields } from '../../src/tar/header-encode.js';
import { encodePaxRecords } from '../../src/tar/pax.js';
import { TarParser, type TarParserOptions } from '../../src/tar/reader.js';
import { readTarEntries } from '../../src/tar/read-tar-entries.js';
import type { TarEntryHeader } from '../../src/tar/types.js';
import { isLayerkitError } from '../../src/errors.js';

// ---- a tiny raw archive builder (independent of TarWriter)

function hdr(fields: Partial<BlockFields> & Pick<BlockFields, 'name'>): Buffer {
  const out = Buffer.alloc(BLOCK_SIZE);
  writeBlock(out, 0, { mode: 0o644, uid: 0, gid: 0, size: 0, mtime: 1000, typeflag: TYPEFLAG.file, ...fields });
  return out;
}
function withData(data: Buffer): Buffer {
  return Buffer.concat([data, Buffer.alloc(paddedSize(data.length) - data.length)]);
}
function fileEntry(name: string, data: string | Buffer, extra: Partial<BlockFields> = {}): Buffer {
  const d = typeof data === 'string' ? Buffer.from(data) : data;
  return Buffer.concat([hdr({ name, size: d.length, ...extra }), withData(d)]);
}
function meta(typeflag: number, data: Buffer, name = 'meta'): Buffer {
  return Buffer.concat([hdr({ name, typeflag, size: data.length }), withData(data)]);
}
const END = Buffer.alloc(2 * BLOCK_SIZE);

type Event = ['entry', TarEntryHeader, number] | ['data', string] | ['end'];

function parse(input: Buffer | Buffer[], options?: TarParserOptions): Event[] {
  const events: Event[] = [];
  const parser = new TarParser(
    {
      onEntry: (h, off) => events.push(['entry', h, off]),
      onData: (c) => {
        const last = events.at(-1);
        if (last?.[0] === 'data') last[1] += c.toString('latin1');
        else events.push(['data', c.toString('latin1')]);
      },
      onEntryEnd: () => events.push(['end']),
    },
    options,
  );
  for (const chunk of Array.isArray(input) ? input : [input]) parser.write(chunk);
  parser.end();
  return events;
}

function errorOf(fn: () => unknown): { code: string; message: string } | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (!isLayerkitError(err)) throw err;
    return { code: err.code, message: err.message };
  }
}

function split(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let last = 0;
  for (const p of points) {
    out.push(buf.subarray(last, p));
    last = p;
  }
  out.push(buf.subarray(last));
  return out;
}

const sample = Buffer.concat([
  hdr({ name: 'dir/', typeflag: TYPEFLAG.directory, mode: 0o755 }),
  fileEntry('dir/a.txt', 'hello'),
  fileEntry('dir/empty', ''),
  meta(
    TYPEFLAG.paxLocal,
    encodePaxRecords([
      ['path', 'dir/caf\u00e9'],
      ['uid', '3000000'],
      ['mtime', '12.5'],
    ]),
  ),
  fileEntry('ignored', 'x'.repeat(700)),
  hdr({ name: 'dir/link', typeflag: TYPEFLAG.symlink, linkname: '../x', mode: 0o777 }),
  hdr({ name: 'dir/hard', typeflag: TYPEFLAG.hardlink, linkname: '/dir/a.txt' }),
  END,
]);

describe('TarParser', () => {
  it('reports entries, data offsets and data', () => {
    const events = parse(sample);
    const entries = events.filter((e) => e[0] === 'entry').map((e) => [e[1].path, e[1].type, e[1].size, e[2]]);
    expect(entries).toEqual([
      ['dir', 'directory', 0, 512],
      ['dir/a.txt', 'file', 5, 1024],
      ['dir/empty', 'file', 0, 2048],
      ['dir/caf\u00e9', 'file', 700, 3584],
      ['dir/link', 'symlink', 0, 5120],
      ['dir/hard', 'hardlink', 0, 5632],
    ]);
    const headers = new Map(events.flatMap((e) => (e[0] === 'entry' ? [[e[1].path, e[1]] as const] : [])));
    expect(headers.get('dir/caf\u00e9')).toMatchObject({ uid: 3_000_000, mtime: 12.5, rawName: 'dir/caf\u00e9' });
    expect(headers.get('dir/link')?.linkTarget).toBe('../x');
    expect(headers.get('dir/hard')?.linkTarget).toBe('dir/a.txt');
    // every entry gets exactly one end, data comes between its entry and its end
    expect(events.map((e) => e[0]).join(',')).toBe(
      'entry,end,entry,data,end,entry,end,entry,data,end,entry,end,entry,end',
    );
    // offsets point at the data in the stream
    expect(sample.toString('latin1', 1024, 1029)).toBe('hello');
    expect(sample.toString('latin1', 3584, 3584 + 700)).toBe('x'.repeat(700));
  });

  test.prop([fc.array(fc.nat(), { maxLength: 12 })])('gives the same events however the input is split', (cuts) => {
    expect(parse(split(sample, cuts))).toEqual(parse(sample));
  });

  /** Reads `input` as a seeking reader would: chunks from the parser's offset, skipping data whenever `skip(i)` says so. */
  function parseSkipping(
    input: Buffer,
    chunk: number,
    skip: (i: number) => boolean,
  ): { events: Event[]; skipped: number } {
    const events: Event[] = [];
    const parser = new TarParser({
      onEntry: (h, off) => events.push(['entry', h, off]),
      onEntryEnd: () => events.push(['end']),
    });
    let skipped = 0;
    for (let i = 0; parser.offset < input.length && !parser.done; i++) {
      parser.write(input.subarray(parser.offset, parser.offset + chunk));
      if (skip(i)) skipped += parser.skipData();
    }
    parser.end();
    return { events, skipped };
  }

  test.prop([fc.integer({ min: 1, max: 1500 }), fc.array(fc.boolean(), { minLength: 1, maxLength: 40 })])(
    'skipData: a reader that seeks over file data sees the same entries, offsets and ends',
    (chunk, pattern) => {
      const { events, skipped } = parseSkipping(sample, chunk, (i) => pattern[i % pattern.length]!);
      expect(events).toEqual(parse(sample).filter((e) => e[0] !== 'data'));
      // skipping only ever passes over data and padding, so a reader skipping at every step skips some
      if (pattern.every(Boolean) && chunk <= BLOCK_SIZE) expect(skipped).toBeGreaterThan(0);
    },
  );

  it('skipData skips data and padding, reports them in dataRemaining, and is 0 outside data', () => {
    const parser = new TarParser({ onEntry: () => {} });
    expect(parser.skipData()).toBe(0);
    parser.write(sample.subarray(0, 1024 + 2)); // the directory, the header of dir/a.txt and 2 bytes of its data
    expect(parser.dataRemaining).toBe(3 + (512 - 5));
    expect(parser.skipData()).toBe(3 + (512 - 5));
    expect(parser.offset).toBe(1536);
    expect(parser.dataRemaining).toBe(0);
    parser.write(sample.subarray(1536));
    parser.end();
    expect(parser.done).toBe(true);
  });

  it('gives the same events fed one byte at a time', () => {
    const bytes = Array.from({ length: sample.length }, (_, i) => sample.subarray(i, i + 1));
    expect(parse(bytes)).toEqual(parse(sample));
  });

  it('passes file data as views of the input, never copies', () => {
    const input = Buffer.concat([fileEntry('big', Buffer.alloc(5000, 1)), END]);
    const views: Buffer[] = [];
    const parser = new TarParser({ onEntry: () => {}, onData: (c) => views.push(c) });
    parser.write(input);
    parser.end();
    expect(views).toHaveLength(1);
    expect(views[0]?.buffer).toBe(input.buffer);
    expect(views[0]?.byteOffset).toBe(input.byteOffset + 512);
  });

  it('stops at the end marker and ignores what follows', () => {
    const padded = Buffer.concat([
      fileEntry('a', 'x'),
      END,
      Buffer.alloc(10240 - 2048),
      Buffer.from('trailing garbage'),
    ]);
    const parser = new TarParser({ onEntry: () => {} });
    parser.write(padded);
    expect(parser.done).toBe(true);
    parser.end();
    expect(parser.offset).toBe(padded.length);
    expect(parser.entryCount).toBe(1);
  });

  it.each([
    ['no end marker', Buffer.concat([fileEntry('a', 'x')])],
    ['a single zero block', Buffer.concat([fileEntry('a', 'x'), Buffer.alloc(512)])],
    ['a partial zero block', Buffer.concat([fileEntry('a', 'x'), Buffer.alloc(100)])],
    ['an empty input', Buffer.alloc(0)],
  ])('accepts an archive with %s', (_label, input) => {
    expect(() => parse(input)).not.toThrow();
  });

  it('refuses a header after a single zero block (entries hidden from other tools)', () => {
    const input = Buffer.concat([fileEntry('a', 'x'), Buffer.alloc(512), fileEntry('hidden', 'y'), END]);
    expect(errorOf(() => parse(input))).toMatchObject({
      code: 'ERR_LAYER_FORMAT',
      message: expect.stringContaining("followed by another header ('hidden')"),
    });
  });

  it('reports truncation at every cut point with the missing byte count', () => {
    const input = Buffer.concat([fileEntry('a', 'hello'), fileEntry('b', 'x'.repeat(600))]);
    // As Go's archive/tar: the end may come at a header boundary, or right after an entry's data
    // (no padding at all: umoci insert writes such layers), but not inside the padding.
    const valid = new Set([0, 517, 1024, 1024 + 512 + 600, input.length]);
    for (let cut = 0; cut <= input.length; cut++) {
      const err = errorOf(() => parse(input.subarray(0, cut)));
      if (valid.has(cut)) {
        expect(err, `cut at ${cut}`).toBeUndefined();
        continue;
      }
      expect(err?.code, `cut at ${cut}`).toBe('ERR_LAYER_FORMAT');
      if (cut > 512 && cut < 517)
        expect(err?.message).toBe(
          `truncated tar: entry 'a' needs ${517 - cut + 507} more bytes; the layer is incomplete, fetch it again`,
        );
      if (cut > 517 && cut < 1024) expect(err?.message).toContain(`needs ${1024 - cut} more bytes of padding`);
      if (cut > 1024 && cut < 1536)
        expect(err?.message).toContain(`the header at byte 1024 has only ${cut - 1024} of 512 bytes`);
      if (cut > 0 && cut < 512) expect(err?.message).toContain(`only ${cut} bytes long`);
    }
  });

  it('refuses non-tar input with a hint', () => {
    const text = Buffer.from('this is not a tar archive\n'.repeat(40));
    expect(errorOf(() => parse(text))?.message).toMatch(
      /^input is not a tar archive: .*is it compressed with something unsupported/,
    );
    const gz = gzipSync(sample);
    expect(errorOf(() => parse(gz))?.message).toMatch(/it looks gzip-compressed: decompress it first/);
    const xz = Buffer.concat([Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), Buffer.alloc(600, 1)]);
    expect(errorOf(() => parse(xz))?.message).toMatch(/it looks xz-compressed/);
  });

  it('names the position and previous entry for a corrupt header mid-archive', () => {
    const bad = hdr({ name: 'b', checksum: 99 });
    const input = Buffer.concat([fileEntry('a', 'hello'), bad, END]);
    expect(errorOf(() => parse(input))).toEqual({
      code: 'ERR_LAYER_FORMAT',
      message: expect.stringMatching(
        /^corrupt tar: header at byte 1024 after entry 'a': bad tar header checksum \(stored 99, computed \d+\)$/,
      ),
    });
  });

  it('treats header-only types as having no data, whatever their size field says (as Go does)', () => {
    const input = Buffer.concat([
      hdr({ name: 'l', typeflag: TYPEFLAG.symlink, linkname: 't', size: 700 }),
      fileEntry('f', 'z'),
      END,
    ]);
    const events = parse(input);
    expect(events.filter((e) => e[0] === 'entry').map((e) => [e[1].path, e[1].size])).toEqual([
      ['l', 0],
      ['f', 1],
    ]);
  });

  it('applies GNU long names and links', () => {
    const long = `${'d'.repeat(150)}/${'f'.repeat(150)}`;
    const input = Buffer.concat([
      meta(TYPEFLAG.gnuLongName, Buffer.from(`${long}\0`), '././@LongLink'),
      meta(TYPEFLAG.gnuLongLink, Buffer.from(`${long}-target\0`), '././@LongLink'),
      hdr({ name: 'short', typeflag: TYPEFLAG.symlink, linkname: 'short-target', format: 'gnu' }),
      END,
    ]);
    const [entry] = parse(input);
    expect(entry?.[1]).toMatchObject({ path: long, rawName: long, linkTarget: `${long}-target`, type: 'symlink' });
  });

  it('applies PAX global headers to every later entry, under local ones', () => {
    const input = Buffer.concat([
      meta(
        TYPEFLAG.paxGlobal,
        encodePaxRecords([
          ['uid', '42'],
          ['comment', 'git commit'],
          ['SCHILY.xattr.user.g', 'v'],
        ]),
      ),
      fileEntry('a', ''),
      meta(TYPEFLAG.paxLocal, encodePaxRecords([['uid', '7']])),
      fileEntry('b', ''),
      fileEntry('c', ''),
      END,
    ]);
    const heads = parse(input)
      .filter((e) => e[0] === 'entry')
      .map((e) => e[1]);
    expect(heads.map((h) => [h.path, h.uid, h.xattrs])).toEqual([
      ['a', 42, { 'user.g': 'v' }],
      ['b', 7, { 'user.g': 'v' }],
      ['c', 42, { 'user.g': 'v' }],
    ]);
  });

  it('reads PAX size for the data that follows', () => {
    const input = Buffer.concat([
      meta(TYPEFLAG.paxLocal, encodePaxRecords([['size', '3']])),
      hdr({ name: 'f', size: 0 }),
      withData(Buffer.from('abc')),
      END,
    ]);
    expect(parse(input).filter((e) => e[0] !== 'end')).toEqual([
      ['entry', expect.objectContaining({ path: 'f', size: 3 }), 1536],
      ['data', 'abc'],
    ]);
  });

  it('refuses extended headers without an entry', () => {
    const x = meta(TYPEFLAG.paxLocal, encodePaxRecords([['path', 'p']]));
    expect(errorOf(() => parse(x))?.message).toMatch(/ends after an extended header/);
    expect(errorOf(() => parse(Buffer.concat([x, END])))?.message).toMatch(
      /extended header is followed by the end-of-archive marker/,
    );
    const cut = meta(TYPEFLAG.paxLocal, Buffer.alloc(100, 0x61)).subarray(0, 600);
    expect(errorOf(() => parse(cut))?.message).toBe('truncated tar: the PAX header at byte 0 needs 12 more bytes');
    expect(
      errorOf(() => parse(Buffer.concat([meta(TYPEFLAG.paxLocal, Buffer.from('9 a=b\n')), fileEntry('x', ''), END])))
        ?.message,
    ).toMatch(/^corrupt tar: PAX header at byte 0: bad PAX record/);
  });

  it('enforces limits', () => {
    const three = Buffer.concat([fileEntry('a', ''), fileEntry('b', ''), fileEntry('c', ''), END]);
    expect(errorOf(() => parse(three, { maxEntries: 2 }))).toMatchObject({
      code: 'ERR_LIMIT_EXCEEDED',
      message: expect.stringContaining("more than 2 entries (entry 'c'"),
    });
    expect(() => parse(three, { maxEntries: 3 })).not.toThrow();
    const pax = Buffer.concat([
      meta(TYPEFLAG.paxLocal, encodePaxRecords([['path', 'x'.repeat(200)]])),
      fileEntry('x', ''),
      END,
    ]);
    expect(errorOf(() => parse(pax, { maxHeaderSize: 100 }))?.code).toBe('ERR_LIMIT_EXCEEDED');
    expect(errorOf(() => parse(pax, { maxPathLength: 199 }))?.code).toBe('ERR_LIMIT_EXCEEDED');
    expect(() => parse(pax, { maxPathLength: 200 })).not.toThrow();
    expect(errorOf(() => parse(Buffer.concat([fileEntry('a/b/c', ''), END]), { maxPathDepth: 2 }))?.code).toBe(
      'ERR_LIMIT_EXCEEDED',
    );
  });

  it('refuses unsafe names and names the entry', () => {
    expect(errorOf(() => parse(Buffer.concat([fileEntry('../x', ''), END])))).toEqual({
      code: 'ERR_UNSAFE_PATH',
      message: "entry '../x' climbs above the layer root; the archive is malicious or broken and was refused",
    });
    expect(
      errorOf(() => parse(Buffer.concat([hdr({ name: 'h', typeflag: TYPEFLAG.hardlink, linkname: '../x' }), END])))
        ?.message,
    ).toMatch(/^hardlink target '..\/x' of entry 'h' climbs above/);
  });

  it('stays failed after an error, including a handler error', () => {
    const parser = new TarParser({
      onEntry: () => {
        throw new Error('handler failed');
      },
    });
    expect(() => parser.write(sample)).toThrow('handler failed');
    expect(() => parser.write(sample)).toThrow('handler failed');
    expect(() => parser.end()).toThrow('handler failed');
  });
});

describe('readTarEntries', () => {
  async function* chunks(buf: Buffer, size: number): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < buf.length; i += size) yield new Uint8Array(buf.subarray(i, i + size)); // copies, not Buffers
  }

  it('buffers each entry with its data and offset', async () => {
    const out = [];
    for await (const e of readTarEntries(chunks(sample, 100)))
      out.push([e.header.path, e.dataOffset, e.data.toString()]);
    expect(out).toEqual([
      ['dir', 512, ''],
      ['dir/a.txt', 1024, 'hello'],
      ['dir/empty', 2048, ''],
      ['dir/caf\u00e9', 3584, 'x'.repeat(700)],
      ['dir/link', 5120, ''],
      ['dir/hard', 5632, ''],
    ]);
  });

  it('fails on truncation and honours abort', async () => {
    const run = async (src: AsyncIterable<Uint8Array>, signal?: AbortSignal): Promise<unknown> => {
      try {
        for await (const _ of readTarEntries(src, signal ? { signal } : {})) {
          /* drain */
        }
      } catch (err) {
        return err;
      }
      return undefined;
    };
    expect(await run(chunks(sample.subarray(0, 1100), 64))).toMatchObject({ code: 'ERR_LAYER_FORMAT' });
    const controller = new AbortController();
    controller.abort();
    expect(await run(chunks(sample, 64), controller.signal)).toMatchObject({ code: 'ERR_ABORTED' });
  });
});
