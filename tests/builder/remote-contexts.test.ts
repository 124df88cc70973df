/**
 * Contexts that live elsewhere: `--build-context NAME=` a git repository (served by a real
 * `git daemon` on 127.0.0.1, and as file://), an HTTP tarball or file (a node server on
 * 127.0.0.1), an OCI layout folder; and the build's own context as a git or tarball URL.
 * Hostile archives (entries above the root, written through a symlink, hard links out of the
 * archive) are refused before a byte lands outside; URLs lose their credentials in messages.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect } from 'vitest';
import { test, it } from '../helpers/fixtures.js';
import { build } from '../../src/builder/build.js';
import { parseRemoteContext, redactUrl, unpackContextTar } from '../../src/builder/remote-context.js';
import { listImages } from '../../src/image/images.js';
import { exportImage } from '../../src/image/export.js';
import { openStore, type Store } from '../../src/store/store.js';
import { encodeHeader } from '../../src/tar/header-encode.js';
import { imageFile, makeBaseImage, makeTar } from './helpers.js';

const hasGit = (() => {
  try {
    execFileSync('git', ['--version']);
    return fs.existsSync('/usr/lib/git-core/git-daemon');
  } catch {
    return false;
  }
})();

const hasUmoci = (() => {
  try {
    execFileSync('umoci', ['--version']);
    return true;
  } catch {
    return false;
  }
})();

describe('parseRemoteContext and redactUrl', () => {
  it.each([
    ['https://host/repo.git', { kind: 'git', url: 'https://host/repo.git', ref: undefined, subdir: undefined }],
    ['https://host/repo.git#v1', { kind: 'git', url: 'https://host/repo.git', ref: 'v1', subdir: undefined }],
    ['https://host/repo.git#v1:docs', { kind: 'git', url: 'https://host/repo.git', ref: 'v1', subdir: 'docs' }],
    ['https://host/repo.git#:docs', { kind: 'git', url: 'https://host/repo.git', ref: undefined, subdir: 'docs' }],
    ['git://host/repo#main', { kind: 'git', url: 'git://host/repo', ref: 'main', subdir: undefined }],
    ['git@github.com:o/r.git#main', { kind: 'git', url: 'git@github.com:o/r.git', ref: 'main', subdir: undefined }],
    ['ssh://git@host/r.git', { kind: 'git', url: 'ssh://git@host/r.git', ref: undefined, subdir: undefined }],
    ['file:///srv/r#abc123:sub/dir', { kind: 'git', url: 'file:///srv/r', ref: 'abc123', subdir: 'sub/dir' }],
    ['https://host/r.git?ref=v1&subdir=docs', { kind: 'git', url: 'https://host/r.git', ref: 'v1', subdir: 'docs' }],
    ['https://host/r.git?tag=v2', { kind: 'git', url: 'https://host/r.git', ref: 'v2', subdir: undefined }],
    ['https://host/ctx.tar.gz', { kind: 'http', url: 'https://host/ctx.tar.gz' }],
    ['https://host/ctx.tar.gz?sig=1#x', { kind: 'http', url: 'https://host/ctx.tar.gz?sig=1#x' }],
    ['http://127.0.0.1:8080/Dockerfile', { kind: 'http', url: 'http://127.0.0.1:8080/Dockerfile' }],
    ['./folder', undefined],
    ['/abs/folder', undefined],
    ['docker-image://alpine', undefined],
  ])('%s', (value, expected) => {
    expect(parseRemoteContext(value)).toEqual(expected);
  });

  it('a ref in both the fragment and the query is a usage error', () => {
    expect(() => parseRemoteContext('https://h/r.git?ref=a#b')).toThrow(/either as #REF:SUBDIR or as \?ref=/);
  });

  it.each([
    ['https://user:secret@host/x.git', 'https://host/x.git'],
    ['https://token@host/x', 'https://host/x'],
    ['http://host/x', 'http://host/x'],
    ['git@github.com:o/r.git', 'git@github.com:o/r.git'],
  ])('redacts %s', (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
  });
});

/** Raw tar bytes from headers and data, whatever the names (for hostile archives). */
function rawTar(
  entries: Array<{ name: string; type: 'file' | 'symlink' | 'hardlink' | 'directory'; data?: string; link?: string }>,
): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = Buffer.from(e.data ?? '');
    parts.push(
      encodeHeader({
        name: e.name,
        type: e.type,
        mode: e.type === 'directory' ? 0o755 : 0o644,
        uid: 0,
        gid: 0,
        mtime: 1_600_000_000,
        size: e.type === 'file' ? data.length : 0,
        ...(e.link !== undefined ? { linkname: e.link } : {}),
      }),
    );
    if (e.type === 'file' && data.length > 0) parts.push(data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

describe('unpackContextTar refuses hostile archives', () => {
  let tmp: string;
  test.beforeAll(({ fileTmp }) => {
    tmp = fs.mkdtempSync(join(fileTmp, 'tar-'));
  });

  let n = 0;
  const unpack = async (tar: Buffer) => {
    const dir = join(tmp, `u${n++}`);
    fs.mkdirSync(dir);
    await unpackContextTar(dir, [tar]);
    return dir;
  };

  it.each([
    [
      'an entry above the root',
      [{ name: '../evil', type: 'file' as const, data: 'x' }],
      /ERR_UNSAFE_PATH|above|escape/,
    ],
    ['a deeper climb', [{ name: 'a/../../evil', type: 'file' as const, data: 'x' }], /ERR_UNSAFE_PATH|above|escape/],
    [
      'a file through a symlink the archive made',
      [
        { name: 'link', type: 'symlink' as const, link: '../outside' },
        { name: 'link/evil', type: 'file' as const, data: 'x' },
      ],
      /through the symlink "link"/,
    ],
    [
      'a hard link to a file outside the archive',
      [{ name: 'h', type: 'hardlink' as const, link: 'etc/passwd' }],
      /not a file of the archive/,
    ],
  ])('%s', async (_what, entries, message) => {
    const outside = join(tmp, 'outside');
    fs.mkdirSync(outside, { recursive: true });
    const before = fs.readdirSync(tmp).length;
    await expect(unpack(rawTar(entries))).rejects.toThrow(message);
    expect(fs.readdirSync(outside)).toEqual([]);
    expect(fs.existsSync(join(tmp, 'evil'))).toBe(false);
    expect(fs.readdirSync(tmp).length).toBe(before + 1);
  });

  it('writes files, folders, symlinks and hard links with their modes and times', async () => {
    const dir = await unpack(
      rawTar([
        { name: 'd/', type: 'directory' },
        { name: 'd/f', type: 'file', data: 'hello' },
        { name: 'd/l', type: 'symlink', link: 'f' },
        { name: 'd/h', type: 'hardlink', link: 'd/f' },
      ]),
    );
    expect(fs.readFileSync(join(dir, 'd/f'), 'utf8')).toBe('hello');
    expect(fs.readlinkSync(join(dir, 'd/l'))).toBe('f');
    expect(fs.statSync(join(dir, 'd/h')).ino).toBe(fs.statSync(join(dir, 'd/f')).ino);
    expect(fs.statSync(join(dir, 'd/f')).mtimeMs).toBe(1_600_000_000_000);
    expect(fs.statSync(join(dir, 'd')).mtimeMs).toBe(1_600_000_000_000);
  });
});

describe('HTTP contexts', () => {
  let tmp: string;
  let server: Server;
  let base: string;
  const seen: IncomingMessage[] = [];
  const files = new Map<string, Buffer>();
  let store: Store;

  test.beforeAll(async ({ fileTmp }) => {
    tmp = fs.mkdtempSync(join(fileTmp, 'http-'));
    store = await openStore({ root: join(tmp, 'store') });
    await makeBaseImage({ store, tag: 'base:1' });
    files.set(
      '/ctx.tar.gz',
      await makeTar(
        [
          { path: 'Dockerfile', type: 'file', data: 'FROM base:1\nCOPY hello.txt /from-main\n' },
          { path: 'hello.txt', type: 'file', data: 'from the tarball\n' },
          { path: 'sub', type: 'directory' },
          { path: 'sub/x.txt', type: 'file', data: 'x\n' },
        ],
        { gzip: true },
      ),
    );
    files.set('/plain.txt', Buffer.from('just one file\n'));
    files.set('/Dockerfile', Buffer.from('FROM base:1\nRUN echo plain > /plain\n'));
    files.set('/evil.tar', rawTar([{ name: '../evil', type: 'file', data: 'x' }]));
    server = createServer((req, res) => {
      seen.push(req);
      const body = files.get(req.url ?? '');
      if (body === undefined) {
        res.writeHead(404).end('nope');
        return;
      }
      res.writeHead(200, { 'content-length': body.length }).end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  const ctxDir = () => {
    const dir = join(tmp, 'ctx');
    fs.mkdirSync(dir, { recursive: true });
    return dir;
  };

  it('a tarball named context: COPY --from reads its files; the temporary folder is gone after', async () => {
    const before = fs.readdirSync(tmpdir()).filter((f) => f.startsWith('layerkit-context-'));
    const r = await build({
      store,
      context: ctxDir(),
      dockerfileText: 'FROM base:1\nCOPY --from=t sub/x.txt hello.txt /t/\n',
      buildContexts: { t: `${base}/ctx.tar.gz` },
    });
    expect(await imageFile(store, r.image, '/t/hello.txt')).toBe('from the tarball\n');
    expect(await imageFile(store, r.image, '/t/x.txt')).toBe('x\n');
    const after = fs.readdirSync(tmpdir()).filter((f) => f.startsWith('layerkit-context-'));
    expect(after.sort()).toEqual(before.sort());
  });

  it('a URL that is not an archive is one file named context', async () => {
    const r = await build({
      store,
      context: ctxDir(),
      dockerfileText: 'FROM base:1\nCOPY --from=p context /p.txt\n',
      buildContexts: { p: `${base}/plain.txt` },
    });
    expect(await imageFile(store, r.image, '/p.txt')).toBe('just one file\n');
  });

  it('the build context itself: a tarball URL, or a Dockerfile URL', async () => {
    const r = await build({ store, context: `${base}/ctx.tar.gz`, tags: ['from-url:1'] });
    expect(await imageFile(store, r.image, '/from-main')).toBe('from the tarball\n');
    const p = await build({ store, context: `${base}/Dockerfile` });
    expect(await imageFile(store, p.image, '/plain')).toBe('plain\n');
  });

  it('credentials go to the server only; a 404 is ERR_BUILD_CONTEXT naming the context and the bare URL', async () => {
    const url = `${base.replace('http://', 'http://user:s3cret@')}/missing.tar`;
    const refs = store.listRefs().length;
    const err = await build({
      store,
      context: ctxDir(),
      dockerfileText: 'FROM base:1\n',
      buildContexts: { m: url },
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_BUILD_CONTEXT', data: { url: `${base}/missing.tar` } });
    expect((err as Error).message).toContain(`build context m ${base}/missing.tar: the server answered 404`);
    expect(JSON.stringify({ m: (err as Error).message, d: (err as { data: unknown }).data })).not.toContain('s3cret');
    const req = seen.find((q) => q.url === '/missing.tar')!;
    expect(req.headers.authorization).toBe(`Basic ${Buffer.from('user:s3cret').toString('base64')}`);
    expect(store.listRefs().length).toBe(refs);
  });

  it('a hostile tarball fails before the first step', async () => {
    const err = await build({
      store,
      context: ctxDir(),
      dockerfileText: 'FROM base:1\nRUN echo never\n',
      buildContexts: { e: `${base}/evil.tar` },
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_UNSAFE_PATH' });
    expect((err as Error).message).toContain(`build context e ${base}/evil.tar`);
    expect(fs.existsSync(join(tmpdir(), 'evil'))).toBe(false);
  });
});

describe.skipIf(!hasGit)('git contexts (git daemon and file://; Debian: git)', () => {
  let tmp: string;
  let daemon: ChildProcess;
  let port: number;
  let store: Store;
  let repo: string;
  const git = (...args: string[]) =>
    execFileSync('git', ['-C', repo, ...args], {
      env: { ...process.env, GIT_AUTHOR_DATE: '2020-01-01T00:00:00Z', GIT_COMMITTER_DATE: '2020-01-01T00:00:00Z' },
      encoding: 'utf8',
    }).trim();

  test.beforeAll(async ({ fileTmp }) => {
    tmp = fs.mkdtempSync(join(fileTmp, 'git-'));
    store = await openStore({ root: join(tmp, 'store') });
    await makeBaseImage({ store, tag: 'base:1' });
    repo = join(tmp, 'srv', 'repo.git');
    fs.mkdirSync(join(repo, 'sub'), { recursive: true });
    execFileSync('git', ['init', '-q', '-b', 'main', repo]);
    git('config', 'user.email', 't@example.com');
    git('config', 'user.name', 't');
    fs.writeFileSync(join(repo, 'sub', 'f.txt'), 'v1\n');
    fs.writeFileSync(join(repo, 'Dockerfile'), 'FROM base:1\nCOPY sub/f.txt /main-f\n');
    fs.symlinkSync('/etc', join(repo, 'out'));
    git('add', '-A');
    git('commit', '-q', '-m', 'one');
    git('tag', 'v1');
    fs.writeFileSync(join(repo, 'sub', 'f.txt'), 'v2\n');
    // A submodule on main (a second repository, by file path).
    const lib = join(tmp, 'srv', 'lib.git');
    fs.mkdirSync(lib);
    execFileSync('git', ['init', '-q', '-b', 'main', lib]);
    fs.writeFileSync(join(lib, 'lib.txt'), 'from the submodule\n');
    execFileSync('git', ['-C', lib, '-c', 'user.email=t@e', '-c', 'user.name=t', 'add', '-A']);
    execFileSync('git', ['-C', lib, '-c', 'user.email=t@e', '-c', 'user.name=t', 'commit', '-q', '-m', 'lib']);
    git('-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', `file://${lib}`, 'vendor/lib');
    git('commit', '-q', '-am', 'two');
    // A free port: bind, note it, close; then git daemon takes it.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    daemon = spawn(
      'git',
      [
        'daemon',
        '--reuseaddr',
        '--export-all',
        `--base-path=${join(tmp, 'srv')}`,
        '--listen=127.0.0.1',
        `--port=${port}`,
      ],
      { stdio: 'ignore' },
    );
    for (let i = 0; i < 100; i++) {
      const up = await new Promise<boolean>((r) => {
        const s = connect(port, '127.0.0.1', () => (s.end(), r(true)));
        s.on('error', () => r(false));
      });
      if (up) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  afterAll(() => {
    if (daemon?.pid) process.kill(daemon.pid);
  });

  const ctx = () => {
    const dir = join(tmp, 'ctx');
    fs.mkdirSync(dir, { recursive: true });
    return dir;
  };
  const copyFrom = async (value: string) => {
    const r = await build({
      store,
      context: ctx(),
      dockerfileText: 'FROM base:1\nCOPY --from=lib f.txt /f\n',
      buildContexts: { lib: value },
    });
    return imageFile(store, r.image, '/f');
  };

  it('git://HOST/repo.git#TAG:SUBDIR and #BRANCH:SUBDIR, from git daemon', async () => {
    expect(await copyFrom(`git://127.0.0.1:${port}/repo.git#v1:sub`)).toBe('v1\n');
    expect(await copyFrom(`git://127.0.0.1:${port}/repo.git#main:sub`)).toBe('v2\n');
  });

  it('submodules come along', async () => {
    const r = await build({
      store,
      context: ctx(),
      dockerfileText: 'FROM base:1\nCOPY --from=lib vendor/lib/lib.txt /l\n',
      buildContexts: { lib: `git://127.0.0.1:${port}/repo.git#main` },
    });
    expect(await imageFile(store, r.image, '/l')).toBe('from the submodule\n');
  });

  it('the query form ?ref=&subdir= picks the same as the fragment', async () => {
    expect(await copyFrom(`git://127.0.0.1:${port}/repo.git?ref=v1&subdir=sub`)).toBe('v1\n');
  });

  it('file:// with a commit id', async () => {
    const first = git('rev-list', '--max-parents=0', 'HEAD');
    expect(await copyFrom(`file://${repo}#${first}:sub`)).toBe('v1\n');
  });

  it('the build context itself as a git URL (its Dockerfile, its files)', async () => {
    const r = await build({ store, context: `git://127.0.0.1:${port}/repo.git#v1` });
    expect(await imageFile(store, r.image, '/main-f')).toBe('v1\n');
  });

  it.each([
    ['an unknown ref', '#nope:sub', /git fetch failed/],
    ['a missing subfolder', '#main:missing', /has no folder missing/],
    ['a subfolder above the repository', '#main:../..', /leaves the repository/],
    ['a subfolder that is a symlink out', '#main:out', /symlink out of the repository/],
  ])('%s is ERR_BUILD_CONTEXT naming the context and URL', async (_what, fragment, message) => {
    const url = `git://127.0.0.1:${port}/repo.git${fragment}`;
    const err = await copyFrom(url).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_BUILD_CONTEXT' });
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).toContain(`build context lib git://127.0.0.1:${port}/repo.git`);
  });

  it('credentials in a git URL never reach the message', async () => {
    const err = await copyFrom('https://user:s3cret@127.0.0.1:1/repo.git#main').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_BUILD_CONTEXT', data: { url: 'https://127.0.0.1:1/repo.git' } });
    expect((err as Error).message).not.toContain('s3cret');
  });
});

describe('oci-layout contexts', () => {
  let tmp: string;
  let layout: string;
  let manifest: string;

  test.beforeAll(async ({ fileTmp }) => {
    tmp = fs.mkdtempSync(join(fileTmp, 'layout-'));
    const source = await openStore({ memory: true });
    const image = await makeBaseImage({ store: source, tag: 'base:1', files: { 'etc/os': 'layout\n' } });
    manifest = image.descriptor.digest;
    const archive = join(tmp, 'base.oci.tar');
    await exportImage({ store: source, image, format: 'oci-archive', output: archive, name: 'base:v1' });
    layout = join(tmp, 'layout');
    fs.mkdirSync(layout);
    execFileSync('tar', ['-xf', archive, '-C', layout]);
  });

  it.each([
    ['by tag', () => `oci-layout://${layout}:v1`],
    ['by digest', () => `oci-layout://${layout}@${manifest}`],
    ['the only image', () => `oci-layout://${layout}`],
  ])('FROM NAME reads the layout image %s; the store keeps no image of its own for it', async (_what, value) => {
    const store = await openStore({ root: join(tmp, `store-${Math.random().toString(36).slice(2)}`) });
    const ctx = join(tmp, 'ctx');
    fs.mkdirSync(ctx, { recursive: true });
    const r = await build({
      store,
      context: ctx,
      dockerfileText: 'FROM base\nRUN echo built > /built\n',
      buildContexts: { base: value() },
      tags: ['app:1'],
    });
    expect(await imageFile(store, r.image, '/etc/os')).toBe('layout\n');
    expect((await listImages({ store })).map((i) => i.names)).toEqual([['app:1']]);
  });

  it.skipIf(!hasUmoci)('a layout umoci made (tag alone in ref.name; Debian: umoci)', async () => {
    const dir = join(tmp, 'umoci');
    fs.mkdirSync(dir);
    fs.writeFileSync(join(dir, 'hello.txt'), 'from umoci\n');
    execFileSync('umoci', ['init', '--layout', join(dir, 'lay')]);
    execFileSync('umoci', ['new', '--image', `${join(dir, 'lay')}:v1`]);
    execFileSync('umoci', ['insert', '--image', `${join(dir, 'lay')}:v1`, join(dir, 'hello.txt'), '/hello.txt']);
    const store = await openStore({ memory: true });
    const r = await build({
      store,
      context: dir,
      dockerfileText: 'FROM scratch\nCOPY --from=u /hello.txt /copied\n',
      buildContexts: { u: `oci-layout://${join(dir, 'lay')}:v1` },
    });
    expect(await imageFile(store, r.image, '/copied')).toBe('from umoci\n');
  });

  it('an unknown tag names what the layout has', async ({ store }) => {
    const err = await build({
      store,
      context: tmp,
      dockerfileText: 'FROM base\n',
      buildContexts: { base: `oci-layout://${layout}:nope` },
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_BUILD_CONTEXT' });
    expect((err as Error).message).toMatch(/has no image tagged nope \(it has .*v1\)/);
  });
});
