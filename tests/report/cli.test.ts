/**
 * `layerkit history` and `layerkit explain` through `main(argv, output)`: on a store holding the
 * demo build (with a record) and an imported image (without one); help, JSON, HTML, errors.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect } from 'vitest';
import { test, it } from '../helpers/fixtures.js';
import { importImage, openStore, type HistoryRow, type ImageAnalysis } from '../../src/index.js';
import { buildDemoImage } from './demo-image.js';
import { runCli } from '../helpers/cli.js';

const HELLO = fileURLToPath(new URL('../../fixtures/images/hello.oci.tar', import.meta.url));

describe('history and explain commands', () => {
  let tmp: string;
  let root: string;
  test.beforeAll(async ({ fileTmp }) => {
    tmp = fileTmp;
    root = join(tmp, 'store');
    const store = await openStore({ root });
    await buildDemoImage({ store, dir: join(tmp, 'ctx') });
    await importImage({ store, source: HELLO, tags: ['hello:1'] });
  });

  it.each(['history', 'explain'])('%s --help shows usage, options and examples', async (name) => {
    const r = await runCli([name, '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`^Usage: layerkit ${name} `));
    expect(r.out).toContain('Options:');
    expect(r.out).toContain(`layerkit ${name} app:1`);
    const top = await runCli(['--help']);
    expect(top.out).toMatch(new RegExp(`^  ${name} +`, 'm'));
  });

  it('history prints docker’s columns plus CACHE, newest first', async () => {
    const r = await runCli(['--store', root, 'history', 'demo:1']);
    expect(r.code, r.err).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]!.split(/ {3,}/)).toEqual(['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', 'CACHE', 'COMMENT']);
    expect(lines).toHaveLength(10);
    expect(lines[1]).toMatch(/^[0-9a-f]{12} .*CMD \["\/app\/bundle.js"\] +0B +- +buildkit\.dockerfile\.v0$/);
    expect(lines[lines.length - 1]).toMatch(/^<missing> .*COPY rootfs\/ \/ # buildkit +2\.45kB +hit +buildkit/);
    expect(lines.filter((l) => / miss /.test(l))).toHaveLength(3);
    expect(lines.some((l) => l.includes('…'))).toBe(true);
    const full = await runCli(['--store', root, 'history', '--no-trunc', 'demo:1']);
    expect(full.out).not.toContain('…');
    expect(full.out).toMatch(/^sha256:[0-9a-f]{64} /m);
  });

  it('history --json: one row per line, newest first', async () => {
    const r = await runCli(['--store', root, 'history', '--json', 'demo:1']);
    const rows = r.out
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as HistoryRow);
    expect(rows.map((x) => x.cache)).toEqual(['config', 'miss', 'miss', 'miss', 'hit', 'hit', 'config', 'hit', 'hit']);
    expect(rows[1]!.step).toEqual({
      stage: 'stage-3',
      step: 5,
      total: 5,
      index: 6,
      prefix: '[stage-3 5/5]',
      instruction: 'COPY config/ /etc/app/',
      line: 19,
    });
  });

  it('history of an imported image: no CACHE column', async () => {
    const r = await runCli(['--store', root, 'history', 'hello:1']);
    expect(r.code, r.err).toBe(0);
    expect(r.out.split('\n')[0]!.split(/ {3,}/)).toEqual(['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT']);
  });

  it('explain prints every section', async () => {
    const r = await runCli(['--store', root, 'explain', 'demo:1']);
    expect(r.code, r.err).toBe(0);
    for (const heading of [
      'Image demo:1',
      'Layers (top first',
      'Changes per layer',
      'Wasted space: ',
      'Last build: Dockerfile',
      'Stages (bases as the build resolved them)',
    ])
      expect(r.out).toContain(heading);
    expect(r.out).toMatch(/28\.9 kB +1 +\/var\/cache\/pkg\/index\.txt +#1 28\.9 kB deleted by #2/);
    expect(r.out).toContain('MISS     [builder 2/3] COPY src/ /src/');
    expect(r.out).toContain('test       skipped  FROM base');
  });

  it('explain of an imported image says there is no build record', async () => {
    const r = await runCli(['--store', root, 'explain', 'hello:1']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('the store has no record of a build of this image');
  });

  it('explain --json is the analysis', async () => {
    const r = await runCli(['--store', root, 'explain', '--json', 'demo:1']);
    const a = JSON.parse(r.out) as ImageAnalysis;
    expect(a.image.names).toEqual(['demo:1']);
    expect(a.layers).toHaveLength(7);
    expect(a.waste.storedBytes).toBe(a.waste.finalBytes + a.waste.reclaimableBytes);
    expect(a.build?.stages.map((s) => s.status)).toEqual(['built', 'built', 'skipped', 'built']);
  });

  it('explain --html FILE writes one self-contained page', async () => {
    const file = join(tmp, 'report.html');
    const r = await runCli(['--store', root, 'explain', 'demo:1', '--html', file]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^wrote .*report\.html: 7 layers, [0-9.]+ kB reclaimable, efficiency [0-9.]+%\n$/);
    const html = readFileSync(file, 'utf8');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/\b(src|href)="(https?:)?\/\//);
    const stdout = await runCli(['--store', root, 'explain', 'demo:1', '--html', '-']);
    expect(stdout.out).toBe(html);
  });

  it.each([
    [['explain', 'demo:1', '--files', 'lots'], /--files takes a number or 'all'/],
    [['explain', 'demo:1', '--files=-1'], /--files takes a number or 'all'/],
    [['explain', 'demo:1', '--json', '--html', 'x.html'], /not both/],
    [['history'], /history takes 1 argument, got 0/],
    [['history', 'a', 'b'], /history takes 1 argument, got 2/],
  ])('usage error: %j', async (argv, message) => {
    const r = await runCli(['--store', root, ...argv]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(existsSync('x.html')).toBe(false);
  });

  it.each(['history', 'explain'])('%s of a missing image fails with ERR_NOT_FOUND and a hint', async (name) => {
    const r = await runCli(['--store', root, name, 'nope:1']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error\[ERR_NOT_FOUND\]: /);
    expect(r.err).toContain("hint: 'layerkit images' lists the images in the store");
  });
});
