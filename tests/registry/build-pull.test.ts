/**
 * The builder and the registry: FROM and COPY --from pull what the store lacks (`--pull missing`),
 * `--pull always` resolves the tag again and the cache sees the new base, `--pull never` keeps the
 * offline error; a failed pull leaves the store as it was; `layerkit build --push` pushes the image.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect } from 'vitest';
import { it, test } from '../helpers/fixtures.js';
import {
  build,
  flattenImage,
  openStore,
  pullImage,
  pushImage,
  readFlatFile,
  type BuildEvent,
  type BuildOptions,
  type Store,
} from '../../src/index.js';
import { hintFor } from '../../src/cli/hints.js';
import { registryTestbedMissing, startTestbed, type Testbed } from '../helpers/registry-testbed.js';
import { makeImage, storeSnapshot } from './images.js';
import { spawnCli } from '../helpers/spawn-cli.js';

const missing = registryTestbedMissing();
const env = { HOME: '/nonexistent-home', PATH: process.env.PATH };

describe.skipIf(missing !== undefined)(`builds that pull and push${missing ? ` (${missing})` : ''}`, () => {
  let bed: Testbed;
  let ctx: string;
  let host: string;
  test.beforeAll(async ({ fileTmp }) => {
    bed = await startTestbed({ plain: true });
    host = bed.plain!.host;
    ctx = fileTmp;
    fs.writeFileSync(join(ctx, 'app.txt'), 'app\n');
    const origin = await openStore({ memory: true });
    await makeImage(origin, 'base:1', [{ 'etc/os': 'base one\n' }]);
    await pushImage({ store: origin, image: 'base:1', ref: `${host}/lib/base:1`, env });
  });
  afterAll(async () => {
    await bed?.stop();
  });

  async function run(store: Store, dockerfile: string, options: Partial<BuildOptions> = {}) {
    const events: BuildEvent[] = [];
    const result = await build({
      store,
      context: ctx,
      dockerfileText: dockerfile,
      registry: { env },
      onEvent: (e) => events.push(e),
      ...options,
    });
    return { result, events, pulls: events.filter((e) => e.type === 'pull') };
  }

  it('FROM an image the store lacks pulls it once; the next build reads the store', async ({ store }) => {
    const dockerfile = `FROM ${host}/lib/base:1\nCOPY app.txt /app.txt\n`;
    const first = await run(store, dockerfile);
    expect(first.pulls.map((e) => (e as { status: string }).status)).toEqual(['started', 'done']);
    expect(first.pulls[0]).toMatchObject({ ref: `${host}/lib/base:1`, stage: 'stage-0', index: 0 });
    const flat = await flattenImage({ store, image: first.result.image });
    expect(readFlatFile(flat, '/etc/os').toString()).toBe('base one\n');
    expect(readFlatFile(flat, '/app.txt').toString()).toBe('app\n');
    const second = await run(store, dockerfile);
    expect(second.pulls).toEqual([]);
    expect(second.result.steps.filter((s) => !s.metadata).map((s) => s.status)).toEqual(['cached']);
  });

  it('--pull always sees a re-pushed tag: the base changed, the step misses and says why', async ({ store }) => {
    const dockerfile = `FROM ${host}/lib/moving:1\nCOPY app.txt /app.txt\n`;
    const origin = await openStore({ memory: true });
    await makeImage(origin, 'm:1', [{ 'etc/os': 'first\n' }]);
    await pushImage({ store: origin, image: 'm:1', ref: `${host}/lib/moving:1`, env });
    await run(store, dockerfile);
    await makeImage(origin, 'm:2', [{ 'etc/os': 'second\n' }]);
    await pushImage({ store: origin, image: 'm:2', ref: `${host}/lib/moving:1`, env });
    const missing = await run(store, dockerfile);
    expect(missing.pulls).toEqual([]);
    expect(missing.result.steps.find((s) => !s.metadata)?.status).toBe('cached');
    const always = await run(store, dockerfile, { pull: 'always' });
    expect(always.pulls.length).toBe(2);
    const copy = always.result.steps.find((s) => !s.metadata)!;
    expect(copy.status).toBe('built');
    expect(copy.explanation?.map((r) => r.kind)).toContain('base-image');
    const flat = await flattenImage({ store, image: always.result.image });
    expect(readFlatFile(flat, '/etc/os').toString()).toBe('second\n');
  });

  it('COPY --from an image pulls it too', async ({ store }) => {
    const { result, pulls } = await run(store, `FROM scratch\nCOPY --from=${host}/lib/base:1 /etc/os /os\n`);
    expect(pulls.length).toBe(2);
    const flat = await flattenImage({ store, image: result.image });
    expect(readFlatFile(flat, '/os').toString()).toBe('base one\n');
  });

  it('--pull never and an image the registry lacks: ERR_BUILD_BASE_NOT_FOUND, the store unchanged', async ({
    store,
  }) => {
    const before = storeSnapshot(store);
    const never = await run(store, `FROM ${host}/lib/base:1\n`, { pull: 'never' }).catch((e: unknown) => e);
    expect(never).toMatchObject({ code: 'ERR_BUILD_BASE_NOT_FOUND', data: { line: 1, pull: 'never' } });
    expect(hintFor(never as Error)).toMatch(/--pull missing/);
    const absent = await run(store, `FROM ${host}/lib/absent:1\nCOPY app.txt /\n`).catch((e: unknown) => e);
    expect(absent).toMatchObject({
      code: 'ERR_BUILD_BASE_NOT_FOUND',
      data: { line: 1, image: `${host}/lib/absent:1`, pull: 'missing' },
    });
    expect((absent as Error).message).toMatch(/^Dockerfile:1: FROM .*absent:1: pulling it failed/);
    expect(hintFor(absent as Error)).toMatch(/layerkit pull/);
    expect(storeSnapshot(store)).toEqual(before);
  });

  it('layerkit build --push pushes every -t name; --pull takes always bare and a policy with =', async () => {
    const storeDir = join(ctx, 'store');
    const cli = (args: string[]) =>
      spawnCli(['--store', storeDir, ...args], { env: { ...env, HOME: join(ctx, 'home') }, cleanEnv: true });
    fs.writeFileSync(join(ctx, 'Dockerfile'), `FROM ${host}/lib/base:1\nCOPY app.txt /app.txt\n`);
    const out = await cli(['build', '--progress', 'plain', '--pull', '--push', '-t', `${host}/team/out:1`, ctx]);
    expect(out.err + out.out).toMatch(/pulling .*lib\/base:1/);
    expect(out.code, out.err).toBe(0);
    expect(out.out).toMatch(new RegExp(`pushed ${host}/team/out:1 sha256:[0-9a-f]{64}`));
    const bad = await cli(['build', '--pull=sometimes', ctx]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--pull/);
    const noTag = await cli(['build', '--push', ctx]);
    expect(noTag.code).toBe(2);
    expect(noTag.err).toMatch(/--push needs a name/);
    const never = await cli(['build', '--pull=never', '--progress', 'plain', ctx]);
    expect(never.code, never.err).toBe(0);
  });

  it('what build --push pushed pulls into another store and has the built files', async ({ store }) => {
    const pulled = await pullImage({ store, ref: `${host}/team/out:1`, env });
    const flat = await flattenImage({ store, image: pulled.image });
    expect(readFlatFile(flat, '/app.txt').toString()).toBe('app\n');
    expect(readFlatFile(flat, '/etc/os').toString()).toBe('base one\n');
  });
});
