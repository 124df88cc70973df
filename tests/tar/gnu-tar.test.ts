/**
 * Interop with GNU tar: archives GNU tar writes (posix, gnu, ustar formats) parse to what
 * `tar -tv --numeric-owner` lists, and archives TarWriter writes list and extract with GNU tar
 * with the same types, modes, owners, sizes, times and link targets.
 */
import { beforeAll, describe, expect } from 'vitest';
import { test, it } from '../helpers/fixtures.js';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { readTarEntries } from '../../src/tar/read-tar-entries.js';
import { TarWriter } from '../../src/tar/writer.js';
import { normalizeEntryPath, normalizeLinkTarget } from '../../src/tar/path.js';
import type { TarEntryHeader, TarEntryInput } from '../../src/tar/types.js';
import { hasTool, missingToolMessage } from '../helpers/tools.js';

const HAVE_TAR = hasTool('tar');
const IS_ROOT = process.getuid?.() === 0;
const ENV = { ...process.env, TZ: 'UTC', LC_ALL: 'C.UTF-8' };

/** One line of `tar -tv`, in our terms. */
interface Listed {
  path: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: string;
  mtime: number;
  linkTarget?: string;
}

const TYPE_CHAR: Record<string, string> = {
  '-': 'file',
  d: 'directory',
  l: 'symlink',
  h: 'hardlink',
  c: 'char',
  b: 'block',
  p: 'fifo',
};

function modeOf(perm: string): number {
  let mode = 0;
  const bit = (i: number, set: string, value: number): void => {
    if (set.includes(perm[i] as string)) mode |= value;
  };
  for (const [i, shift] of [
    [1, 6],
    [4, 3],
    [7, 0],
  ] as const) {
    bit(i, 'r', 4 << shift);
    bit(i + 1, 'w', 2 << shift);
    bit(i + 2, 'xst', 1 << shift);
  }
  bit(3, 'sS', 0o4000);
  bit(6, 'sS', 0o2000);
  bit(9, 'tT', 0o1000);
  return mode;
}

function gnuList(tarFile: string): Listed[] {
  const out = execFileSync('tar', ['-tvf', tarFile, '--numeric-owner', '--full-time', '--quoting-style=literal'], {
    env: ENV,
  }).toString();
  return out
    .split('\n')
    .filter((l) => l !== '')
    .map((line) => {
      const m = /^(\S{10}) (\d+)\/(\d+)\s+(\S+) (\S+) (\S+) +(.*)$/.exec(line); // times are padded when some have fractions
      if (!m) throw new Error(`cannot parse tar listing line ${JSON.stringify(line)}`);
      const [, perm = '', uid, gid, size = '', date, time, rest = ''] = m;
      const type = TYPE_CHAR[perm[0] as string] ?? `unknown ${perm[0]}`;
      let name = rest;
      let linkTarget: string | undefined;
      const sep = type === 'symlink' ? ' -> ' : type === 'hardlink' ? ' link to ' : undefined;
      if (sep !== undefined) {
        const i = rest.indexOf(sep);
        name = rest.slice(0, i);
        linkTarget = rest.slice(i + sep.length);
        if (type === 'hardlink') linkTarget = normalizeLinkTarget(linkTarget);
      }
      const listed: Listed = {
        path: normalizeEntryPath(name),
        type,
        mode: modeOf(perm),
        uid: Number(uid),
        gid: Number(gid),
        size,
        mtime: Date.parse(`${date}T${time}Z`) / 1000,
      };
      if (linkTarget !== undefined) listed.linkTarget = linkTarget;
      return listed;
    });
}

function asListed(h: TarEntryHeader): Listed {
  const listed: Listed = {
    path: h.path,
    type: h.type,
    mode: h.mode,
    uid: h.uid,
    gid: h.gid,
    size: h.type === 'char' || h.type === 'block' ? `${h.devmajor},${h.devminor}` : String(h.size),
    mtime: h.mtime,
  };
  if (h.linkTarget !== undefined) listed.linkTarget = h.linkTarget;
  return listed;
}

