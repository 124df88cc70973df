/** Semantics tables for the union view: one rule per row, overlayfs as the reference. */
import { describe, expect, it } from 'vitest';
import { createMemoryLayer } from '../../src/layer/memory-layer.js';
import type { ExecutorFs } from '../../src/union/fs-contract.js';
import type { TarEntryInput } from '../../src/tar/types.js';
import { FsError } from '../../src/errors.js';
import { createUnionFS, deserializeUpper, serializeUpper, type UnionFS } from '../../src/union/index.js';

const base = createMemoryLayer({
  entries: [
    { path: 'etc', type: 'directory', mode: 0o755, mtime: 100 },
    { path: 'etc/passwd', type: 'file', data: 'root:x:0:0\n', mode: 0o644, mtime: 100 },
    { path: 'etc/hosts', type: 'file', data: '127.0.0.1 localhost\n' },
    { path: 'etc/hostname', type: 'hardlink', linkTarget: 'etc/hosts' },
    { path: 'usr', type: 'directory' },
    { path: 'usr/bin', type: 'directory', mode: 0o750, uid: 2, gid: 3 },
    { path: 'usr/bin/sh', type: 'file', data: '#!sh', mode: 0o755 },
    { path: 'usr/lib', type: 'directory' },
    { path: 'usr/lib/a.so', type: 'file', data: 'A' },
    { path: 'usr/lib/b.so', type: 'file', data: 'B' },
    { path: 'bin', type: 'symlink', linkTarget: 'usr/bin' },
    { path: 'escape', type: 'symlink', linkTarget: '../../../etc' },
    { path: 'abs', type: 'symlink', linkTarget: '/etc/passwd' },
    { path: 'loop1', type: 'symlink', linkTarget: 'loop2' },
    { path: 'loop2', type: 'symlink', linkTarget: 'loop1' },
    { path: 'dev', type: 'directory' },
    { path: 'dev/null', type: 'char', devmajor: 1, devminor: 3, mode: 0o666 },
    { path: 'opt', type: 'directory' },
    { path: 'opt/old', type: 'file', data: 'old' },
  ],
});
const top = createMemoryLayer({
  entries: [
    { path: 'usr/lib/c.so', type: 'file', data: 'C' },
    { path: 'opt', type: 'directory', mode: 0o700 },
    { path: 'opt/new', type: 'file', data: 'new' },
    { path: 'var', type: 'file', data: 'not a dir' },
  ],
  whiteouts: ['usr/lib/a.so'],
  opaqueDirs: ['opt'],
});

const mount = (opts: { readOnly?: boolean } = {}): UnionFS =>
  createUnionFS({ layers: [base, top], clock: () => 1_700_000_000_000, ...opts });
const codeOf = async (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'ok',
    (e: { code: string }) => e.code,
  );
const headers = (fs: UnionFS): string[] =>
  fs
    .diff()
    .map(
      (e) =>
        `${e.header.path} ${e.header.type} ${e.header.mode.toString(8)}${e.header.linkTarget ? ` -> ${e.header.linkTarget}` : ''}`,
    );

