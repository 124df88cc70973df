/**
 * Interop with tar-stream, an independent JS tar implementation: tar-stream parses what
 * TarWriter writes, and TarParser parses what tar-stream's pack writes.
 */
import { describe, expect, it } from 'vitest';
import { extract, pack, type Header } from 'tar-stream';
import { readTarEntries } from '../../src/tar/read-tar-entries.js';
import { TarWriter } from '../../src/tar/writer.js';
import { normalizeEntryPath } from '../../src/tar/path.js';
import type { TarEntryHeader, TarEntryInput } from '../../src/tar/types.js';

async function collect(source: AsyncIterable<unknown>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of source) out.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(out);
}

const LONG_UNICODE = `usr/share/${'\u00fc'.repeat(80)}/${'x'.repeat(90)}.txt`;
const LONG_TARGET = `../../${'target/'.repeat(40)}file`;

describe('TarWriter output read by tar-stream', () => {
  const entries: Array<{ header: TarEntryInput; data?: Buffer }> = [
    { header: { path: 'etc', type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: 1_700_000_000 } },
    {
      header: { path: 'etc/passwd', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 1_700_000_000 },
      data: Buffer.from('root:x:0:0::/root:/bin/sh\n'),
    },
    {
      header: { path: LONG_UNICODE, type: 'file', mode: 0o4755, uid: 1000, gid: 1000, mtime: 1_700_000_123 },
      data: Buffer.alloc(70_000, 'u'),
    },
    {
      header: { path: 'big-ids', type: 'file', mode: 0o600, uid: 3_000_000, gid: 4_000_000, mtime: 1_700_000_000.75 },
      data: Buffer.from('ids'),
    },
    {
      header: {
        path: 'link',
        type: 'symlink',
        mode: 0o777,
        uid: 0,
        gid: 0,
        mtime: 1_700_000_000,
        linkTarget: LONG_TARGET,
      },
    },
    {
      header: {
        path: 'hard',
        type: 'hardlink',
        mode: 0o644,
        uid: 0,
        gid: 0,
        mtime: 1_700_000_000,
        linkTarget: 'etc/passwd',
      },
    },
    {
      header: {
        path: 'dev/null',
        type: 'char',
        mode: 0o666,
        uid: 0,
        gid: 0,
        mtime: 1_700_000_000,
        devmajor: 1,
        devminor: 3,
      },
    },
    { header: { path: 'pipe', type: 'fifo', mode: 0o600, uid: 0, gid: 0, mtime: 1_700_000_000 } },
    {
      header: {
        path: 'cap',
        type: 'file',
        mode: 0o755,
        uid: 0,
        gid: 0,
        mtime: 1_700_000_000,
        xattrs: { 'security.capability': 'cap', 'user.k': 'v' },
      },
      data: Buffer.from('#!'),
    },
  ];

  it('parses every entry with the same names, types, sizes, link targets, ids and data', async () => {
    const writer = new TarWriter();
    const bytes = collect(writer);
    for (const e of entries) await writer.add(e.header, e.data);
    await writer.finish();
    const tar = await bytes;

    const seen: Array<{ header: Header; data: Buffer }> = [];
    const ex = extract();
    const done = (async () => {
      for await (const entry of ex) seen.push({ header: entry.header, data: await collect(entry) });
    })();
    ex.end(tar);
    await done;

    const typeOf: Record<string, string> = {
      file: 'file',
      directory: 'directory',
      symlink: 'symlink',
      hardlink: 'link',
      char: 'character-device',
      fifo: 'fifo',
    };
    expect(seen).toHaveLength(entries.length);
    seen.forEach(({ header, data }, i) => {
      const want = entries[i]!;
      const pax = (header.pax ?? {}) as Record<string, string>;
      expect(normalizeEntryPath(header.name)).toBe(want.header.path);
      expect(header.type).toBe(typeOf[want.header.type]);
      expect(header.mode).toBe(want.header.mode);
      // tar-stream ignores PAX uid/gid/mtime: they are in `pax`, where GNU tar and Go read them.
      expect(Number(pax.uid ?? header.uid)).toBe(want.header.uid);
      expect(Number(pax.gid ?? header.gid)).toBe(want.header.gid);
      expect(Number(pax.mtime ?? header.mtime.getTime() / 1000)).toBe(want.header.mtime);
      expect(data.equals(want.data ?? Buffer.alloc(0))).toBe(true);
      if (want.header.linkTarget !== undefined) expect(header.linkname).toBe(want.header.linkTarget);
      if (want.header.type === 'char') expect([header.devmajor, header.devminor]).toEqual([1, 3]);
      if (want.header.xattrs) expect(pax['SCHILY.xattr.user.k']).toBe('v');
    });
  });
});

