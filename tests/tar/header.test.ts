import { describe, expect, it } from 'vitest';
import { BLOCK_SIZE, decodeHeader, entryTypeOf, TYPEFLAG } from '../../src/tar/header.js';
import { encodeHeader, writeBlock, type BlockFields, type EncodeHeaderInput } from '../../src/tar/header-encode.js';
import { encodePaxRecords, parsePaxRecords, resolveHeader } from '../../src/tar/pax.js';
import { isLayerkitError } from '../../src/errors.js';

const base: BlockFields = {
  name: 'file',
  mode: 0o644,
  uid: 1,
  gid: 2,
  size: 3,
  mtime: 1_700_000_000,
  typeflag: TYPEFLAG.file,
};

function block(fields: Partial<BlockFields> = {}): Buffer {
  const out = Buffer.alloc(BLOCK_SIZE);
  writeBlock(out, 0, { ...base, ...fields });
  return out;
}

/** Overwrites a field's bytes and recomputes the checksum. */
function patch(b: Buffer, offset: number, bytes: number[] | string, length?: number): Buffer {
  const data = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : Buffer.from(bytes);
  b.fill(0, offset, offset + (length ?? data.length));
  data.copy(b, offset);
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const c of b) sum += c;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return b;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return isLayerkitError(err) ? err.code : String(err);
  }
}