describe('lookup across layers', () => {
  it.each([
    ['/usr/lib', ['b.so', 'c.so']], // whiteout hides a.so; directories merge
    ['/opt', ['new']], // opaque directory hides the lower old
    ['/', ['abs', 'bin', 'dev', 'escape', 'etc', 'loop1', 'loop2', 'opt', 'usr', 'var']],
  ])('readdir %s', async (path, names) => {
    expect(await mount().readdir(path)).toEqual(names);
  });

  it('takes directory attributes from the topmost layer', async () => {
    const st = await mount().stat('/opt');
    expect(st.mode & 0o7777).toBe(0o700);
    expect(st.isDirectory()).toBe(true);
  });

  it('a whiteout ends lookup with ENOENT, a non-directory hides the lower subtree', async () => {
    const fs = mount();
    expect(await codeOf(fs.stat('/usr/lib/a.so'))).toBe('ENOENT');
    expect(await codeOf(fs.stat('/opt/old'))).toBe('ENOENT');
    expect(await codeOf(fs.stat('/var/x'))).toBe('ENOTDIR');
  });

  it('reports fs.Stats-shaped attributes', async () => {
    const fs = mount();
    const st = await fs.stat('/usr/bin');
    expect({ mode: st.mode, uid: st.uid, gid: st.gid }).toEqual({ mode: 0o40750, uid: 2, gid: 3 });
    const p = await fs.stat('/etc/passwd');
    expect([p.size, p.mtimeMs, p.mtime.getTime(), p.isFile(), p.blocks, p.blksize]).toEqual([
      11,
      100_000,
      100_000,
      true,
      8,
      4096,
    ]);
    const dev = await fs.stat('/dev/null');
    expect([dev.isCharacterDevice(), dev.rdev]).toEqual([true, 259]);
    expect((await fs.stat('/etc/passwd')).ino).toBe(p.ino);
    expect((await fs.stat('/etc/hostname')).ino).toBe((await fs.stat('/etc/hosts')).ino);
    expect((await fs.stat('/etc/hosts')).nlink).toBe(2);
    const dirents = await fs.readdir('/etc', { withFileTypes: true });
    expect(dirents.map((d) => [d.name, d.isFile(), d.isDirectory(), d.parentPath])).toEqual([
      ['hostname', true, false, '/etc'],
      ['hosts', true, false, '/etc'],
      ['passwd', true, false, '/etc'],
    ]);
  });
});

describe('symlinks stay inside the image', () => {
  it.each([
    ['/bin/sh', '#!sh'],
    ['/escape/passwd', 'root:x:0:0\n'], // .. stops at the image root
    ['/abs', 'root:x:0:0\n'], // an absolute target starts at the image root
    ['usr/../etc/passwd', 'root:x:0:0\n'], // relative paths start at /
  ])('%s', async (path, content) => {
    expect(await mount().readFile(path, 'utf8')).toBe(content);
  });

  it('ELOOP after 40 hops, realpath, readlink', async () => {
    const fs = mount();
    expect(await codeOf(fs.readFile('/loop1'))).toBe('ELOOP');
    expect(await fs.realpath('/bin/sh')).toBe('/usr/bin/sh');
    expect(await fs.realpath('/escape')).toBe('/etc');
    expect(await fs.readlink('/escape')).toBe('../../../etc');
    expect(await codeOf(fs.readlink('/etc'))).toBe('EINVAL');
  });

  it('writes through a symlink land inside the image', async () => {
    const fs = mount();
    await fs.writeFile('/escape/new', 'x');
    expect(await fs.readFile('/etc/new', 'utf8')).toBe('x');
  });
});