describe('tar-stream output read by TarParser', () => {
  it('parses every entry tar-stream packs, including PAX names, links, devices and streamed data', async () => {
    const p = pack();
    const mtime = new Date(1_700_000_000_000);
    const LONG_SPLIT = `${'p'.repeat(120)}/${'n'.repeat(40)}`;
    const LONG_FLAT = 'f'.repeat(300);
    p.entry({ name: 'dir/', type: 'directory', mode: 0o755, mtime });
    p.entry({ name: 'dir/file.txt', mode: 0o640, uid: 12, gid: 34, mtime }, 'hello');
    p.entry({ name: LONG_SPLIT, mode: 0o644, mtime }, 'split');
    p.entry({ name: LONG_FLAT, mode: 0o644, mtime }, 'flat');
    p.entry({ name: 'caf\u00e9', mode: 0o644, mtime }, 'unicode');
    p.entry({ name: 'sym', type: 'symlink', linkname: 'l'.repeat(200), mode: 0o777, mtime });
    p.entry({ name: 'hard', type: 'link', linkname: 'dir/file.txt', mode: 0o640, mtime });
    p.entry({ name: 'tty', type: 'character-device', devmajor: 5, devminor: 0, mode: 0o620, mtime });
    p.entry({ name: 'sda', type: 'block-device', devmajor: 8, devminor: 0, mode: 0o660, mtime });
    p.entry({ name: 'fifo', type: 'fifo', mode: 0o644, mtime });
    p.entry({ name: 'contig', type: 'contiguous-file', mode: 0o644, mtime }, 'c');
    p.entry({ name: 'suid', mode: 0o4755, uid: 262_143, gid: 262_143, mtime }, '');
    p.entry({ name: 'custom-pax', mode: 0o644, mtime, pax: { 'SCHILY.xattr.user.x': 'y' } }, 'x');
    const streamed = p.entry({ name: 'streamed', size: 100_000, mode: 0o644, mtime });
    for (let i = 0; i < 10; i++) streamed.write(Buffer.alloc(10_000, i));
    streamed.end(Buffer.alloc(0)); // streamx typings want an argument
    p.finalize();
    const tar = await collect(p);

    const got: Array<[string, Partial<TarEntryHeader>, string]> = [];
    for await (const e of readTarEntries([tar])) {
      const { path, type, mode, uid, gid, mtime: t, size, linkTarget, devmajor, devminor, xattrs } = e.header;
      const fields: Partial<TarEntryHeader> = { type, mode, uid, gid, mtime: t, size };
      if (linkTarget !== undefined) fields.linkTarget = linkTarget;
      if (devmajor !== undefined) Object.assign(fields, { devmajor, devminor });
      if (xattrs !== undefined) fields.xattrs = xattrs;
      got.push([path, fields, e.data.length > 20 ? `${e.data.length} bytes` : e.data.toString()]);
    }
    const base = { uid: 0, gid: 0, mtime: 1_700_000_000, size: 0 };
    expect(got).toEqual([
      ['dir', { ...base, type: 'directory', mode: 0o755 }, ''],
      ['dir/file.txt', { ...base, type: 'file', mode: 0o640, uid: 12, gid: 34, size: 5 }, 'hello'],
      [LONG_SPLIT, { ...base, type: 'file', mode: 0o644, size: 5 }, 'split'],
      [LONG_FLAT, { ...base, type: 'file', mode: 0o644, size: 4 }, 'flat'],
      ['caf\u00e9', { ...base, type: 'file', mode: 0o644, size: 7 }, 'unicode'],
      ['sym', { ...base, type: 'symlink', mode: 0o777, linkTarget: 'l'.repeat(200) }, ''],
      ['hard', { ...base, type: 'hardlink', mode: 0o640, linkTarget: 'dir/file.txt' }, ''],
      ['tty', { ...base, type: 'char', mode: 0o620, devmajor: 5, devminor: 0 }, ''],
      ['sda', { ...base, type: 'block', mode: 0o660, devmajor: 8, devminor: 0 }, ''],
      ['fifo', { ...base, type: 'fifo', mode: 0o644 }, ''],
      ['contig', { ...base, type: 'file', mode: 0o644, size: 1 }, 'c'],
      ['suid', { ...base, type: 'file', mode: 0o4755, uid: 262_143, gid: 262_143 }, ''],
      ['custom-pax', { ...base, type: 'file', mode: 0o644, size: 1, xattrs: { 'user.x': 'y' } }, 'x'],
      ['streamed', { ...base, type: 'file', mode: 0o644, size: 100_000 }, '100000 bytes'],
    ]);
  });
});
