/**
 * The commands a docker or crane user looks for first: `save`/`load` (docker's image archives,
 * several images per archive, standard output and input), `config`, `manifest`, `digest`
 * (crane's raw views) and `inspect --format` (docker's Go templates on docker's inspect shape).
 * podman is the peer: it loads what `save` writes, `load` reads what `podman save` writes, and
 * `podman image inspect --format` runs the same templates on the same image.
 */
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { test, it } from '../helpers/fixtures.js';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { extract } from 'tar-stream';
import { build, loadImage, openStore } from '../../src/index.js';
import { hasTool, missingToolMessage } from '../helpers/tools.js';
import { runCli } from '../helpers/cli.js';

const HELLO = fileURLToPath(new URL('../../fixtures/images/hello.oci.tar', import.meta.url));
const HELLO_DIGEST = 'sha256:a08c15ab3735fe540cfa5ceb0004a60bab179d00dc151659898c5f49b621d2c0';
const CLI = fileURLToPath(new URL('../../src/cli/bin.ts', import.meta.url));
const TSX = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));

/** The members of a tar, by name. */
async function tarMembers(bytes: Buffer): Promise<Map<string, Buffer>> {
  const members = new Map<string, Buffer>();
  const x = extract();
  const done = new Promise<void>((resolve, reject) => {
    x.on('entry', (header, stream, next) => {
      const parts: Buffer[] = [];
      stream.on('data', (c: unknown) => parts.push(c as Buffer));
      stream.on('end', () => {
        members.set(header.name, Buffer.concat(parts));
        next();
      });
    });
    x.on('finish', resolve);
    x.on('error', reject);
  });
  x.end(bytes);
  await done;
  return members;
}

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

const META_DOCKERFILE = `FROM hello:1
LABEL org.example.b="two words" org.example.a=1
EXPOSE 8080/tcp 53/udp
ENTRYPOINT ["/bin/hello", "--flag"]
CMD ["arg one"]
ENV X=1 Y="with space"
WORKDIR /work
USER 1000:1000
`;