describe('copy-up, whiteouts and opaque directories', () => {
  it('first write copies the file up with its metadata and its parents', async () => {
    const fs = mount();
    await fs.appendFile('/usr/bin/sh', '!');
    expect(await fs.readFile('/usr/bin/sh', 'utf8')).toBe('#!sh!');
    expect(headers(fs)).toEqual(['usr directory 755', 'usr/bin directory 750', 'usr/bin/sh file 755']);
    expect(fs.changes()).toEqual([{ kind: 'modified', path: '/usr/bin/sh' }]);
  });

  it('chmod copies up metadata only; the bytes stay in the lower layer until diff', async () => {
    const fs = mount();
    await fs.chmod('/etc/passwd', 0o600);
    const rec = fs.upper.records.get('etc/passwd');
    expect(rec?.kind === 'node' && rec.inode.lazy).toEqual({ layer: 0, path: 'etc/passwd' });
    expect(rec?.kind === 'node' && rec.inode.data).toBe(undefined);
    const entry = fs.diff().find((e) => e.header.path === 'etc/passwd')!;
    expect([entry.header.mode, entry.header.size, entry.data!().toString()]).toEqual([0o600, 11, 'root:x:0:0\n']);
    await fs.appendFile('/etc/passwd', 'x');
    expect(rec?.kind === 'node' && rec.inode.lazy).toBe(undefined);
  });

  it.each<[string, (fs: UnionFS) => Promise<unknown>, string[]]>([
    ['rm -r of a lower directory is one whiteout', (fs) => fs.rm('/usr', { recursive: true }), ['.wh.usr file 0']],
    ['unlink of a lower file', (fs) => fs.unlink('/etc/hosts'), ['etc directory 755', 'etc/.wh.hosts file 0']],
    [
      'removing an upper-only file leaves nothing',
      async (fs) => {
        await fs.writeFile('/tmpfile', 'x');
        await fs.unlink('/tmpfile');
      },
      [],
    ],
    [
      'rm -r and mkdir makes the directory opaque',
      async (fs) => {
        await fs.rm('/usr/lib', { recursive: true });
        await fs.mkdir('/usr/lib');
      },
      ['usr directory 755', 'usr/lib directory 755', 'usr/lib/.wh..wh..opq file 0'],
    ],
    [
      'creating a file where a whiteout is replaces it',
      async (fs) => {
        await fs.unlink('/etc/hosts');
        await fs.writeFile('/etc/hosts', 'new');
      },
      ['etc directory 755', 'etc/hosts file 644'],
    ],
    [
      'no whiteout under a deleted parent',
      async (fs) => {
        await fs.unlink('/usr/lib/b.so');
        await fs.rm('/usr/lib', { recursive: true });
      },
      ['usr directory 755', 'usr/.wh.lib file 0'],
    ],
    [
      'no whiteout for what the image lacks',
      async (fs) => {
        await fs.mkdir('/new');
        await fs.writeFile('/new/f', '');
        await fs.rm('/new', { recursive: true });
      },
      [],
    ],
    [
      'replace a file by a directory and back',
      async (fs) => {
        await fs.unlink('/var');
        await fs.mkdir('/var');
        await fs.rmdir('/var');
        await fs.writeFile('/var', 'f');
      },
      ['var file 644'],
    ],
    [
      'link() of a lower file copies it up; the second name is a hardlink entry',
      (fs) => fs.link('/usr/bin/sh', '/sh2'),
      ['sh2 file 755', 'usr directory 755', 'usr/bin directory 750', 'usr/bin/sh hardlink 755 -> sh2'],
    ],
    [
      'rename of a lower directory: copy-up of the subtree and a whiteout',
      (fs) => fs.rename('/usr/lib', '/lib'),
      ['lib directory 755', 'lib/b.so file 644', 'lib/c.so file 644', 'usr directory 755', 'usr/.wh.lib file 0'],
    ],
    [
      'rename over an empty lower directory makes it opaque',
      async (fs) => {
        await fs.rm('/opt/new');
        await fs.rename('/usr/bin', '/opt');
      },
      ['opt directory 750', 'opt/.wh..wh..opq file 0', 'opt/sh file 755', 'usr directory 755', 'usr/.wh.bin file 0'],
    ],
  ])('%s', async (_name, act, expected) => {
    const fs = mount();
    await act(fs);
    expect(headers(fs)).toEqual(expected);
  });

  it('diff is deterministic and its whiteouts are empty mode-0 epoch files', async () => {
    const run = async (): Promise<unknown> => {
      const fs = mount();
      await fs.rm('/usr', { recursive: true });
      await fs.writeFile('/b', 'x');
      return fs.diff().map((e) => [e.header, e.data?.().toString('hex')]);
    };
    const first = await run();
    expect(first).toEqual(await run());
    expect((first as Array<[{ path: string }]>)[0]![0]).toEqual({
      path: '.wh.usr',
      type: 'file',
      mode: 0,
      uid: 0,
      gid: 0,
      mtime: 0,
      size: 0,
    });
  });

  it.each([
    [
      'only copied up (a child made and removed, the time put back)',
      async (fs: UnionFS) => fs.utimes('/etc', 100, 100),
      [],
    ],
    ['its mtime changed', async () => undefined, ['etc directory 755']],
    [
      'its mode changed',
      async (fs: UnionFS) => (await fs.utimes('/etc', 100, 100), fs.chmod('/etc', 0o700)),
      ['etc directory 700'],
    ],
    [
      'a child kept',
      async (fs: UnionFS) => (await fs.utimes('/etc', 100, 100), fs.mkdir('/etc/kept')),
      ['etc directory 755', 'etc/kept directory 755'],
    ],
  ] as const)('a lower directory %s: diff has %j', async (_what, then, expected) => {
    const fs = mount();
    await fs.mkdir('/etc/stub');
    await fs.rmdir('/etc/stub');
    await then(fs);
    expect(headers(fs)).toEqual(expected);
  });
});

