/**
 * `layerkit build`'s buildx flags: -o/--output (local, tar, oci, docker; a bare folder; '-' for
 * standard output), --label, --iidfile, --metadata-file, -q and --build-context, through
 * `main()` with captured streams; and --output's parsing as a table.
 */
import { describe, expect } from 'vitest';
import { test, it } from '../helpers/fixtures.js';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseOutputFlag } from '../../src/cli/commands/build.js';
import { runCli } from '../helpers/cli.js';

const HELLO = fileURLToPath(new URL('../../fixtures/images/hello.oci.tar', import.meta.url));

describe('parseOutputFlag', () => {
  const cwd = '/work';
  it.each([
    ['out', { type: 'local', dest: '/work/out' }],
    ['-', { type: 'tar', dest: '-' }],
    ['type=local,dest=dir', { type: 'local', dest: '/work/dir' }],
    ['dest=/abs', { type: 'local', dest: '/abs' }],
    ['type=tar,dest=-', { type: 'tar', dest: '-' }],
    ['type=tar,dest=r.tar', { type: 'tar', dest: '/work/r.tar' }],
    ['type=oci,dest=i.tar,name=app:1', { type: 'oci', dest: '/work/i.tar', name: 'app:1' }],
    ['type=docker,dest=/d.tar', { type: 'docker', dest: '/d.tar' }],
    ['type=image', undefined],
  ] as const)('%s', (raw, expected) => {
    expect(parseOutputFlag(raw, cwd)).toEqual(expected);
  });
  it.each([
    ['type=registry', /push the result after the build/],
    ['type=zip,dest=x', /unknown type "zip"/],
    ['type=local', /dest= is required/],
    ['type=local,dest=-', /a local output needs a folder/],
    ['type=tar,dest=x,compression=gzip', /unknown field compression=/],
    ['type=tar,,dest=x', /expected type=TYPE,dest=PATH/],
  ])('refuses %s', (raw, message) => {
    expect(() => parseOutputFlag(raw, cwd)).toThrow(message);
  });
});

