/**
 * `layerkit build` end to end through `main(argv, output)` on a tmpfs store: the progress modes,
 * the final digest and tags, `--explain` and `--show-logs`, JSON on stdout only, a failing RUN,
 * colours, and the argument checks of `parseBuildRequest`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { test, it } from '../helpers/fixtures.js';
import { parseBuildRequest } from '../../src/cli/commands/build.js';
import { UsageError } from '../../src/cli/output.js';
import { Terminal } from './progress-terminal.js';
import { runCli } from '../helpers/cli.js';

function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const apply = (v: Record<string, string | undefined>) => {
    for (const [k, x] of Object.entries(v)) {
      if (x === undefined) delete process.env[k];
      else process.env[k] = x;
    }
  };
  apply(vars);
  return fn().finally(() => apply(saved));
}

const DOCKERFILE = `FROM scratch AS builder
WORKDIR /src
COPY src/ ./src/
RUN echo building && cp src/a.txt out.txt && echo finished >&2

FROM builder AS unused
RUN echo never

FROM scratch
COPY --from=builder /src/out.txt /out.txt
CMD ["cat", "/out.txt"]
`;

describe('layerkit build', () => {
  let tmp: string;
  let store: string;
  let ctx: string;
  test.beforeAll(({ fileTmp }) => {
    tmp = fileTmp;
    store = join(tmp, 'store');
    ctx = join(tmp, 'ctx');
    mkdirSync(join(ctx, 'src'), { recursive: true });
    writeFileSync(join(ctx, 'Dockerfile'), DOCKERFILE);
    writeFileSync(join(ctx, 'src/a.txt'), 'one\n');
  });

  it('builds with plain progress on stderr and prints the digest and tags on stdout', async () => {
    const r = await runCli(['--store', store, 'build', '--progress', 'plain', '-t', 'app:1', '-t', 'app:latest', ctx]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^built sha256:[0-9a-f]{64} \(image ID [0-9a-f]{12}\)\ntagged app:1\ntagged app:latest\n$/);
    expect(r.err).toMatch(/^#\d+ \[builder 3\/3\] RUN echo building && cp src\/a\.txt out\.txt && echo finished >&2$/m);
    expect(r.err).toMatch(/^#\d+ \d\.\d{3} building$/m);
    expect(r.err).toMatch(/^#\d+ \[unused\] stage not needed for target stage-2\n#\d+ SKIPPED$/m);
    expect(r.err).not.toContain('\u001b');
  });

  it('--explain and --show-logs after a change: the report names the changed file, the logs are whole', async () => {
    writeFileSync(join(ctx, 'src/a.txt'), 'two, longer\n');
    const r = await runCli([
      '--store',
      store,
      'build',
      '--progress',
      'plain',
      '--explain',
      '--show-logs',
      '-t',
      'app:1',
      ctx,
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/^#\d+ MISS a source file changed: src\/a\.txt modified/m);
    expect(r.out).toMatch(/^#\d+ \[builder 1\/3\] WORKDIR \/src +CACHED$/m);
    expect(r.out).toMatch(
      /^#\d+ \[builder 2\/3\] COPY src\/ \.\/src\/ +MISS {2}src\/a\.txt modified: content \(4 → 12 bytes\)$/m,
    );
    expect(r.out).toMatch(/^#\d+ \[builder 3\/3\] RUN echo building .* \(built, \d+\.\ds\)\nbuilding\nfinished\n/m);
    expect(r.out).toMatch(/\nbuilt sha256:[0-9a-f]{64} \(image ID [0-9a-f]{12}\)\ntagged app:1\n$/);
    // The numbers in the report are the ones the progress showed.
    const copy = /^#(\d+) \[builder 2\/3\] COPY/m.exec(r.out)![1];
    expect(r.err).toMatch(new RegExp(`^#${copy} \\[builder 2/3\\] COPY src/ \\./src/$`, 'm'));
  });

  it('--progress json writes only JSON lines to stdout, the result last', async () => {
    const r = await runCli(['--store', store, 'build', '--progress', 'json', '-t', 'app:2', ctx]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toBe('');
    const events = r.out
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; [k: string]: unknown });
    expect(events[events.length - 1]).toMatchObject({
      type: 'result',
      digest: expect.stringMatching(/^sha256:/),
      tags: ['app:2'],
    });
    const steps = events.filter((e) => e.type === 'step');
    expect(steps.length).toBeGreaterThan(0);
    for (const s of steps)
      expect(s).toMatchObject({
        stage: expect.any(String),
        total: expect.any(Number),
        index: expect.any(Number),
        instruction: expect.any(String),
        status: expect.stringMatching(/^(cached|built|skipped)$/),
        durationMs: expect.any(Number),
      });
    expect(steps.filter((s) => s.status === 'cached').length).toBeGreaterThan(0);
  });

  it('--progress tty draws in place; the screen ends with every step on one line', async () => {
    const r = await withEnv({ NO_COLOR: '1', FORCE_COLOR: undefined }, () =>
      runCli(['--store', store, 'build', '--progress', 'tty', ctx], { errTty: true }),
    );
    expect(r.code, r.err).toBe(0);
    const term = new Terminal();
    term.write(r.err);
    expect(term.seen.sgr).toBe(0);
    const screen = term.screen();
    expect(screen).toMatch(/^\[\+\] Building \d+\.\ds \((\d+)\/\1\) FINISHED\n/);
    expect(screen).toMatch(/^ => CACHED \[builder 3\/3\] RUN echo building .* \d\.\ds$/m);
    expect(screen).not.toContain('=> => #');
    expect(term.widest).toBeLessThanOrEqual(99);
  });

  it('FORCE_COLOR colours the tty progress, NO_COLOR wins over it', async () => {
    const colored = await withEnv({ NO_COLOR: undefined, FORCE_COLOR: '1' }, () =>
      runCli(['--store', store, 'build', '--progress', 'tty', ctx], { errTty: true }),
    );
    expect(colored.err).toMatch(/\u001b\[34m/);
    const plain = await withEnv({ NO_COLOR: '1', FORCE_COLOR: '1' }, () =>
      runCli(['--store', store, 'build', '--progress', 'tty', ctx], { errTty: true }),
    );
    expect(plain.err).not.toMatch(/\u001b\[\d+m/);
  });

  it('auto is plain when stderr is not a terminal', async () => {
    const r = await runCli(['--store', store, 'build', ctx]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/^#1 \[builder 1\/3\] WORKDIR \/src$/m);
  });

  it('a failing RUN: ERROR in the progress, a one-line error, exit 1; JSON ends with the error', async () => {
    const bad = join(tmp, 'bad');
    mkdirSync(bad);
    writeFileSync(join(bad, 'Dockerfile'), 'FROM scratch\nRUN echo about to fail && exit 3\n');
    const r = await runCli(['--store', store, 'build', '--progress', 'plain', bad]);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/^#1 \[1\/1\] RUN echo about to fail && exit 3$/m);
    expect(r.err).toMatch(/^#1 \d\.\d{3} about to fail\n#1 ERROR: Dockerfile:2: RUN .*exit code 3$/m);
    expect(r.err).toMatch(/^error\[ERR_BUILD_EXIT_CODE\]: /m);
    const j = await runCli(['--store', store, 'build', '--progress', 'json', bad]);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.out.trimEnd().split('\n').pop()!)).toMatchObject({
      type: 'error',
      code: 'ERR_BUILD_EXIT_CODE',
    });
  });

  it('SOURCE_DATE_EPOCH makes the build reproducible across stores', async () => {
    const digests = [];
    for (const name of ['repro-a', 'repro-b']) {
      const r = await withEnv({ SOURCE_DATE_EPOCH: '1700000000' }, () =>
        runCli(['--store', join(tmp, name), 'build', '--progress', 'json', ctx]),
      );
      expect(r.code, r.err).toBe(0);
      digests.push((JSON.parse(r.out.trimEnd().split('\n').pop()!) as { digest: string }).digest);
    }
    expect(digests[0]).toBe(digests[1]);
  });

  it('usage errors exit 2', async () => {
    expect((await runCli(['--store', store, 'build', '--progress', 'fancy', ctx])).code).toBe(2);
    expect((await runCli(['--store', store, 'build', '--build-arg', '=x', ctx])).code).toBe(2);
    expect((await runCli(['--store', store, 'build'])).code).toBe(2);
  });
});

describe('parseBuildRequest', () => {
  const parse = (values: Record<string, string | boolean | string[]>, env: NodeJS.ProcessEnv = {}) =>
    parseBuildRequest({ context: 'ctx', values, env, cwd: '/work/here' });

  it('resolves the context and -f against the current folder, keeps - and absolute paths', () => {
    expect(parse({})).toMatchObject({
      context: '/work/here/ctx',
      dockerfile: undefined,
      progress: 'auto',
      tags: [],
      noCache: false,
    });
    expect(parse({ file: 'docker/Dockerfile' }).dockerfile).toBe('/work/here/docker/Dockerfile');
    expect(parse({ file: '/abs/Dockerfile' }).dockerfile).toBe('/abs/Dockerfile');
    expect(parse({ file: '-' }).dockerfile).toBe('-');
  });

  it('a git or tarball URL context is kept as written, and -f stays inside it', () => {
    for (const url of ['https://h/r.git#main:app', 'git@h:o/r.git', 'https://h/ctx.tar.gz']) {
      const req = parseBuildRequest({ context: url, values: { file: 'docker/Dockerfile' }, env: {}, cwd: '/w' });
      expect(req).toMatchObject({ context: url, dockerfile: 'docker/Dockerfile' });
    }
  });

  it.each([
    ['lib=../lib', { lib: '/work/lib' }],
    ['lib=git@h:o/r.git#v1', { lib: 'git@h:o/r.git#v1' }],
    ['lib=https://h/r.git', { lib: 'https://h/r.git' }],
    ['img=docker-image://alpine:3', { img: 'docker-image://alpine:3' }],
    ['l=oci-layout://out/layout:v1', { l: 'oci-layout:///work/here/out/layout:v1' }],
    [`l=oci-layout:///abs/layout@sha256:${'a'.repeat(64)}`, { l: `oci-layout:///abs/layout@sha256:${'a'.repeat(64)}` }],
  ])('--build-context %s', (flag, expected) => {
    expect(parse({ 'build-context': [flag] }).buildContexts).toEqual(expected);
  });

  it.each([
    [['A=1', 'B=', 'C=x=y'], {}, { A: '1', B: '', C: 'x=y' }],
    [['HTTP_PROXY'], { HTTP_PROXY: 'http://p:3128' }, { HTTP_PROXY: 'http://p:3128' }],
    [['UNSET'], {}, {}],
    [['A=1', 'A=2'], {}, { A: '2' }],
  ])('--build-arg %j with env %j gives %j', (args, env, expected) => {
    expect(parse({ 'build-arg': args }, env).buildArgs).toEqual(expected);
  });

  it.each([
    ['id=npmrc,src=.npmrc', { npmrc: { file: '/work/here/.npmrc' } }],
    ['id=npmrc,source=/etc/npmrc', { npmrc: { file: '/etc/npmrc' } }],
    ['id=tok,env=GITHUB_TOKEN', { tok: { env: 'GITHUB_TOKEN' } }],
    ['id=tok,type=env', { tok: { env: 'tok' } }],
    ['id=tok,type=file', { tok: { file: '/work/here/tok' } }],
  ])('--secret %s gives %j (docker build --secret syntax)', (flag, expected) => {
    expect(parse({ secret: [flag] }).secrets).toEqual(expected);
  });

  it('--allow takes entitlements, repeated or comma-separated', () => {
    expect(parse({ allow: ['network.host', 'security.insecure'] }).allow).toEqual([
      'network.host',
      'security.insecure',
    ]);
    expect(parse({ allow: ['network.host,security.insecure'] }).allow).toEqual(['network.host', 'security.insecure']);
    expect(parse({}).allow).toEqual([]);
  });

  it('--executor defaults to auto and --network to default; both take their documented values', () => {
    expect(parse({})).toMatchObject({ executor: 'auto', network: 'default' });
    for (const executor of ['auto', 'shell', 'linux']) expect(parse({ executor }).executor).toBe(executor);
    for (const network of ['default', 'none', 'host']) expect(parse({ network }).network).toBe(network);
  });

  it.each([
    [{ executor: 'docker' }],
    [{ network: 'bridge' }],
    [{ 'build-arg': ['=x'] }],
    [{ 'build-arg': ['1A=x'] }],
    [{ progress: 'fancy' }],
    [{ tag: [''] }],
    [{ secret: ['src=x'] }],
    [{ secret: ['id=a,colour=red'] }],
    [{ secret: ['id=a,type=ssh'] }],
    [{ allow: ['root'] }],
  ])('%j is a usage error', (values) => {
    expect(() => parse(values)).toThrow(UsageError);
  });

  it('SOURCE_DATE_EPOCH must be whole seconds', () => {
    expect(parse({}, { SOURCE_DATE_EPOCH: '1700000000' }).sourceDateEpoch).toBe(1700000000);
    expect(parse({}, { SOURCE_DATE_EPOCH: '' }).sourceDateEpoch).toBeUndefined();
    expect(() => parse({}, { SOURCE_DATE_EPOCH: 'yesterday' })).toThrow(UsageError);
  });
});