describe('hard links (kernel index=off on copy-up, shared inodes in the upper)', () => {
  it('a copy-up breaks a lower hard link; upper links share writes', async () => {
    const fs = mount();
    await fs.appendFile('/etc/hosts', '::1\n');
    expect(await fs.readFile('/etc/hostname', 'utf8')).toBe('127.0.0.1 localhost\n');
    await fs.link('/etc/hosts', '/etc/hosts2');
    await fs.appendFile('/etc/hosts2', 'more\n');
    expect(await fs.readFile('/etc/hosts', 'utf8')).toBe('127.0.0.1 localhost\n::1\nmore\n');
    expect((await fs.stat('/etc/hosts')).nlink).toBe(2);
    expect((await fs.stat('/etc/hosts')).ino).toBe((await fs.stat('/etc/hosts2')).ino);
  });
});

describe('rename(2) rules', () => {
  it.each([
    ['/etc', '/etc/sub', 'EINVAL'],
    ['/usr/lib/b.so', '/usr', 'ENOTEMPTY'],
    ['/etc', '/usr', 'ENOTEMPTY'],
    ['/etc', '/var', 'ENOTDIR'],
    ['/var', '/etc', 'EISDIR'],
    ['/nope', '/x', 'ENOENT'],
    ['/etc/hosts', '/etc/hostname', 'ok'],
    ['/etc/passwd', '/etc/passwd', 'ok'],
  ])('rename %s %s → %s', async (from, to, code) => {
    expect(await codeOf(mount().rename(from, to))).toBe(code);
  });
});