describe('decodeHeader', () => {
  it('decodes a plain ustar block and returns null for a zero block', () => {
    expect(decodeHeader(block())).toEqual({
      name: 'file',
      linkname: '',
      typeflag: TYPEFLAG.file,
      mode: 0o644,
      uid: 1,
      gid: 2,
      size: 3,
      mtime: 1_700_000_000,
      uname: '',
      gname: '',
      devmajor: 0,
      devminor: 0,
      format: 'ustar',
    });
    expect(decodeHeader(Buffer.alloc(BLOCK_SIZE))).toBeNull();
  });

  it('decodes at an offset inside a larger buffer', () => {
    const big = Buffer.concat([Buffer.alloc(100, 7), block({ name: 'x' }), Buffer.alloc(10)]);
    expect(decodeHeader(big, 100)?.name).toBe('x');
  });

  it.each([
    ['0000644\0', 0o644],
    ['000644 \0', 0o644],
    ['   644\0 ', 0o644],
    ['   644  ', 0o644],
    ['00000644', 0o644], // no terminator at all
    ['644\0garb', 0o644], // ended by NUL, rest ignored
    ['\0\0\0\0\0\0\0\0', 0], // empty field
    ['        ', 0],
    ['0100644\0', 0o644], // file-type bits ignored
    ['0040755\0', 0o755],
    ['0000000\0', 0], // mode 0 stays 0
    ['0007777\0', 0o7777],
  ])('reads mode field %j as %s', (field, value) => {
    expect(decodeHeader(patch(block(), 100, field))?.mode).toBe(value);
  });

  it('refuses non-octal digits', () => {
    expect(codeOf(() => decodeHeader(patch(block(), 124, '00000000009\0')))).toBe('ERR_LAYER_FORMAT');
    expect(() => decodeHeader(patch(block(), 108, '00x0000\0'))).toThrow(/uid field holds "x"/);
  });

  it.each([
    ['uid 3000000', 108, [0x80, 0, 0, 0, 0, 0x2d, 0xc6, 0xc0], 'uid', 3_000_000],
    ['size 2^40', 124, [0x80, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0], 'size', 2 ** 40],
    ['mtime -1', 136, Array(12).fill(0xff), 'mtime', -1],
    ['mtime -1000000', 136, [...Array(9).fill(0xff), 0xf0, 0xbd, 0xc0], 'mtime', -1_000_000],
    ['gid 2^53-1', 116, [0x80, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 'gid', Number.MAX_SAFE_INTEGER],
  ] as const)('reads GNU base-256 %s', (_label, offset, bytes, field, value) => {
    const h = decodeHeader(patch(block(), offset, [...bytes]));
    expect(h?.[field]).toBe(value);
  });

  it('refuses base-256 numbers past 2^53', () => {
    expect(
      codeOf(() =>
        decodeHeader(patch(block(), 124, [0x80, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])),
      ),
    ).toBe('ERR_LAYER_FORMAT');
  });

  it('writes base-256 for numbers that do not fit octal, and reads them back', () => {
    for (const uid of [0o7777777 + 1, 3_000_000, 2 ** 40]) expect(decodeHeader(block({ uid }))?.uid).toBe(uid);
    for (const mtime of [-1, -1_000_000, 2 ** 40]) expect(decodeHeader(block({ mtime }))?.mtime).toBe(mtime);
  });

  it('accepts unsigned and signed checksums, refuses wrong ones', () => {
    const name = Buffer.from('caf\u00e9-\u00fc', 'utf8'); // bytes >= 0x80 make the two sums differ
    expect(decodeHeader(block({ name }))?.name).toBe('caf\u00e9-\u00fc');
    expect(decodeHeader(block({ name, checksum: 'signed' }))?.name).toBe('caf\u00e9-\u00fc');
    const wrong = block({ name, checksum: 1234 });
    expect(codeOf(() => decodeHeader(wrong))).toBe('ERR_LAYER_FORMAT');
    expect(() => decodeHeader(wrong)).toThrow(/bad tar header checksum \(stored 1234/);
  });

  it('joins the ustar prefix, but not in GNU or v7 blocks', () => {
    expect(decodeHeader(block({ name: 'name', prefix: 'some/prefix' }))?.name).toBe('some/prefix/name');
    const gnu = block({ name: 'name', format: 'gnu' });
    patch(gnu, 345, 'not-a-prefix');
    expect(decodeHeader(gnu)).toMatchObject({ name: 'name', format: 'gnu' });
    const v7 = block({ name: 'old', format: 'v7', uname: 'ignored' });
    expect(decodeHeader(v7)).toMatchObject({ name: 'old', format: 'v7', uname: '' });
  });

  it('reads uname, gname, linkname and device numbers', () => {
    const h = decodeHeader(
      block({ typeflag: TYPEFLAG.char, linkname: 'l', uname: 'root', gname: 'wheel', devmajor: 1, devminor: 3 }),
    );
    expect(h).toMatchObject({ linkname: 'l', uname: 'root', gname: 'wheel', devmajor: 1, devminor: 3 });
  });

  it('keeps non-UTF-8 name bytes byte-exact', () => {
    const raw = Buffer.from([0x61, 0xff, 0x62, 0xc3]);
    const h = decodeHeader(block({ name: raw }));
    expect(h?.name).toBe('a\udcffb\udcc3');
    const back = encodeHeader({ name: h?.name ?? '', type: 'file', mode: 0, uid: 0, gid: 0, mtime: 0, size: 0 });
    // Not ASCII, so the path goes to PAX; both the record and the ustar field hold the raw bytes.
    const pax = decodeHeader(back)!;
    expect(parsePaxRecords(back.subarray(BLOCK_SIZE, BLOCK_SIZE + pax.size)).get('path')).toBe(h?.name);
    expect(back.subarray(back.length - BLOCK_SIZE, back.length - BLOCK_SIZE + 5)).toEqual(
      Buffer.concat([raw, Buffer.of(0)]),
    );
  });
});

describe('entryTypeOf', () => {
  it.each([
    [TYPEFLAG.file, 'f', 'file'],
    [TYPEFLAG.oldFile, 'f', 'file'],
    [TYPEFLAG.oldFile, 'd/', 'directory'],
    [TYPEFLAG.contiguous, 'f', 'file'],
    [TYPEFLAG.hardlink, 'f', 'hardlink'],
    [TYPEFLAG.symlink, 'f', 'symlink'],
    [TYPEFLAG.char, 'f', 'char'],
    [TYPEFLAG.block, 'f', 'block'],
    [TYPEFLAG.directory, 'd', 'directory'],
    [TYPEFLAG.fifo, 'f', 'fifo'],
    [TYPEFLAG.paxLocal, 'f', undefined],
    [TYPEFLAG.paxGlobal, 'f', undefined],
    [TYPEFLAG.gnuLongName, 'f', undefined],
    [TYPEFLAG.gnuLongLink, 'f', undefined],
  ])('typeflag %s (%s) is %s', (flag, name, type) => {
    expect(entryTypeOf(flag, name)).toBe(type);
  });

  it.each([
    [TYPEFLAG.gnuSparse, /'s' is a GNU sparse file/],
    ['V'.charCodeAt(0), /'s' has unknown typeflag 'V'/],
    ['D'.charCodeAt(0), /unknown typeflag 'D'/],
    [0x01, /unknown typeflag 0x01/],
  ])('refuses typeflag %s naming the entry', (flag, message) => {
    expect(() => entryTypeOf(flag, 's')).toThrow(message);
    expect(codeOf(() => entryTypeOf(flag, 's'))).toBe('ERR_LAYER_FORMAT');
  });
});

describe('PAX records', () => {
  it('round-trips records, including lengths that cross a digit boundary', () => {
    for (let n = 0; n < 120; n++) {
      const value = 'v'.repeat(n);
      const data = encodePaxRecords([['path', value]]);
      const len = Number(data.toString('latin1').split(' ')[0]);
      expect(len).toBe(data.length);
      expect(parsePaxRecords(data).get('path')).toBe(value);
    }
  });

  it('keeps xattr values as raw bytes and later duplicates win', () => {
    const data = encodePaxRecords([
      ['path', 'first'],
      ['SCHILY.xattr.security.capability', Buffer.from([0x01, 0x00, 0xff, 0x0a])],
      ['path', 'caf\u00e9'],
    ]);
    const records = parsePaxRecords(data);
    expect(records.get('path')).toBe('caf\u00e9');
    expect(records.get('SCHILY.xattr.security.capability')).toBe('\x01\x00\xff\n');
  });

  it('stops at NUL padding', () => {
    const data = Buffer.concat([encodePaxRecords([['uid', '5']]), Buffer.alloc(20)]);
    expect([...parsePaxRecords(data)]).toEqual([['uid', '5']]);
  });

  it.each([
    ['5 a=b\n\n', /length/],
    ['10 a=b\n', /length 10 does not match/],
    ['x a=b\n', /bad length/],
    ['6 ab \n', /no key=value/],
    ['7 =abc\n', /no key=value/],
    ['6 a=bc', /does not match/],
  ])('refuses malformed data %j', (text, message) => {
    expect(() => parsePaxRecords(Buffer.from(text))).toThrow(message);
  });
});

describe('resolveHeader', () => {
  const raw = decodeHeader(block({ name: 'ustar-name', linkname: 'ustar-link', uname: 'u', gname: 'g' }))!;
  const none = { global: undefined, local: undefined, longName: undefined, longLink: undefined };

  it('uses the block when nothing overrides it', () => {
    expect(resolveHeader(raw, none)).toEqual({
      name: 'ustar-name',
      linkname: 'ustar-link',
      size: 3,
      uid: 1,
      gid: 2,
      mtime: 1_700_000_000,
      uname: 'u',
      gname: 'g',
      xattrs: undefined,
    });
  });

  it('applies local PAX over GNU long names over global PAX', () => {
    const global = new Map([
      ['path', 'global-path'],
      ['uid', '7'],
      ['mtime', '12.5'],
      ['SCHILY.xattr.user.a', 'ga'],
    ]);
    const local = new Map([
      ['uid', '3000000'],
      ['gid', '9'],
      ['size', '123456789012'],
      ['uname', 'someone'],
      ['SCHILY.xattr.user.b', 'lb'],
      ['LIBARCHIVE.xattr.user.%3Dc', Buffer.from([0, 1, 2]).toString('base64')],
    ]);
    expect(resolveHeader(raw, { global, local, longName: 'gnu-name', longLink: 'gnu-link' })).toEqual({
      name: 'gnu-name',
      linkname: 'gnu-link',
      size: 123_456_789_012,
      uid: 3_000_000,
      gid: 9,
      mtime: 12.5,
      uname: 'someone',
      gname: 'g',
      xattrs: { 'user.a': 'ga', 'user.b': 'lb', 'user.=c': '\x00\x01\x02' },
    });
    expect(resolveHeader(raw, { ...none, global }).name).toBe('global-path');
    expect(resolveHeader(raw, { ...none, global, local: new Map([['path', 'local']]), longName: 'gnu' }).name).toBe(
      'local',
    );
  });

  it('treats an empty local value as unset (falls back to the block, not the global)', () => {
    const global = new Map([['uid', '7']]);
    expect(resolveHeader(raw, { ...none, global, local: new Map([['uid', '']]) }).uid).toBe(1);
  });

  it.each([
    ['uid', '-1'],
    ['gid', '1.5'],
    ['size', '99999999999999999999'],
    ['size', ''],
    ['mtime', 'abc'],
    ['mtime', '1e5'],
  ])('refuses bad PAX %s %j', (key, value) => {
    const local = new Map([[key, value]]);
    if (value === '') {
      expect(resolveHeader(raw, { ...none, local }).size).toBe(3);
      return;
    }
    expect(codeOf(() => resolveHeader(raw, { ...none, local }))).toBe('ERR_LAYER_FORMAT');
  });

  it('accepts negative and fractional PAX mtimes', () => {
    expect(resolveHeader(raw, { ...none, local: new Map([['mtime', '-12.25']]) }).mtime).toBe(-12.25);
    expect(resolveHeader(raw, { ...none, local: new Map([['mtime', '1700000000.123456789']]) }).mtime).toBeCloseTo(
      1700000000.1234567,
      6,
    );
  });

  it('refuses PAX sparse files', () => {
    expect(() => resolveHeader(raw, { ...none, local: new Map([['GNU.sparse.major', '1']]) })).toThrow(/GNU sparse/);
  });
});

describe('encodeHeader', () => {
  const plain: EncodeHeaderInput = {
    name: 'etc/passwd',
    type: 'file',
    mode: 0o644,
    uid: 0,
    gid: 0,
    mtime: 1_700_000_000,
    size: 5,
  };

  function paxOf(h: EncodeHeaderInput): Map<string, string> | undefined {
    const out = encodeHeader(h);
    if (out.length === BLOCK_SIZE) return undefined;
    const x = decodeHeader(out);
    expect(x?.typeflag).toBe(TYPEFLAG.paxLocal);
    return parsePaxRecords(out.subarray(BLOCK_SIZE, BLOCK_SIZE + (x?.size ?? 0)));
  }

  it('writes a single deterministic ustar block when everything fits', () => {
    const out = encodeHeader(plain);
    expect(out).toHaveLength(BLOCK_SIZE);
    expect(out.toString('latin1', 257, 265)).toBe('ustar\x0000');
    expect(out.toString('latin1', 100, 108)).toBe('0000644\0');
    expect(out.toString('latin1', 124, 136)).toBe('00000000005\0');
    expect(out.toString('latin1', 136, 148)).toBe(`${(1_700_000_000).toString(8)}\0`);
    expect(out.subarray(265, 329).every((b) => b === 0)).toBe(true); // uname and gname empty
    expect(encodeHeader(plain)).toEqual(out);
  });

  it.each<[string, Partial<EncodeHeaderInput>, Record<string, string> | undefined]>([
    ['mode 0', { mode: 0 }, undefined],
    ['a 150-byte ASCII path (prefix split)', { name: `${'d'.repeat(120)}/${'f'.repeat(29)}` }, undefined],
    ['a 100-byte name', { name: 'n'.repeat(100) }, undefined],
    ['a 101-byte name without slash', { name: 'n'.repeat(101) }, { path: 'n'.repeat(101) }],
    ['a non-ASCII path', { name: 'caf\u00e9' }, { path: 'caf\u00e9' }],
    ['a 300-byte path', { name: `${'a/'.repeat(150)}` }, { path: `${'a/'.repeat(150)}` }],
    ['a long link', { type: 'symlink', size: 0, linkname: 'l'.repeat(101) }, { linkpath: 'l'.repeat(101) }],
    ['a non-ASCII link', { type: 'symlink', size: 0, linkname: '\u00e9' }, { linkpath: '\u00e9' }],
    ['uid 0o7777777', { uid: 0o7777777 }, undefined],
    ['uid 0o10000000', { uid: 0o10000000 }, { uid: String(0o10000000) }],
    ['gid 3000000', { gid: 3_000_000 }, { gid: '3000000' }],
    ['size 8 GiB', { size: 8 * 1024 ** 3 }, { size: String(8 * 1024 ** 3) }],
    ['a fractional mtime', { mtime: 1.5 }, { mtime: '1.5' }],
    ['a negative mtime', { mtime: -10 }, { mtime: '-10' }],
    ['a tiny fractional mtime', { mtime: 1e-7 }, { mtime: '0.000000100' }],
    ['an mtime past 2242', { mtime: 0o77777777777 + 1 }, { mtime: String(0o77777777777 + 1) }],
    ['xattrs', { xattrs: { 'security.capability': '\x01\xff' } }, { 'SCHILY.xattr.security.capability': '\x01\xff' }],
  ])('PAX for %s', (_label, change, expected) => {
    const h = { ...plain, ...change };
    const pax = paxOf(h);
    expect(pax === undefined ? undefined : Object.fromEntries(pax)).toEqual(expected);
  });

  it('sorts PAX records and names the PAX header after the basename, cut to fit', () => {
    const name = `dir/${'\u00e9'.repeat(60)}`; // 120 bytes of UTF-8
    const out = encodeHeader({ ...plain, name, uid: 2 ** 30, xattrs: { b: '1', a: '2' } });
    const x = decodeHeader(out)!;
    expect(Buffer.byteLength(x.name)).toBeLessThanOrEqual(100);
    expect(x.name).toBe(`PaxHeaders/${'\u00e9'.repeat(44)}`);
    expect([...parsePaxRecords(out.subarray(BLOCK_SIZE, BLOCK_SIZE + x.size)).keys()]).toEqual([
      'SCHILY.xattr.a',
      'SCHILY.xattr.b',
      'path',
      'uid',
    ]);
    expect(encodeHeader({ ...plain, name, uid: 2 ** 30, xattrs: { a: '2', b: '1' } })).toEqual(out);
  });

  it('writes device numbers and masks mode type bits', () => {
    const out = encodeHeader({ ...plain, type: 'block', size: 0, mode: 0o60660, devmajor: 8, devminor: 1 });
    expect(decodeHeader(out)).toMatchObject({ typeflag: TYPEFLAG.block, mode: 0o660, devmajor: 8, devminor: 1 });
    expect(out.toString('latin1', 100, 108)).toBe('0000660\0');
  });

  it.each<[string, Partial<EncodeHeaderInput>]>([
    ['a negative uid', { uid: -1 }],
    ['a fractional size', { size: 1.5 }],
    ['an infinite mtime', { mtime: Infinity }],
    ['a NUL in the name', { name: 'a\0b' }],
    ['an xattr name with =', { xattrs: { 'a=b': 'x' } }],
  ])('refuses %s', (_label, change) => {
    expect(codeOf(() => encodeHeader({ ...plain, ...change }))).toBe('ERR_LAYER_FORMAT');
  });
});