async function ourEntries(tarFile: string): Promise<Array<{ header: TarEntryHeader; data: Buffer }>> {
  const out = [];
  for await (const e of readTarEntries([readFileSync(tarFile)])) out.push({ header: e.header, data: e.data });
  return out;
}

const LONG_DIR = `L/${'a'.repeat(120)}/${'b'.repeat(120)}`;
const LONG_FILE = `${LONG_DIR}/${'c'.repeat(60)}`;
const LONG_TARGET = `../${'t'.repeat(160)}`;
const RANDOM = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 2654435761) >>> 24));

describe.skipIf(!HAVE_TAR)('GNU tar interop', () => {
  let tmp: string;
  let src: string;
  let hasDevice = false;

  test.beforeAll(({ fileTmp }) => {
    tmp = fileTmp;
    src = join(tmp, 'src');
    mkdirSync(join(src, 'd/sticky'), { recursive: true });
    chmodSync(join(src, 'd/sticky'), 0o1777);
    writeFileSync(join(src, 'd/f'), 'hello\n');
    writeFileSync(join(src, 'd/zero'), 'mode 0\n');
    chmodSync(join(src, 'd/zero'), 0);
    writeFileSync(join(src, 'd/suid'), '#!/bin/sh\n');
    chmodSync(join(src, 'd/suid'), 0o4755);
    writeFileSync(join(src, 'd/empty'), '');
    writeFileSync(join(src, 'd/random'), RANDOM);
    symlinkSync('f', join(src, 'd/l'));
    symlinkSync('/etc/passwd', join(src, 'd/abs'));
    symlinkSync(LONG_TARGET, join(src, 'd/longlink'));
    linkSync(join(src, 'd/f'), join(src, 'd/hard'));
    writeFileSync(join(src, 'caf\u00e9'), 'nfc');
    writeFileSync(join(src, 'cafe\u0301'), 'nfd');
    mkdirSync(join(src, 'sp ace'));
    writeFileSync(join(src, 'sp ace/back\\slash'), 'bs');
    mkdirSync(join(src, LONG_DIR), { recursive: true });
    writeFileSync(join(src, LONG_FILE), 'deep');
    execFileSync('mkfifo', [join(src, 'fifo')]);
    try {
      execFileSync('mknod', [join(src, 'null'), 'c', '1', '3']);
      hasDevice = true;
    } catch {
      hasDevice = false;
    }
  });

  it.each([
    ['posix', ['--owner=someone:3000000', '--group=grp:3000001', '--mtime=@1700000000.5']],
    ['gnu', ['--owner=someone:3000000', '--group=grp:5', '--mtime=@1700000000']],
    [
      'ustar',
      ['--owner=someone:1000', '--group=grp:1000', '--mtime=@1700000000', '--exclude=./L', '--exclude=./d/longlink'],
    ],
    [
      'v7',
      [
        '--owner=someone:1000',
        '--group=grp:1000',
        '--mtime=@1700000000',
        '--exclude=./L',
        '--exclude=./d/longlink',
        '--exclude=./caf*',
        '--exclude=./fifo',
        '--exclude=./null',
      ],
    ],
  ])('reads what GNU tar --format=%s writes exactly as tar -tv lists it', async (format, args) => {
    const file = join(tmp, `${format}.tar`);
    execFileSync('tar', [`--format=${format}`, ...args, '-cf', file, '-C', src, '.'], { env: ENV });
    const listed = gnuList(file);
    const ours = await ourEntries(file);
    expect(ours.map((e) => asListed(e.header))).toEqual(listed);
    expect(listed.length).toBeGreaterThan(10);
    for (const { header, data } of ours) {
      if (header.type === 'file') expect(data.equals(readFileSync(join(src, header.path)))).toBe(true);
    }
    if (format !== 'v7') {
      const names = ours.map((e) => e.header.path);
      expect(names).toContain('caf\u00e9');
      if (format !== 'ustar') expect(names).toContain(LONG_FILE);
    }
  });

  it('refuses GNU sparse archives (old GNU and PAX sparse formats)', async () => {
    const sparseDir = join(tmp, 'sparse');
    mkdirSync(sparseDir);
    writeFileSync(join(sparseDir, 'holes'), '');
    truncateSync(join(sparseDir, 'holes'), 1 << 20);
    writeFileSync(join(sparseDir, 'holes'), 'data at the start', { flag: 'r+' });
    for (const args of [
      ['--format=gnu'],
      ['--format=posix', '--sparse-version=1.0'],
      ['--format=posix', '--sparse-version=0.1'],
    ]) {
      const file = join(tmp, `sparse-${args.join('')}.tar`);
      execFileSync('tar', [...args, '-S', '-cf', file, '-C', sparseDir, 'holes'], { env: ENV });
      await expect(ourEntries(file), args.join(' ')).rejects.toMatchObject({
        code: 'ERR_LAYER_FORMAT',
        message: expect.stringMatching(/sparse/),
      });
    }
  });

  describe('archives TarWriter writes', () => {
    const entries: Array<{ header: TarEntryInput; data?: Buffer }> = [
      { header: { path: '', type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: 1_600_000_000 } },
      { header: { path: 'd', type: 'directory', mode: 0o750, uid: 3_000_000, gid: 3_000_001, mtime: 1_600_000_000 } },
      {
        header: { path: 'd/f', type: 'file', mode: 0o644, uid: 1, gid: 2, mtime: 1_700_000_000 },
        data: Buffer.from('hello\n'),
      },
      {
        header: { path: 'd/zero', type: 'file', mode: 0, uid: 0, gid: 0, mtime: 1_700_000_000 },
        data: Buffer.from('x'),
      },
      {
        header: { path: 'd/suid', type: 'file', mode: 0o6755, uid: 0, gid: 0, mtime: 1_700_000_000.25 },
        data: Buffer.alloc(0),
      },
      { header: { path: 'd/sticky', type: 'directory', mode: 0o1777, uid: 0, gid: 0, mtime: 1_600_000_000 } },
      { header: { path: 'd/random', type: 'file', mode: 0o600, uid: 65_534, gid: 65_534, mtime: 0 }, data: RANDOM },
      { header: { path: 'd/l', type: 'symlink', mode: 0o777, uid: 0, gid: 0, mtime: 1_700_000_000, linkTarget: 'f' } },
      {
        header: {
          path: 'd/longlink',
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
          path: 'd/hard',
          type: 'hardlink',
          mode: 0o644,
          uid: 1,
          gid: 2,
          mtime: 1_700_000_000,
          linkTarget: 'd/f',
        },
      },
      {
        header: { path: 'caf\u00e9', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 1_700_000_000 },
        data: Buffer.from('nfc'),
      },
      {
        header: { path: 'cafe\u0301', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 1_700_000_000 },
        data: Buffer.from('nfd'),
      },
      { header: { path: 'sp ace', type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: 1_700_000_000 } },
      {
        header: { path: 'sp ace/back\\slash', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 1_700_000_000 },
        data: Buffer.from('bs'),
      },
      { header: { path: 'L', type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: 1_700_000_000 } },
      {
        header: { path: `L/${'a'.repeat(120)}`, type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: 1_700_000_000 },
      },
      { header: { path: LONG_DIR, type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: 1_700_000_000 } },
      {
        header: { path: LONG_FILE, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 1_700_000_000 },
        data: Buffer.from('deep'),
      },
      { header: { path: 'fifo', type: 'fifo', mode: 0o600, uid: 0, gid: 0, mtime: 1_700_000_000 } },
      {
        header: {
          path: 'null',
          type: 'char',
          mode: 0o666,
          uid: 0,
          gid: 0,
          mtime: 1_700_000_000,
          devmajor: 1,
          devminor: 3,
        },
      },
      {
        header: {
          path: 'loop9',
          type: 'block',
          mode: 0o660,
          uid: 0,
          gid: 6,
          mtime: 1_700_000_000,
          devmajor: 7,
          devminor: 300,
        },
      },
      { header: { path: 'd/.wh.gone', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 1_700_000_000 } },
      {
        header: {
          path: 'x',
          type: 'file',
          mode: 0o644,
          uid: 0,
          gid: 0,
          mtime: 1_700_000_000,
          xattrs: { 'user.k': 'v', 'security.capability': '\x01\x00\x00\x02' },
        },
        data: Buffer.from('x'),
      },
    ];
    let ours: string;

    beforeAll(async () => {
      const writer = new TarWriter();
      const chunks: Buffer[] = [];
      const reading = (async () => {
        for await (const c of writer) chunks.push(c as Buffer);
      })();
      for (const e of entries) await writer.add(e.header, e.data);
      await writer.finish();
      await reading;
      ours = join(tmp, 'ours.tar');
      writeFileSync(ours, Buffer.concat(chunks));
    });

    it('list with GNU tar exactly as we wrote them', async () => {
      const expected = (await ourEntries(ours)).map((e) => asListed(e.header));
      expect(expected.map((e) => e.path)).toEqual(entries.map((e) => e.header.path));
      expect(expected.find((e) => e.path === 'd/.wh.gone')?.mtime).toBe(0);
      expect(gnuList(ours)).toEqual(expected);
    });

    it.runIf(IS_ROOT)('extract with GNU tar with the same modes, owners, times, link targets and data', () => {
      const out = join(tmp, 'extracted');
      mkdirSync(out);
      execFileSync('tar', ['-xpf', ours, '--numeric-owner', '--same-owner', '-C', out], { env: ENV });
      for (const { header, data } of entries) {
        if (header.path === '') continue;
        const at = join(out, header.path);
        const st = lstatSync(at);
        const kind = st.isFile()
          ? 'file'
          : st.isDirectory()
            ? 'directory'
            : st.isSymbolicLink()
              ? 'symlink'
              : st.isCharacterDevice()
                ? 'char'
                : st.isBlockDevice()
                  ? 'block'
                  : st.isFIFO()
                    ? 'fifo'
                    : 'other';
        const want = header.type === 'hardlink' ? 'file' : header.type;
        expect([header.path, kind]).toEqual([header.path, want]);
        if (header.type !== 'symlink') expect([header.path, st.mode & 0o7777]).toEqual([header.path, header.mode]);
        expect([header.path, st.uid, st.gid]).toEqual([header.path, header.uid, header.gid]);
        const mtime = header.path.includes('/.wh.') ? 0 : header.mtime; // whiteouts are written with mtime 0
        if (header.type !== 'symlink') expect([header.path, st.mtimeMs / 1000]).toEqual([header.path, mtime]);
        if (header.type === 'symlink') expect(readlinkSync(at)).toBe(header.linkTarget);
        if (header.type === 'hardlink') expect(st.ino).toBe(lstatSync(join(out, header.linkTarget ?? '')).ino);
        if (header.type === 'file') expect(readFileSync(at).equals(data ?? Buffer.alloc(0))).toBe(true);
        if (header.type === 'char' || header.type === 'block') {
          const major = Math.floor(st.rdev / 256) & 0xfff;
          const minor = (st.rdev & 0xff) | ((Math.floor(st.rdev / 4096) & 0xfff00) >>> 0);
          expect([major, minor]).toEqual([header.devmajor, header.devminor]);
        }
      }
    });

    if (!IS_ROOT)
      it('extraction check needs root to set owners and make devices', (ctx) => {
        ctx.skip('not running as root');
      });
  });

  it('has the devices it needs when root', () => {
    if (IS_ROOT) expect(hasDevice).toBe(true);
  });
});

if (!HAVE_TAR)
  describe('GNU tar interop (skipped)', () => {
    it('needs GNU tar', (ctx) => {
      ctx.skip(missingToolMessage('tar'));
    });
  });