/** Templates and what docker prints for the META_DOCKERFILE image. */
const FORMAT_CASES: Array<[string, string]> = [
  ['{{.Config.Cmd}}', '[arg one]'],
  ['{{.Config.Entrypoint}}', '[/bin/hello --flag]'],
  ['{{json .Config.Entrypoint}}', '["/bin/hello","--flag"]'],
  ['{{.Config.Labels}}', 'map[org.example.a:1 org.example.b:two words]'],
  ['{{index .Config.Labels "org.example.b"}}', 'two words'],
  ['{{.Config.ExposedPorts}}', 'map[53/udp:{} 8080/tcp:{}]'],
  ['{{.Config.WorkingDir}} {{.Config.User}}', '/work 1000:1000'],
  [
    '{{range .Config.Env}}{{println .}}{{end}}',
    'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nX=1\nY=with space\n',
  ],
  ['{{join .Config.Env ";"}}', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin;X=1;Y=with space'],
  ['{{.Os}}/{{.Architecture}} {{.RootFS.Type}} {{len .RootFS.Layers}}', 'linux/amd64 layers 3'],
  ['{{.RepoTags}} {{.Config.Volumes}} {{.Config.StopSignal}}|{{.Config.Shell}}', '[meta:1] map[] |[]'],
  ['{{if .Config.Healthcheck}}hc{{else}}no healthcheck{{end}}', 'no healthcheck'],
];

describe('save, load, config, manifest, digest, inspect --format', () => {
  let tmp: string;
  let store: string;
  test.beforeAll(async ({ fileTmp }) => {
    tmp = fileTmp;
    store = join(tmp, 'store');
    expect((await runCli(['--store', store, 'import', '--tag', 'hello:1', HELLO])).code).toBe(0);
    expect((await runCli(['--store', store, 'tag', 'hello:1', 'hello:2'])).code).toBe(0);
    const s = await openStore({ root: store });
    fs.mkdirSync(join(tmp, 'ctx'));
    await build({
      store: s,
      context: join(tmp, 'ctx'),
      dockerfileText: META_DOCKERFILE,
      tags: ['meta:1'],
      sourceDateEpoch: 0,
    });
  });

  describe('config, manifest, digest', () => {
    it('print the stored bytes and the digest, as crane does', async () => {
      const s = await openStore({ root: store });
      const image = await loadImage({ store: s, image: 'hello:1' });
      const config = await runCli(['--store', store, 'config', 'hello:1']);
      expect(config.code, config.err).toBe(0);
      expect(config.bytes.equals(image.configBytes)).toBe(true);
      expect(sha(config.bytes)).toBe(image.manifest.config.digest);
      const manifest = await runCli(['--store', store, 'manifest', 'hello:2']);
      expect(manifest.bytes.equals(image.manifestBytes)).toBe(true);
      expect(sha(manifest.bytes)).toBe(HELLO_DIGEST);
      const digest = await runCli(['--store', store, 'digest', 'hello:1']);
      expect(digest.out).toBe(`${HELLO_DIGEST}\n`);
      expect((await runCli(['--store', store, 'digest', HELLO_DIGEST.slice(0, 15)])).out).toBe(`${HELLO_DIGEST}\n`);
      const platform = await runCli(['--store', store, 'digest', '--platform', 'linux/amd64', 'hello:1']);
      expect(platform.out).toBe(`${HELLO_DIGEST}\n`);
    });

    it.each(['config', 'manifest', 'digest'])('%s of an unknown image fails with ERR_NOT_FOUND', async (cmd) => {
      const r = await runCli(['--store', store, cmd, 'nope:1']);
      expect(r.code).toBe(1);
      expect(r.out).toBe('');
      expect(r.err).toMatch(/^error\[ERR_NOT_FOUND\]: .*nope:1/);
    });
  });

  describe('save and load', () => {
    it('save writes a docker-archive to standard output: every name, each blob once', async () => {
      const r = await runCli(['--store', store, 'save', 'hello']);
      expect(r.code, r.err).toBe(0);
      const members = await tarMembers(r.bytes);
      const manifest = JSON.parse(members.get('manifest.json')!.toString()) as Array<{
        Config: string;
        RepoTags: string[];
        Layers: string[];
      }>;
      expect(manifest).toHaveLength(1);
      expect(manifest[0]!.RepoTags.sort()).toEqual(['hello:1', 'hello:2']);
      for (const p of [manifest[0]!.Config, ...manifest[0]!.Layers]) {
        expect(sha(members.get(p)!)).toBe(`sha256:${p.split('/').pop()}`);
      }
      expect(JSON.parse(members.get('repositories')!.toString())).toHaveProperty('hello');
    });

    it('save of several images and load into another store gives the same images', async () => {
      const file = join(tmp, 'two.tar');
      const r = await runCli(['--store', store, 'save', 'hello:1', 'meta:1', '-o', file]);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toBe('');
      const other = join(tmp, 'other');
      const loaded = await runCli(['--store', other, 'load', '-i', file]);
      expect(loaded.code, loaded.err).toBe(0);
      expect(loaded.out.split('\n').filter(Boolean).sort()).toEqual(['Loaded image: hello:1', 'Loaded image: meta:1']);
      for (const ref of ['hello:1', 'meta:1']) {
        const a = await runCli(['--store', store, 'config', ref]);
        const b = await runCli(['--store', other, 'config', ref]);
        expect(b.bytes.equals(a.bytes)).toBe(true);
      }
    });

    it('save by digest writes no name, and load says "Loaded image ID"', async () => {
      const file = join(tmp, 'byid.tar');
      expect((await runCli(['--store', store, 'save', HELLO_DIGEST.slice(7, 19), '-o', file])).code).toBe(0);
      const manifest = JSON.parse((await tarMembers(fs.readFileSync(file))).get('manifest.json')!.toString());
      expect(manifest[0].RepoTags).toEqual([]);
      const loaded = await runCli(['--store', join(tmp, 'byid'), 'load', '-i', file]);
      const config = await runCli(['--store', store, 'inspect', '--format', '{{.Id}}', 'hello:1']);
      expect(loaded.out).toBe(`Loaded image ID: ${config.out}`);
    });

    it('--format oci-archive writes an OCI layout with a ref name per name', async () => {
      const r = await runCli(['--store', store, 'save', '--format', 'oci-archive', 'hello:1', 'hello:2']);
      expect(r.code, r.err).toBe(0);
      const members = await tarMembers(r.bytes);
      const index = JSON.parse(members.get('index.json')!.toString()) as {
        manifests: Array<{ digest: string; annotations: Record<string, string> }>;
      };
      expect(index.manifests.map((m) => [m.digest, m.annotations['org.opencontainers.image.ref.name']])).toEqual([
        [HELLO_DIGEST, 'hello:1'],
        [HELLO_DIGEST, 'hello:2'],
      ]);
      expect(members.get('oci-layout')!.toString()).toBe('{"imageLayoutVersion":"1.0.0"}');
    });

    it('refuses a terminal, an unknown format and an unknown image, writing nothing', async () => {
      const tty = await runCli(['--store', store, 'save', 'hello:1'], { outTty: true });
      expect(tty.code).toBe(2);
      expect(tty.err).toMatch(/^error\[ERR_USAGE\]: cowardly refusing to write an archive to a terminal/);
      expect(tty.bytes.length).toBe(0);
      const format = await runCli(['--store', store, 'save', '--format', 'zip', 'hello:1']);
      expect(format.code).toBe(2);
      expect(format.err).toMatch(/unknown save format "zip"/);
      const file = join(tmp, 'missing.tar');
      const missing = await runCli(['--store', store, 'save', 'hello:1', 'nope:9', '-o', file]);
      expect(missing.code).toBe(1);
      expect(missing.err).toMatch(/ERR_NOT_FOUND.*nope:9/);
      expect(fs.existsSync(file)).toBe(false);
      expect(fs.readdirSync(tmp).filter((n) => n.startsWith('missing'))).toEqual([]);
    });

    it('load of a damaged archive fails and leaves the store as it was', async () => {
      const file = join(tmp, 'two.tar');
      const bytes = fs.readFileSync(file);
      const bad = join(tmp, 'bad.tar');
      fs.writeFileSync(bad, bytes.subarray(0, Math.floor(bytes.length / 2)));
      const target = join(tmp, 'bad-store');
      const r = await runCli(['--store', target, 'load', '-i', bad]);
      expect(r.code).toBe(1);
      expect(r.out).toBe('');
      expect(fs.readdirSync(join(target, 'blobs', 'sha256'))).toEqual([]);
    });

    it('a pipe between two processes: save | load (the CLI as a user runs it)', () => {
      const target = join(tmp, 'piped');
      const out = execFileSync(
        'sh',
        ['-c', `"$TSX" "$CLI" --store "$A" save meta:1 hello:2 | "$TSX" "$CLI" --store "$B" load`],
        { env: { ...process.env, TSX, CLI, A: store, B: target }, encoding: 'utf8' },
      );
      expect(out.split('\n').filter(Boolean).sort()).toEqual(['Loaded image: hello:2', 'Loaded image: meta:1']);
    }, 60_000);
  });

  describe('inspect --format', () => {
    it.each(FORMAT_CASES)('%s', async (format, expected) => {
      const r = await runCli(['--store', store, 'inspect', '--format', format, 'meta:1']);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toBe(`${expected}\n`);
    });

    it('{{json .}} is docker\'s shape; "json" prints it; one line per image', async () => {
      const r = await runCli(['--store', store, 'inspect', '-f', '{{json .}}', 'meta:1', 'hello:1']);
      const [meta, hello] = r.out
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
      expect(Object.keys(meta)).toEqual([
        'Id',
        'RepoTags',
        'RepoDigests',
        'Parent',
        'Comment',
        'Created',
        'DockerVersion',
        'Author',
        'Config',
        'Architecture',
        'Os',
        'Size',
        'RootFS',
        'Metadata',
        'Descriptor',
      ]);
      expect(meta.Config.Entrypoint).toEqual(['/bin/hello', '--flag']);
      expect(meta.Config).not.toHaveProperty('StopSignal');
      expect(hello.Config.Entrypoint).toBeNull();
      expect(hello.Descriptor.digest).toBe(HELLO_DIGEST);
      const plain = await runCli(['--store', store, 'inspect', '--format', 'json', 'meta:1']);
      expect(JSON.parse(plain.out)).toEqual(meta);
    });

    it('a bad template is a usage error; a field that fails is an error naming it', async () => {
      const parse = await runCli(['--store', store, 'inspect', '-f', '{{.Config.Cmd', 'meta:1']);
      expect(parse.code).toBe(2);
      expect(parse.err).toMatch(/^error\[ERR_USAGE\]: template parsing error: template: :1: unclosed action/);
      const exec = await runCli(['--store', store, 'inspect', '-f', '{{.Os.Name}}', 'meta:1']);
      expect(exec.code).toBe(2);
      expect(exec.err).toMatch(/executing "" at <\.Os\.Name>: can't evaluate field Name in type string/);
      expect((await runCli(['--store', store, 'inspect', '-f', '{{.NoSuchField}}', 'meta:1'])).out).toBe(
        '<no value>\n',
      );
    });

    it('without --format, the JSON is as before', async () => {
      const r = await runCli(['--store', store, 'inspect', 'hello:1']);
      const v = JSON.parse(r.out);
      expect(Object.keys(v)).toEqual(['names', 'descriptor', 'manifest', 'config']);
      expect(v.descriptor.digest).toBe(HELLO_DIGEST);
    });
  });

  describe('images --filter', () => {
    const rows = (out: string) =>
      out
        .split('\n')
        .slice(1)
        .filter(Boolean)
        .map((l) => l.split(/\s+/)[0]);
    it.each([
      [
        ['--filter', 'reference=hello'],
        ['hello:1', 'hello:2'],
      ],
      [['-f', 'label=org.example.a=1'], ['meta:1']],
      [['-f', 'label=org.example.a', '-f', 'reference=hello:*'], []],
      [
        ['-f', 'reference=meta', '-f', 'reference=hello:2'],
        ['hello:2', 'meta:1'],
      ],
      [['hello:2'], ['hello:2']],
      [['-f', 'dangling=true'], []],
    ] as Array<[string[], string[]]>)('%j', async (args, expected) => {
      const r = await runCli(['--store', store, 'images', ...args]);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toMatch(/^NAME +DIGEST/);
      expect(rows(r.out).sort()).toEqual(expected);
    });
    it('a bad filter is a usage error', async () => {
      const r = await runCli(['--store', store, 'images', '--filter', 'colour=red']);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/^error\[(usage|ERR_USAGE)\]: invalid filter 'colour'/);
    });
  });

  describe.skipIf(!hasTool('podman'))('against podman', () => {
    let podmanDir: string;
    const podman = (...args: string[]) =>
      execFileSync(
        'podman',
        ['--root', join(podmanDir, 'root'), '--runroot', join(podmanDir, 'run'), '--storage-driver', 'vfs', ...args],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 },
      );
    beforeAll(() => {
      podmanDir = join(tmp, 'podman');
      fs.mkdirSync(podmanDir);
    });
    afterAll(() => {
      try {
        podman('system', 'reset', '--force');
      } catch {
        // the folder is removed with tmp anyway
      }
    });

    it.each(['docker-archive', 'oci-archive'])(
      'podman loads what save writes (%s)',
      async (format) => {
        const file = join(tmp, `podman-${format}.tar`);
        expect((await runCli(['--store', store, 'save', '--format', format, 'meta:1', '-o', file])).code).toBe(0);
        const out = podman('load', '-q', '-i', file);
        const name = /Loaded image(?:\(s\))?: (\S*meta:1)$/m.exec(out)?.[1];
        expect(name, out).toMatch(/^(localhost|docker\.io\/library)\/meta:1$/);
        const id = (await runCli(['--store', store, 'inspect', '-f', '{{.Id}}', 'meta:1'])).out.trim();
        expect(podman('image', 'inspect', '--format', '{{.Id}}', name!).trim()).toBe(id.slice(7));
      },
      120_000,
    );

    it('podman image inspect --format prints what inspect --format prints', async () => {
      const file = join(tmp, 'podman-docker-archive.tar');
      if (!fs.existsSync(file)) await runCli(['--store', store, 'save', 'meta:1', '-o', file]);
      const name = /Loaded image(?:\(s\))?: (\S*meta:1)$/m.exec(podman('load', '-q', '-i', file))![1]!;
      const templates = [
        ...FORMAT_CASES.map(([t]) => t).filter((t) => !t.includes('RepoTags')),
        '{{json .Config.Labels}} {{json .Config.Env}} {{json .Config.Cmd}}',
        '{{range $p, $_ := .Config.ExposedPorts}}{{$p}},{{end}}',
        '{{range $i, $l := .RootFS.Layers}}{{$i}}={{printf "%.19s" $l}} {{end}}',
        '{{if and .Config.Entrypoint (eq .Os "linux")}}yes{{end}} {{or .Config.StopSignal "none"}}',
        '{{printf "%s|%5s|%-3d|%q" .Os .Architecture (len .Config.Env) .Config.WorkingDir}}',
        '{{upper .Config.User}} {{title "a b"}} {{split .Config.User ":"}} {{pad .Os 1 1}}.',
        '{{with .Config.Labels}}{{index . "org.example.a"}}{{end}}{{with .Config.Volumes}}v{{else}}-{{end}}',
        '{{- range .Config.Env -}} [{{- . -}}] {{- end}}',
      ];
      for (const template of templates) {
        const ours = await runCli(['--store', store, 'inspect', '--format', template, 'meta:1']);
        expect(ours.code, ours.err).toBe(0);
        const theirs = podman('image', 'inspect', '--format', template, name);
        expect({ template, out: ours.out }).toEqual({ template, out: theirs });
      }
    }, 120_000);

    it('load reads what podman save writes (docker-archive and oci-archive)', async () => {
      podman('tag', 'meta:1', 'localhost/peer:2');
      for (const format of ['docker-archive', 'oci-archive']) {
        const file = join(tmp, `from-podman-${format}.tar`);
        podman('save', '--format', format, '-o', file, 'localhost/peer:2');
        const target = join(tmp, `from-podman-${format}`);
        const r = await runCli(['--store', target, 'load', '-i', file]);
        expect(r.code, r.err).toBe(0);
        expect(r.out).toMatch(/^Loaded image: (localhost\/)?peer:2\n$/);
        const name = r.out.trim().slice('Loaded image: '.length);
        const ours = await runCli([
          '--store',
          target,
          'inspect',
          '-f',
          '{{json .Config.Labels}} {{.Config.Cmd}}',
          name,
        ]);
        expect(ours.out).toBe('{"org.example.a":"1","org.example.b":"two words"} [arg one]\n');
      }
    }, 120_000);
  });

  it('podman missing is named with its Debian package', () => {
    expect(missingToolMessage('podman')).toMatch(/Debian package: podman/);
  });
});
