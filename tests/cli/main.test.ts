/**
 * The CLI through `main(argv, output)` with a captured Output: help for every command, the happy
 * path of each image and store command on a tmpfs store holding fixtures/images/hello.oci.tar,
 * the exact `ls --json` line format, exit codes (0 ok, 1 failed, 2 usage, 3 verify problems),
 * one-line errors with a code and a hint, `--store` before or after the command, and NO_COLOR.
 */
import { beforeEach, describe, expect } from 'vitest';
import { test, it } from '../helpers/fixtures.js';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMMAND_TABLE, loadCommands, main } from '../../src/cli/main.js';
import { processOutput, reportError } from '../../src/cli/output.js';
import { ErrorCodes, importImage, LayerkitError, openStore } from '../../src/index.js';
import { captureOutput, type CliRun, runCli } from '../helpers/cli.js';
import { listTree } from '../helpers/peers.js';

const HELLO = fileURLToPath(new URL('../../fixtures/images/hello.oci.tar', import.meta.url));
const HELLO_DIGEST = 'sha256:a08c15ab3735fe540cfa5ceb0004a60bab179d00dc151659898c5f49b621d2c0';
const ESC = '\u001b[';
const COMMANDS = await loadCommands();

const lines = (s: string) => s.split('\n').filter((l) => l !== '');