describe('layerkit build flags', () => {
  let tmp: string;
  let store: string;
  let ctx: string;
  test.beforeAll(async ({ fileTmp }) => {
    tmp = fileTmp;
    store = join(tmp, 'store');
    expect((await runCli(['--store', store, 'import', '--tag', 'hello:1', HELLO])).code).toBe(0);
    ctx = join(tmp, 'ctx');
    fs.mkdirSync(ctx);
    fs.writeFileSync(
      join(ctx, 'Dockerfile'),
      'FROM hello:1\nLABEL from=dockerfile\nCOPY a.txt /a.txt\nCOPY --from=lib x.txt /x.txt\n',
    );
    fs.writeFileSync(join(ctx, 'a.txt'), 'a\n');
    fs.mkdirSync(join(tmp, 'lib'));
    fs.writeFileSync(join(tmp, 'lib', 'x.txt'), 'x\n');
  });
  const base = () => ['--store', store, 'build', '--progress', 'plain', '--build-context', `lib=${join(tmp, 'lib')}`];

  it('-q prints only the image ID; --iidfile and --metadata-file hold the same build; --label is in the config', async () => {
    const iid = join(tmp, 'iid');
    const meta = join(tmp, 'meta.json');
    const r = await runCli([
      ...base(),
      '-q',
      '-t',
      'flags:1',
      '--label',
      'from=flag',
      '--label',
      'team=a',
      '--iidfile',
      iid,
      '--metadata-file',
      meta,
      ctx,
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    const id = r.out.trim();
    expect(fs.readFileSync(iid, 'utf8')).toBe(id);
    const m = JSON.parse(fs.readFileSync(meta, 'utf8'));
    expect(m['containerimage.config.digest']).toBe(id);
    expect(m['image.name']).toBe('docker.io/library/flags:1');
    const digest = await runCli(['--store', store, 'digest', 'flags:1']);
    expect(m['containerimage.digest']).toBe(digest.out.trim());
    const labels = await runCli(['--store', store, 'inspect', '-f', '{{json .Config.Labels}} {{.Id}}', 'flags:1']);
    expect(labels.out).toBe(`{"from":"flag","team":"a"} ${id}\n`);
  });

  it('-o DIR writes the files; the usual lines say where', async () => {
    const dest = join(tmp, 'out-dir');
    const r = await runCli([...base(), '-o', dest, ctx]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(
      new RegExp(`^built sha256:[0-9a-f]{64} \\(image ID [0-9a-f]{12}\\)\\nwrote local output to ${dest}\\n$`),
    );
    expect(fs.readFileSync(join(dest, 'x.txt'), 'utf8')).toBe('x\n');
    expect(fs.existsSync(join(dest, 'bin', 'hello'))).toBe(true);
  });

  it('several -o write every output, as buildx ≥ 0.13: a folder, a tar, an OCI archive and standard output', async () => {
    const dir = join(tmp, 'multi-dir');
    const tar = join(tmp, 'multi.tar');
    const oci = join(tmp, 'multi.oci.tar');
    const r = await runCli([
      ...base(),
      '-o',
      `type=local,dest=${dir}`,
      '-o',
      `type=tar,dest=${tar}`,
      '-o',
      `type=oci,dest=${oci}`,
      '-o',
      '-',
      ctx,
    ]);
    expect(r.code, r.err).toBe(0);
    expect(fs.readFileSync(join(dir, 'x.txt'), 'utf8')).toBe('x\n');
    const tarNames = execFileSync('tar', ['-tf', tar], { encoding: 'utf8' }).split('\n');
    expect(tarNames).toContain('x.txt');
    expect(execFileSync('tar', ['-tf', oci], { encoding: 'utf8' }).split('\n')).toContain('index.json');
    const stdout = join(tmp, 'multi-stdout.tar');
    fs.writeFileSync(stdout, r.bytes);
    // the tar on standard output is the same bytes as the tar in the file
    expect(fs.readFileSync(stdout).equals(fs.readFileSync(tar))).toBe(true);
    for (const [type, dest] of [
      ['local', dir],
      ['tar', tar],
      ['oci', oci],
    ])
      expect(r.err).toContain(`wrote ${type} output to ${dest}\n`);
  });

  it('-o - writes a tar to standard output and nothing else there', async () => {
    const r = await runCli([...base(), '-o', '-', ctx]);
    expect(r.code, r.err).toBe(0);
    const file = join(tmp, 'stdout.tar');
    fs.writeFileSync(file, r.bytes);
    const names = execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).split('\n');
    expect(names).toContain('a.txt');
    expect(names).toContain('x.txt');
    expect(r.err).toMatch(/built sha256:/);
  });

  it.each([
    [['-o', '-'], { outTty: true }, /refusing to write a tar to a terminal/],
    [['-o', '-', '-o', 'type=oci,dest=-'], {}, /only one output can go to standard output/],
    [['-o', 'a', '-o', 'type=local,dest=a'], {}, /two outputs write to .*\/a$/m],
    [['--label', '=x'], {}, /--label "=x": expected KEY=VALUE/],
    [['--build-context', 'lib'], {}, /expected NAME=FOLDER/],
    [['--build-context', 'https://u:pw@h/x'], {}, /"https:\/\/h\/x": expected NAME=FOLDER/],
    [['-o', 'type=registry'], {}, /push the result after the build/],
  ] as Array<[string[], { outTty?: boolean }, RegExp]>)('%j is a usage error', async (args, options, message) => {
    const r = await runCli([...base(), ...args, ctx], options);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.bytes.length).toBe(0);
  });

  it('an unsupported --build-context form fails before any step', async () => {
    const r = await runCli([...base().slice(0, -2), '--build-context', 'lib=s3://bucket/x', ctx]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/error\[ERR_UNSUPPORTED\]: build context lib=s3:\/\/bucket\/x: use a folder/);
    expect(r.err).not.toMatch(/COPY/);
  });
});