describe('errors are Node-shaped', () => {
  it.each<[string, (fs: UnionFS) => Promise<unknown>, string]>([
    ['open', (fs) => fs.readFile('/nope'), "ENOENT: no such file or directory, open '/nope'"],
    ['scandir', (fs) => fs.readdir('/etc/passwd'), "ENOTDIR: not a directory, scandir '/etc/passwd'"],
    ['mkdir', (fs) => fs.mkdir('/etc'), "EEXIST: file already exists, mkdir '/etc'"],
    ['rmdir', (fs) => fs.rmdir('/etc'), "ENOTEMPTY: directory not empty, rmdir '/etc'"],
    ['unlink', (fs) => fs.unlink('/etc'), "EISDIR: illegal operation on a directory, unlink '/etc'"],
    ['read', (fs) => fs.readFile('/etc'), 'EISDIR: illegal operation on a directory, read'],
    ['symlink', (fs) => fs.symlink('/x', '/etc'), "EEXIST: file already exists, symlink '/x' -> '/etc'"],
    ['rename', (fs) => fs.rename('/nope', '/x'), "ENOENT: no such file or directory, rename '/nope' -> '/x'"],
    ['rmdir root', (fs) => fs.rmdir('/'), "EBUSY: resource busy or locked, rmdir '/'"],
    ['access X_OK', (fs) => fs.access('/etc/passwd', 1), "EACCES: permission denied, access '/etc/passwd'"],
    ['empty path', (fs) => fs.stat(''), "ENOENT: no such file or directory, stat ''"],
    ['trailing slash on a file', (fs) => fs.stat('/etc/passwd/'), "ENOTDIR: not a directory, stat '/etc/passwd/'"],
  ])('%s', async (_n, act, message) => {
    const err = await act(mount()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(FsError);
    expect((err as Error).message).toBe(message);
    expect((err as FsError).errno).toBeLessThan(0);
  });

  it('readOnly gives EROFS on every write and still reads', async () => {
    const fs = mount({ readOnly: true });
    for (const act of [
      fs.writeFile('/x', ''),
      fs.mkdir('/d'),
      fs.rm('/etc', { recursive: true }),
      fs.chmod('/etc', 0),
      fs.rename('/etc', '/e'),
      fs.open('/etc/passwd', 'r+'),
      fs.truncate('/etc/passwd'),
      fs.symlink('a', '/b'),
      fs.utimes('/etc', 1, 1),
    ])
      expect(await codeOf(act)).toBe('EROFS');
    expect(await fs.readFile('/etc/passwd', 'utf8')).toBe('root:x:0:0\n');
    expect(fs.upper.records.size).toBe(0);
  });
});

describe('file handles and streams', () => {
  it('reads and writes at positions, truncates, stats', async () => {
    const fs = mount();
    const h = await fs.open('/etc/passwd', 'r+');
    const buf = Buffer.alloc(4);
    expect((await h.read(buf, 0, 4, 5)).bytesRead).toBe(4);
    expect(buf.toString()).toBe('x:0:');
    await h.write('ROOT', 0);
    await h.write(Buffer.from('!!'), 0, 2, 20);
    expect((await h.stat()).size).toBe(22);
    await h.truncate(4);
    await h.close();
    expect(await codeOf(h.stat())).toBe('EBADF');
    expect(await fs.readFile('/etc/passwd', 'utf8')).toBe('ROOT');
    const a = await fs.open('/log', 'a');
    await a.write('1');
    await a.write('2', 0);
    await a.close();
    expect(await fs.readFile('/log', 'utf8')).toBe('12');
    expect(await codeOf(fs.open('/etc', 'w'))).toBe('EISDIR');
    expect(await codeOf(fs.open('/etc/passwd', 'wx'))).toBe('EEXIST');
  });

  it('createReadStream reads a range; createWriteStream writes', async () => {
    const fs = mount();
    const chunks: Buffer[] = [];
    for await (const c of fs.createReadStream('/etc/hosts', { start: 4, end: 8, highWaterMark: 2 }))
      chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('0.0.1');
    await new Promise<void>((resolve, reject) => {
      const w = fs.createWriteStream('/out');
      w.on('error', reject).on('finish', resolve);
      w.write('hello ');
      w.end('world');
    });
    expect(await fs.readFile('/out', 'utf8')).toBe('hello world');
    const err = await new Promise((resolve) => fs.createReadStream('/nope').on('error', resolve));
    expect((err as FsError).code).toBe('ENOENT');
  });
});

describe('changes() (docker diff)', () => {
  it('lists added, modified and deleted paths; parents of added/deleted as modified', async () => {
    const fs = mount();
    await fs.writeFile('/usr/lib/d.so', 'D');
    await fs.unlink('/etc/hosts');
    await fs.chown('/usr/bin/sh', 1, 1);
    await fs.rm('/opt', { recursive: true });
    await fs.mkdir('/opt');
    await fs.writeFile('/opt/new', 'again');
    const letter = { added: 'A', modified: 'C', deleted: 'D' } as const;
    expect(fs.changes().map((c) => `${letter[c.kind]} ${c.path}`)).toEqual([
      'C /etc',
      'D /etc/hosts',
      'C /opt',
      'C /opt/new',
      'C /usr/bin/sh',
      'C /usr/lib',
      'A /usr/lib/d.so',
    ]);
  });
});

describe('persistence of the upper layer', () => {
  it('serialises and reopens with identical state; refuses other lower layers', async () => {
    const fs = mount();
    await fs.writeFile('/a', 'bytes');
    await fs.chmod('/etc/passwd', 0o600);
    await fs.rm('/usr/lib', { recursive: true });
    await fs.mkdir('/usr/lib');
    await fs.link('/a', '/b');
    const saved = serializeUpper(fs.upper);
    const json = JSON.parse(JSON.stringify(saved.meta));
    const again = createUnionFS({
      layers: [base, top],
      upper: deserializeUpper({ meta: json, blobs: saved.blobs }),
      clock: () => 1_700_000_000_000,
    });
    expect(again.diff().map((e) => [e.header, e.data?.().toString()])).toEqual(
      fs.diff().map((e) => [e.header, e.data?.().toString()]),
    );
    expect(again.changes()).toEqual(fs.changes());
    await again.appendFile('/b', '!');
    expect(await again.readFile('/a', 'utf8')).toBe('bytes!');
    expect(() => createUnionFS({ layers: [base], upper: deserializeUpper(saved) })).toThrow(
      expect.objectContaining({ code: 'ERR_UNION_LOWER_MISMATCH' }),
    );
  });
});

describe('type-level', () => {
  it('UnionFS satisfies ExecutorFs; diff headers are tar writer input', async () => {
    const fs: ExecutorFs = mount();
    expect(typeof fs.readFile).toBe('function');
    await fs.writeFile('/x', 'y');
    const header: TarEntryInput = mount().diff()[0]?.header ?? {
      path: 'x',
      type: 'file',
      mode: 0,
      uid: 0,
      gid: 0,
      mtime: 0,
    };
    expect(header.path).toBe('x');
  });
});