describe('layerkit CLI', () => {
  let tmp: string;
  let store: string;
  test.beforeAll(({ fileTmp }) => {
    tmp = fileTmp;
  });
  let n = 0;
  beforeEach(() => {
    store = join(tmp, `store-${n++}`);
  });
  const withHello = async () => {
    const r = await runCli(['--store', store, 'import', HELLO]);
    expect(r.code, r.err).toBe(0);
    return r;
  };

  describe('help', () => {
    it('the command table names each command as its module does, once', () => {
      expect(COMMANDS.map((c) => c.name)).toEqual(COMMAND_TABLE.map((c) => c.name));
      expect(new Set(COMMAND_TABLE.map((c) => c.name)).size).toBe(COMMAND_TABLE.length);
    });

    it('--help lists every command and the exit statuses', async () => {
      for (const argv of [['--help'], ['-h'], ['help']]) {
        const r = await runCli(argv);
        expect(r.code).toBe(0);
        expect(r.out).toMatch(/^Usage: layerkit/);
        for (const c of COMMANDS)
          expect(r.out).toMatch(new RegExp(`^  ${c.name} +${c.summary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
        expect(r.out).toContain('Exit status: 0 ok, 1 failed, 2 usage error, 3 verify found problems');
      }
    });

    it('no command prints the help and exits 2', async () => {
      const r = await runCli([]);
      expect(r.code).toBe(2);
      expect(r.out).toMatch(/^Usage: layerkit/);
    });

    it.each(COMMANDS.map((c) => c.name))('%s --help shows usage, options and examples', async (name) => {
      const command = COMMANDS.find((c) => c.name === name)!;
      for (const argv of [
        [name, '--help'],
        [name, '-h'],
        ['help', name],
      ]) {
        const r = await runCli(argv);
        expect(r.code).toBe(0);
        expect(r.err).toBe('');
        expect(r.out).toMatch(new RegExp(`^Usage: layerkit ${name} `));
        expect(r.out).toContain('Options:');
        expect(r.out).toContain('--store DIR');
        for (const option of Object.keys(command.options)) expect(r.out).toContain(`--${option}`);
        expect(r.out).toContain('Examples:');
        expect(command.examples.length).toBeGreaterThan(0);
        for (const e of command.examples) expect(r.out).toContain(`  ${e}`);
      }
    });

    it('--version prints the package version', async () => {
      const r = await runCli(['--version']);
      expect(r.code).toBe(0);
      const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
        version: string;
      };
      expect(r.out.trim()).toBe(pkg.version);
    });
  });

  describe('commands on a store holding hello.oci.tar', () => {
    it('import prints what it imported; --json prints one object', async () => {
      const r = await withHello();
      expect(r.out).toBe(`imported hello:latest ${HELLO_DIGEST} (oci-archive, 2 layers)\n`);
      const again = await runCli(['import', '--json', '--tag', 'again:1', HELLO, '--store', store]);
      expect(again.code, again.err).toBe(0);
      expect(JSON.parse(again.out)).toEqual({
        format: 'oci-archive',
        images: [{ names: ['again:1'], digest: HELLO_DIGEST, layers: 2 }],
      });
    });

    it('--store works before and after the command, and $LAYERKIT_STORE when it is absent', async () => {
      await withHello();
      const before = await runCli(['--store', store, 'images', '--json']);
      const after = await runCli(['images', '--json', '--store', store]);
      expect(before.code).toBe(0);
      expect(after).toEqual(before);
      expect(JSON.parse(lines(before.out)[0]!)).toMatchObject({
        names: ['hello:latest'],
        digest: HELLO_DIGEST,
        layers: 2,
      });
      const saved = process.env['LAYERKIT_STORE'];
      process.env['LAYERKIT_STORE'] = store;
      try {
        expect(await runCli(['images', '--json'])).toEqual(before);
      } finally {
        if (saved === undefined) delete process.env['LAYERKIT_STORE'];
        else process.env['LAYERKIT_STORE'] = saved;
      }
    });

    it('images prints an aligned table, with relative times as docker does', async () => {
      await withHello();
      // hello was made at the epoch: docker's HumanDuration says whole years.
      const years = Math.floor(Date.now() / 1000 / 3600 / 24 / 365);
      const r = await runCli(['--store', store, 'images']);
      expect(r.code).toBe(0);
      const [head, row] = lines(r.out);
      expect(head).toMatch(/^NAME +DIGEST +ID +CREATED +LAYERS +SIZE$/);
      expect(row).toMatch(
        new RegExp(
          `^hello:latest +${HELLO_DIGEST.slice(7, 19)} +[0-9a-f]{12} +${years} years ago +2 +\\d+(\\.\\d+)?(B|kB)$`,
        ),
      );
      expect(row!.indexOf(HELLO_DIGEST.slice(7, 19))).toBe(head!.indexOf('DIGEST'));
    });

    it('inspect prints names, descriptor, manifest and config as JSON', async () => {
      await withHello();
      const r = await runCli(['--store', store, 'inspect', 'hello']);
      expect(r.code).toBe(0);
      const v = JSON.parse(r.out) as {
        names: string[];
        descriptor: { digest: string };
        manifest: { layers: unknown[] };
        config: { config: { Cmd: string[] } };
      };
      expect(v.names).toEqual(['hello:latest']);
      expect(v.descriptor.digest).toBe(HELLO_DIGEST);
      expect(v.manifest.layers).toHaveLength(2);
      expect(v.config.config.Cmd).toEqual(['/bin/hello']);
    });

    it('tag points a new name at the image; rmi removes a name, then the image by digest', async () => {
      await withHello();
      const t = await runCli(['--store', store, 'tag', 'hello:latest', 'hello:v2']);
      expect(t).toMatchObject({ code: 0, out: `hello:v2 -> ${HELLO_DIGEST}\n`, err: '' });
      const listed = await runCli(['--store', store, 'images', '--json']);
      expect(JSON.parse(listed.out).names).toEqual(['hello:latest', 'hello:v2']);
      const r1 = await runCli(['--store', store, 'rmi', 'hello:v2']);
      expect(r1).toMatchObject({ code: 0, out: 'untagged hello:v2\n' });
      const r2 = await runCli(['--store', store, 'rmi', HELLO_DIGEST.slice(0, 19)]);
      expect(r2).toMatchObject({ code: 0, out: 'untagged hello:latest\n' });
      expect((await runCli(['--store', store, 'images', '--json'])).out).toBe('');
    });

    it('ls lists a folder (long format) and ls -R --json prints the exact line format', async () => {
      await withHello();
      const r = await runCli(['--store', store, 'ls', 'hello', '/etc']);
      expect(r.code).toBe(0);
      expect(lines(r.out)).toEqual([
        '-rw-r--r-- 0/0                 25 /etc/motd',
        '-rw-r--r-- 0/0                 36 /etc/os-release',
      ]);
      const j = await runCli(['--store', store, 'ls', '-R', '--json', 'hello']);
      expect(j.code).toBe(0);
      const motd = 'welcome to the top layer\n';
      expect(lines(j.out)).toContain(
        `{"path":"/etc/motd","type":"file","mode":420,"uid":0,"gid":0,"size":${motd.length},"sha256":"${createHash('sha256').update(motd).digest('hex')}"}`,
      );
      expect(lines(j.out)).toContain('{"path":"/etc","type":"directory","mode":493,"uid":0,"gid":0,"size":0}');
      expect(lines(j.out).map((l) => (JSON.parse(l) as { path: string }).path)).toEqual([
        '/bin',
        '/bin/hello',
        '/etc',
        '/etc/motd',
        '/etc/os-release',
        '/usr',
        '/usr/share',
        '/usr/share/doc',
        '/usr/share/doc/b',
        '/var',
        '/var/cache',
        '/var/cache/new',
      ]);
      for (const l of lines(j.out))
        expect(Object.keys(JSON.parse(l) as object).slice(0, 6)).toEqual([
          'path',
          'type',
          'mode',
          'uid',
          'gid',
          'size',
        ]);
    });

    it('ls --json prints linkTarget for symlinks and hardlinks', async () => {
      // An image with links, imported from an OCI layout made by the test.
      const { tarBytes, writeLayout } = await import('../image/layouts.js');
      const layer = await tarBytes([
        {
          header: { path: 'f', type: 'file', mode: 0o600, uid: 1, gid: 2, mtime: 0, size: 2 },
          data: Buffer.from('hi'),
        },
        { header: { path: 'h', type: 'hardlink', mode: 0o600, uid: 1, gid: 2, mtime: 0, linkTarget: 'f' } },
        { header: { path: 's', type: 'symlink', mode: 0o777, uid: 0, gid: 0, mtime: 0, linkTarget: '../f' } },
      ]);
      writeLayout(join(tmp, 'links'), [{ tag: 'links:1', layers: [layer] }]);
      expect((await runCli(['--store', store, 'import', join(tmp, 'links')])).code).toBe(0);
      const j = await runCli(['--store', store, 'ls', '--json', 'links:1']);
      const hi = createHash('sha256').update('hi').digest('hex');
      expect(lines(j.out)).toEqual([
        `{"path":"/f","type":"file","mode":384,"uid":1,"gid":2,"size":2,"sha256":"${hi}"}`,
        `{"path":"/h","type":"hardlink","mode":384,"uid":1,"gid":2,"size":2,"sha256":"${hi}","linkTarget":"/f"}`,
        '{"path":"/s","type":"symlink","mode":511,"uid":0,"gid":0,"size":0,"linkTarget":"../f"}',
      ]);
      const long = await runCli(['--store', store, 'ls', 'links:1']);
      expect(lines(long.out)[2]).toBe('lrwxrwxrwx 0/0                  0 /s -> ../f');
    });

    it('cat prints a file (following symlinks inside the image)', async () => {
      await withHello();
      const r = await runCli(['--store', store, 'cat', 'hello', '/etc/motd']);
      expect(r).toMatchObject({ code: 0, out: 'welcome to the top layer\n', err: '' });
    });

    it('unpack writes the flattened tree into a new folder', async () => {
      await withHello();
      const dir = join(tmp, `rootfs-${n}`);
      const r = await runCli(['--store', store, 'unpack', 'hello', dir]);
      expect(r).toMatchObject({ code: 0, out: `unpacked 12 entries into ${dir}\n`, err: '' });
      expect(listTree(dir).map((e) => e.path)).toEqual([
        '/bin',
        '/bin/hello',
        '/etc',
        '/etc/motd',
        '/etc/os-release',
        '/usr',
        '/usr/share',
        '/usr/share/doc',
        '/usr/share/doc/b',
        '/var',
        '/var/cache',
        '/var/cache/new',
      ]);
      expect(fs.readFileSync(join(dir, 'bin/hello'), 'utf8')).toContain('hello from layerkit');
      expect(fs.statSync(join(dir, 'bin/hello')).mode & 0o777).toBe(0o755);
    });

    it.each([
      ['oci-archive', 'out.tar'],
      ['oci', 'layout'],
      ['docker-archive', 'docker.tar'],
      ['rootfs', 'rootfs'],
      ['tar', 'flat.tar'],
    ])('export --format %s writes %s, and archives import back', async (format, name) => {
      await withHello();
      const target = join(tmp, `export-${n}-${name}`);
      const r = await runCli(['--store', store, 'export', 'hello', '-o', target, '--format', format]);
      expect(r).toMatchObject({ code: 0, out: `exported hello to ${target} (${format})\n`, err: '' });
      expect(fs.existsSync(target)).toBe(true);
      if (format === 'oci-archive' || format === 'oci' || format === 'docker-archive') {
        const back = await openStore({ root: join(tmp, `back-${n}-${name}`), durable: false });
        const result = await importImage({ store: back, source: target });
        expect(result.images[0]!.names).toEqual(['hello:latest']);
        if (format !== 'docker-archive') expect(result.images[0]!.image.descriptor.digest).toBe(HELLO_DIGEST);
      }
      if (format === 'rootfs')
        expect(fs.readFileSync(join(target, 'etc/motd'), 'utf8')).toBe('welcome to the top layer\n');
    });

    it('export defaults to oci-archive and matches the fixture byte for byte', async () => {
      await withHello();
      const target = join(tmp, `default-${n}.tar`);
      expect((await runCli(['--store', store, 'export', 'hello:latest', '-o', target])).code).toBe(0);
      expect(fs.readFileSync(target).equals(fs.readFileSync(HELLO))).toBe(true);
    });

    it('images --json and inspect keep the full timestamp; containers says how long ago', async () => {
      await withHello();
      const json = JSON.parse(lines((await runCli(['--store', store, 'images', '--json'])).out)[0]!) as {
        created: string;
      };
      expect(json.created).toBe('1970-01-01T00:00:00Z');
      expect((await runCli(['--store', store, 'inspect', 'hello'])).out).toContain('"created": "1970-01-01T00:00:00Z"');
      expect((await runCli(['--store', store, 'create', 'hello', '--name', 'c1'])).code).toBe(0);
      const [, row] = lines((await runCli(['--store', store, 'containers'])).out);
      expect(row).toMatch(/^c1 +hello +[0-9a-f]{12} +(Less than a second|\d+ seconds) ago$/);
    });

    it('export -o - refuses a terminal, as docker does, and writes nothing', async () => {
      await withHello();
      const c = captureOutput({ outTty: true });
      const code = await main(['--store', store, 'export', 'hello', '-o', '-'], c.output);
      expect(code).toBe(2);
      expect(c.err()).toMatch(/^error\[ERR_USAGE\]: cowardly refusing to write an archive to a terminal/);
      expect(c.bytes().length).toBe(0);
    });

    it('export -o - writes the archive to the output stream', async () => {
      await withHello();
      const r = await runCli(['--store', store, 'export', 'hello', '-o', '-']);
      expect(r.code, r.err).toBe(0);
      expect(r.bytes.equals(fs.readFileSync(HELLO))).toBe(true);
      const rootfs = await runCli(['--store', store, 'export', 'hello', '-o', '-', '--format', 'rootfs']);
      expect(rootfs.code).toBe(2);
      expect(rootfs.err).toContain('rootfs export needs a folder path');
    });

    it('gc removes what nothing references; --dry-run and --json report it', async () => {
      await withHello();
      expect((await runCli(['--store', store, 'gc'])).out).toBe(
        'removed 0 blobs, 0 layer indexes and 0 temp files: 0B\n',
      );
      expect((await runCli(['--store', store, 'rmi', 'hello'])).code).toBe(0);
      const dry = await runCli(['--store', store, 'gc', '--dry-run', '--json']);
      expect(dry.code).toBe(0);
      const report = JSON.parse(dry.out) as { removedBlobs: string[]; removedLayerStates: string[] };
      expect(report.removedBlobs).toHaveLength(4);
      expect(report.removedLayerStates).toHaveLength(2);
      const dryText = await runCli(['--store', store, 'gc', '--dry-run']);
      const real = await runCli(['--store', store, 'gc']);
      expect(real.out).toMatch(/\nremoved 4 blobs, 2 layer indexes and 0 temp files: \d+(\.\d+)?(B|kB)\n$/);
      // gc names what it removes, and a dry run names the same things.
      const named = (text: string, verb: string) =>
        lines(text)
          .filter((l) => l.startsWith(`${verb}: `))
          .map((l) => l.slice(verb.length + 2));
      expect(named(real.out, 'deleted').sort()).toEqual(
        [...report.removedBlobs, ...report.removedLayerStates.map((d) => `layer index ${d}`)].sort(),
      );
      expect(named(dryText.out, 'would delete').sort()).toEqual(named(real.out, 'deleted').sort());
      expect(JSON.parse((await runCli(['--store', store, 'gc', '--json'])).out)).toMatchObject({
        removedBlobs: [],
        removedLayerStates: [],
        removedTempFiles: 0,
        freedBytes: 0,
      });
    });

    it('verify exits 0 on a sound store and 3 (printing each problem) on a damaged one', async () => {
      await withHello();
      const ok = await runCli(['--store', store, 'verify']);
      expect(ok).toMatchObject({ code: 0, out: 'ok: 4 blobs verified\n', err: '' });
      const blob = join(store, 'blobs', 'sha256', '3a58fcb1c9870f7b511d5b13af4e44f89c7941c0df6a294164c9f881a275fabc');
      fs.chmodSync(blob, 0o644);
      const bytes = fs.readFileSync(blob);
      bytes[bytes.length - 5] = bytes[bytes.length - 5]! ^ 0xff;
      fs.writeFileSync(blob, bytes);
      const bad = await runCli(['--store', store, 'verify']);
      expect(bad.code).toBe(3);
      expect(lines(bad.out)[0]).toMatch(
        /^EINTEGRITY integrity check failed for sha256:3a58fcb1c9870f7b511d5b13af4e44f89c7941c0df6a294164c9f881a275fabc/,
      );
      expect(lines(bad.out).at(-1)).toBe('1 problem in 4 blobs');
      const json = await runCli(['--store', store, 'verify', '--json']);
      expect(json.code).toBe(3);
      expect((JSON.parse(json.out) as { problems: Array<{ code: string; digest: string }> }).problems).toEqual([
        expect.objectContaining({
          code: 'EINTEGRITY',
          digest: 'sha256:3a58fcb1c9870f7b511d5b13af4e44f89c7941c0df6a294164c9f881a275fabc',
        }),
      ]);
    });
  });

  describe('errors', () => {
    const oneLine = (r: CliRun, code: string) => {
      const [first, second, ...rest] = lines(r.err);
      expect(first).toMatch(new RegExp(`^error\\[${code}\\]: \\S`));
      expect(second).toMatch(/^hint: \S/);
      expect(rest).toEqual([]);
      expect(r.out).toBe('');
    };

    it.each([
      { argv: ['frobnicate'], code: 'ERR_USAGE', exit: 2, says: 'unknown command "frobnicate"' },
      { argv: ['images', 'a:1', 'b:1'], code: 'ERR_USAGE', exit: 2, says: 'images takes 0 to 1 arguments, got 2' },
      { argv: ['cat', 'hello'], code: 'ERR_USAGE', exit: 2, says: 'cat takes 2 arguments, got 1' },
      { argv: ['ls', '--bogus', 'hello'], code: 'ERR_USAGE', exit: 2, says: "ls: Unknown option '--bogus'" },
      { argv: ['export', 'hello'], code: 'ERR_USAGE', exit: 2, says: 'export needs -o PATH' },
      {
        argv: ['export', 'hello', '-o', 'x', '--format', 'zip'],
        code: 'ERR_USAGE',
        exit: 2,
        says: 'unknown export format "zip"',
      },
      {
        argv: ['import', '--platform', 'linux', 'x.tar'],
        code: 'ERR_USAGE',
        exit: 2,
        says: 'invalid platform "linux"',
      },
      { argv: ['ls', 'nope:1'], code: 'ERR_NOT_FOUND', exit: 1, says: 'no image named "nope:1"' },
      {
        argv: ['cat', 'hello', '/etc/nope'],
        code: 'ERR_NOT_FOUND',
        exit: 1,
        says: 'no such file in the image: /etc/nope',
      },
      {
        argv: ['cat', 'hello', '/etc'],
        code: 'EISDIR',
        exit: 1,
        says: "EISDIR: illegal operation on a directory, read '/etc'",
      },
      {
        argv: ['import', '/does/not/exist.tar'],
        code: 'ERR_NOT_FOUND',
        exit: 1,
        says: '/does/not/exist.tar does not exist',
      },
      { argv: ['rmi', 'nope:1'], code: 'ERR_NOT_FOUND', exit: 1, says: 'no image named "nope:1"' },
      { argv: ['tag', 'nope:1', 'x:1'], code: 'ERR_NOT_FOUND', exit: 1, says: 'no image named "nope:1"' },
    ])('$argv.0 $argv.1 → exit $exit, error[$code] on one line with a hint', async ({ argv, code, exit, says }) => {
      await withHello();
      const r = await runCli(['--store', store, ...argv]);
      expect(r.code).toBe(exit);
      oneLine(r, code.replace(/[[\]]/g, '\\$&'));
      expect(r.err).toContain(says);
    });

    it('a store folder that is not a store is ERR_STORE_CORRUPT with a hint about --store', async () => {
      const notStore = join(tmp, `not-a-store-${n}`);
      fs.mkdirSync(notStore);
      fs.writeFileSync(join(notStore, 'file'), 'x');
      const r = await runCli(['--store', notStore, 'images']);
      expect(r.code).toBe(1);
      oneLine(r, 'ERR_STORE_CORRUPT');
      expect(r.err).toContain('hint: check --store');
    });

    it('a damaged image names the digest and hints at verify', async () => {
      await withHello();
      const blob = join(store, 'blobs', 'sha256', HELLO_DIGEST.slice(7));
      fs.chmodSync(blob, 0o644);
      fs.writeFileSync(blob, fs.readFileSync(blob, 'utf8').replace('layers', 'Layers'));
      const r = await runCli(['--store', store, 'ls', 'hello']);
      expect(r.code).toBe(1);
      oneLine(r, 'EINTEGRITY');
      expect(r.err).toContain(HELLO_DIGEST);
      expect(r.err).toContain("hint: run 'layerkit verify'");
    });

    it.each(Object.values(ErrorCodes))('a LayerkitError %s prints as error[CODE] plus one hint line', (code) => {
      const c = captureOutput();
      const exit = reportError(c.output, new LayerkitError(code, `something about ${code}\nspanning lines`));
      const [first, second, ...rest] = lines(c.err());
      expect(first).toBe(`error[${code}]: something about ${code} spanning lines`);
      expect(second).toMatch(/^hint: \S/);
      expect(rest).toEqual([]);
      expect(exit).toBe(code === 'ERR_USAGE' ? 2 : code === 'ERR_ABORTED' ? 130 : 1);
    });

    it('an fs error and an unexpected error print a code and a hint too', () => {
      for (const [err, code] of [
        [Object.assign(new Error("EACCES: permission denied, open '/x'"), { code: 'EACCES' }), 'EACCES'],
        [new TypeError('boom'), 'ERR_INTERNAL'],
      ] as const) {
        const c = captureOutput();
        expect(reportError(c.output, err)).toBe(1);
        const [first, second, ...rest] = lines(c.err());
        expect(first).toMatch(new RegExp(`^error\\[${code}\\]: `));
        expect(second).toMatch(/^hint: \S/);
        expect(rest).toEqual([]);
      }
    });

    it('--debug adds the stack trace', async () => {
      const r = await runCli(['--store', store, '--debug', 'ls', 'nope:1']);
      expect(r.code).toBe(1);
      expect(lines(r.err)[0]).toMatch(/^error\[ERR_NOT_FOUND\]/);
      expect(r.err).toMatch(/\n\s+at /);
    });
  });

  describe('colour', () => {
    it('NO_COLOR turns colour off whatever FORCE_COLOR and the terminal say', () => {
      expect(processOutput({ env: { NO_COLOR: '1', FORCE_COLOR: '1' } }).color).toBe(false);
      expect(processOutput({ env: { NO_COLOR: '' } }).color).toBe(false);
      expect(processOutput({ env: { FORCE_COLOR: '1' } }).color).toBe(true);
      expect(processOutput({ env: { FORCE_COLOR: '0' } }).color).toBe(false);
    });

    it('errors and verify problems are coloured only when colour is on', async () => {
      const plain = await runCli(['--store', store, 'ls', 'nope:1']);
      expect(plain.err).not.toContain(ESC);
      const coloured = await runCli(['--store', store, 'ls', 'nope:1'], { color: true });
      expect(coloured.err).toContain(`${ESC}31merror[ERR_NOT_FOUND]${ESC}39m:`);
      expect(coloured.code).toBe(1);
    });

    it('output meant for pipes (ls --json, cat, images --json) never has escapes, even with colour on', async () => {
      await withHello();
      for (const argv of [
        ['ls', '-R', '--json', 'hello'],
        ['cat', 'hello', '/bin/hello'],
        ['images', '--json'],
        ['images'],
      ]) {
        const r = await runCli(['--store', store, ...argv], { color: true });
        expect(r.code).toBe(0);
        expect(r.out).not.toContain(ESC);
      }
    });
  });
});
