/**
 * The remote build cache (`--cache-to`/`--cache-from`) against a real registry: a CI fleet of two
 * machines (two stores) and one registry, mode=min against mode=max, the inline cache read from
 * an image, a record whose layer bytes were damaged on the registry (a miss with its reason), the
 * token registry, and credentials that never reach a record.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { it } from '../helpers/fixtures.js';
import {
  build,
  createVirtualShell,
  flattenImage,
  openStore,
  parseCacheExport,
  parseCacheImport,
  pushImage,
  readFlatFile,
  type BuildEvent,
  type BuildOptions,
  type Executor,
  type StepRecord,
} from '../../src/index.js';
import { registryTestbedMissing, startTestbed, type Testbed } from '../helpers/registry-testbed.js';
import { storeSnapshot } from './images.js';
import { spawnCli } from '../helpers/spawn-cli.js';

const missing = registryTestbedMissing();

describe('--cache-from and --cache-to values, as buildx takes them', () => {
  it.each([
    ['reg:5000/app/cache', { type: 'registry', ref: 'reg:5000/app/cache' }],
    ['type=registry,ref=reg:5000/app/cache:ci', { type: 'registry', ref: 'reg:5000/app/cache:ci' }],
    ['ref=reg:5000/app:1', { type: 'registry', ref: 'reg:5000/app:1' }],
  ])('--cache-from %s', (spec, expected) => {
    expect(parseCacheImport(spec)).toEqual(expected);
  });
  it.each([
    ['type=registry,ref=reg:5000/c', { type: 'registry', ref: 'reg:5000/c', mode: 'min' }],
    ['type=registry,ref=reg:5000/c,mode=max', { type: 'registry', ref: 'reg:5000/c', mode: 'max' }],
    ['type=inline', { type: 'inline' }],
    ['reg:5000/c', { type: 'registry', ref: 'reg:5000/c', mode: 'min' }],
  ])('--cache-to %s', (spec, expected) => {
    expect(parseCacheExport(spec)).toEqual(expected);
  });
  it.each([
    ['type=local', 'from'],
    ['type=registry', 'from'],
    [`reg:5000/c@sha256:${'a'.repeat(64)}`, 'from'],
    ['type=registry,ref=reg:5000/c,mode=all', 'to'],
    ['type=gha', 'to'],
    [`type=registry,ref=reg:5000/c:${'t'.repeat(64)}`, 'to'],
  ])('%s is a usage error naming the flag', (spec, which) => {
    const parse = which === 'from' ? parseCacheImport : parseCacheExport;
    expect(() => parse(spec)).toThrow(expect.objectContaining({ code: 'ERR_USAGE' }));
  });
});
const env = { HOME: '/nonexistent-home', PATH: process.env.PATH };

const DOCKERFILE = `FROM scratch AS build
COPY a.txt /src/a.txt
RUN cat /src/a.txt > /src/a.out
COPY b.txt /src/b.txt
RUN cat /src/b.txt /src/a.out > /src/b.out
FROM scratch
COPY --from=build /src/a.out /a.out
RUN cat /a.out > /final
`;

/** The virtual shell, counting the commands it runs. */
function countingShell(): Executor & { calls: number } {
  const shell = createVirtualShell();
  const counted = {
    name: shell.name,
    calls: 0,
    run: (request: Parameters<Executor['run']>[0]) => {
      counted.calls++;
      return shell.run(request);
    },
  };
  return counted;
}

/** The filesystem steps of a build: `stage step status`, with the registry a hit came from. */
function fsSteps(steps: StepRecord[]): string[] {
  return steps
    .filter((s) => !s.metadata && s.index > 0)
    .map(
      (s) =>
        `${s.stage} ${s.index} ${s.status}${s.cacheSource?.kind === 'registry' ? ` from ${s.cacheSource.ref}` : ''}`,
    );
}

describe.skipIf(missing !== undefined)(`the remote build cache${missing ? ` (${missing})` : ''}`, () => {
  let bed: Testbed;
  let host: string;
  beforeAll(async () => {
    bed = await startTestbed({ plain: true, token: true });
    host = bed.plain!.host;
  });
  afterAll(async () => {
    await bed?.stop();
  });

  /** A machine: its own context folder (same files, under the test's `parent`) and store. */
  async function machine(parent: string, files: Record<string, string> = { 'a.txt': 'alpha\n', 'b.txt': 'beta\n' }) {
    const dir = fs.mkdtempSync(join(parent, 'machine-'));
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(join(dir, name), text);
    const store = await openStore({ memory: true });
    const executor = countingShell();
    const run = async (options: Partial<BuildOptions> = {}) => {
      const events: BuildEvent[] = [];
      const result = await build({
        store,
        context: dir,
        dockerfileText: DOCKERFILE,
        executor,
        registry: { env },
        // Fixed times: the images of A and B compare byte for byte.
        sourceDateEpoch: 1_700_000_000,
        onEvent: (e) => events.push(e),
        ...options,
      });
      return { result, events };
    };
    return { dir, store, executor, run };
  }

  it('a CI fleet: B builds from an empty store with every step from A’s cache, then misses only what an edit touches', async ({
    tmp,
  }) => {
    const cache = `${host}/fleet/cache`;
    const a = await machine(tmp);
    const built = await a.run({ cacheTo: [{ type: 'registry', ref: cache, mode: 'max' }] });
    expect(a.executor.calls).toBe(3);
    const exported = built.events.find((e) => e.type === 'cache-export');
    expect(exported).toMatchObject({ ref: cache, records: 6 });
    expect((exported as { bytesUploaded: number }).bytesUploaded).toBeGreaterThan(0);

    // Machine B: another folder, another store, the same files.
    const b = await machine(tmp);
    const first = await b.run({ cacheFrom: [{ type: 'registry', ref: cache }] });
    expect(b.executor.calls).toBe(0);
    expect(fsSteps(first.result.steps)).toEqual([
      `build 1 cached from ${cache}`,
      `build 2 cached from ${cache}`,
      `build 3 cached from ${cache}`,
      `build 4 cached from ${cache}`,
      `stage-1 1 cached from ${cache}`,
      `stage-1 2 cached from ${cache}`,
    ]);
    // The same image, byte for byte (the build is reproducible from the same layers).
    expect(first.result.image.descriptor.digest).toBe(built.result.image.descriptor.digest);
    const flat = await flattenImage({ store: b.store, image: first.result.image });
    expect(readFlatFile(flat, '/final').toString()).toBe('alpha\n');

    // One edit on B: the steps that depend on b.txt miss, the file is named; the rest still hits.
    fs.writeFileSync(join(b.dir, 'b.txt'), 'beta two\n');
    const edited = await b.run({ cacheFrom: [{ type: 'registry', ref: cache }] });
    expect(fsSteps(edited.result.steps)).toEqual([
      'build 1 cached',
      'build 2 cached',
      'build 3 built',
      'build 4 built',
      'stage-1 1 cached',
      'stage-1 2 cached',
    ]);
    expect(b.executor.calls).toBe(1);
    const copyB = edited.result.steps.find((s) => s.stage === 'build' && s.index === 3)!;
    expect(copyB.explanation).toEqual([
      expect.objectContaining({
        kind: 'files',
        files: [expect.objectContaining({ path: 'b.txt', change: 'modified' })],
      }),
    ]);

    // Machine C never built this Dockerfile: the miss is explained from the record A exported.
    const c = await machine(tmp, { 'a.txt': 'alpha\n', 'b.txt': 'beta two\n' });
    const fresh = await c.run({ cacheFrom: [{ type: 'registry', ref: cache }] });
    const copyC = fresh.result.steps.find((s) => s.stage === 'build' && s.index === 3)!;
    expect(copyC.status).toBe('built');
    expect(copyC.explanation).toEqual(copyB.explanation);
    expect(fresh.result.steps.find((s) => s.stage === 'build' && s.index === 4)!.explanation).toEqual([
      expect.objectContaining({ kind: 'parent' }),
    ]);

    // Re-exporting an unchanged cache sends no blob bytes.
    const again = await a.run({ cacheTo: [{ type: 'registry', ref: cache, mode: 'max' }] });
    expect(again.events.find((e) => e.type === 'cache-export')).toMatchObject({ records: 6, bytesUploaded: 0 });
  });

  it('mode=min exports only the final image’s steps; mode=max every stage’s', async ({ tmp }) => {
    const a = await machine(tmp);
    await a.run({
      cacheTo: [
        { type: 'registry', ref: `${host}/modes/cache:min`, mode: 'min' },
        { type: 'registry', ref: `${host}/modes/cache:max`, mode: 'max' },
      ],
    });
    const counts: Record<string, string[]> = {};
    for (const mode of ['min', 'max']) {
      const b = await machine(tmp);
      const { result } = await b.run({ cacheFrom: [{ type: 'registry', ref: `${host}/modes/cache:${mode}` }] });
      counts[mode] = fsSteps(result.steps).map((s) => s.replace(/ from .*/, ' remote'));
    }
    // min: the build stage is rebuilt; the final stage's COPY --from (same a.out) and RUN hit.
    expect(counts['min']).toEqual([
      'build 1 built',
      'build 2 built',
      'build 3 built',
      'build 4 built',
      'stage-1 1 cached remote',
      'stage-1 2 cached remote',
    ]);
    expect(counts['max']!.every((s) => s.endsWith('cached remote'))).toBe(true);
  });

  it('the inline cache: --cache-from an image built with --cache-to type=inline, with no cache repository', async ({
    tmp,
  }) => {
    const a = await machine(tmp);
    const ref = `${host}/inline/app:1`;
    const built = await a.run({ cacheTo: [{ type: 'inline' }], tags: ['app:1'] });
    const config = JSON.parse(built.result.image.configBytes.toString('utf8')) as Record<string, unknown>;
    expect(config['dev.layerkit.cache.v1']).toMatchObject({ records: [{ layer: 0 }, { layer: 1 }] });
    await pushImage({ store: a.store, image: 'app:1', ref, env });

    const b = await machine(tmp);
    const { result } = await b.run({ cacheFrom: [{ type: 'registry', ref }], cacheTo: [{ type: 'inline' }] });
    expect(fsSteps(result.steps).slice(4)).toEqual([`stage-1 1 cached from ${ref}`, `stage-1 2 cached from ${ref}`]);
    expect(result.image.descriptor.digest).toBe(built.result.image.descriptor.digest);
  });

  it('a record whose layer bytes were damaged on the registry is a miss with its reason, never kept', async ({
    tmp,
  }) => {
    const cache = `${host}/damaged/cache`;
    const a = await machine(tmp);
    const built = await a.run({ cacheTo: [{ type: 'registry', ref: cache, mode: 'max' }] });
    const final = built.result.steps.find((s) => s.stage === 'stage-1' && s.index === 2)!;
    const hex = final.layer!.digest.slice('sha256:'.length);
    const data = join(
      bed.dir,
      'plain',
      'data',
      'docker',
      'registry',
      'v2',
      'blobs',
      'sha256',
      hex.slice(0, 2),
      hex,
      'data',
    );
    const bytes = fs.readFileSync(data);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
    fs.writeFileSync(data, bytes);

    const b = await machine(tmp);
    const { result } = await b.run({ cacheFrom: [{ type: 'registry', ref: cache }] });
    const step = result.steps.find((s) => s.stage === 'stage-1' && s.index === 2)!;
    expect(step.status).toBe('built');
    expect(step.explanation![0]).toMatchObject({ kind: 'remote-invalid' });
    expect(step.explanation![0]!.message).toContain(final.layer!.digest);
    expect(b.executor.calls).toBe(1);
    // The rebuilt layer is the right one; the damaged bytes were never stored.
    expect(step.layer!.digest).toBe(final.layer!.digest);
    expect(fsSteps(result.steps).filter((s) => s.includes('cached from')).length).toBe(5);
  });

  it('the CLI: --cache-to exports, --cache-from on an empty store prints CACHED from registry REF', async ({
    tmp: dir,
  }) => {
    fs.writeFileSync(join(dir, 'a.txt'), 'alpha\n');
    fs.writeFileSync(join(dir, 'b.txt'), 'beta\n');
    fs.writeFileSync(join(dir, 'Dockerfile'), DOCKERFILE);
    const cache = `${host}/cli/cache:ci`;
    const cli = (store: string, args: string[]) =>
      spawnCli(['--store', join(dir, store), ...args], { env, cleanEnv: true });
    const a = await cli('a', [
      'build',
      '--executor',
      'shell',
      '--cache-to',
      `type=registry,ref=${cache},mode=max`,
      dir,
    ]);
    expect(a.code, a.err).toBe(0);
    expect(a.out).toMatch(new RegExp(`exported cache to ${cache}: 6 records, [\\d.]+\\s?kB of layers sent`));
    const b = await cli('b', ['build', '--executor', 'shell', '--progress', 'plain', '--cache-from', cache, dir]);
    expect(b.code, b.err).toBe(0);
    expect(b.err.match(new RegExp(`CACHED from registry ${cache}`, 'g'))).toHaveLength(6);
    const bad = await cli('b', ['build', '--cache-to', 'type=registry,ref=x/y,mode=all', dir]);
    expect(bad.code).not.toBe(0);
    expect(bad.err).toContain('--cache-to');
  });

  it('an unreachable cache is a miss that says why; the build still succeeds', async ({ tmp }) => {
    const b = await machine(tmp);
    const before = storeSnapshot(b.store);
    const { result } = await b.run({ cacheFrom: [{ type: 'registry', ref: '127.0.0.1:9/none/cache' }] });
    expect(result.steps.find((s) => s.index === 1)!.explanation![0]).toMatchObject({ kind: 'remote-invalid' });
    expect(storeSnapshot(b.store)).not.toEqual(before);
  });

  it('the token registry: A exports with credentials, B reads anonymously; no credential reaches a record', async ({
    tmp,
  }) => {
    const tokenHost = bed.token!.host;
    const cache = `${tokenHost}/team/cache`;
    const auth = { username: bed.user, password: bed.pass };
    const a = await machine(tmp);
    const registry = { env, certsDir: bed.certsDir, auth };
    await a.run({ registry, cacheTo: [{ type: 'registry', ref: cache, mode: 'max' }] });
    // Without credentials, the export is refused with a clear error.
    const refused = await machine(tmp);
    await expect(
      refused.run({
        registry: { env, certsDir: bed.certsDir },
        cacheTo: [{ type: 'registry', ref: `${tokenHost}/team/other`, mode: 'max' }],
      }),
    ).rejects.toMatchObject({ code: 'ERR_REGISTRY_AUTH' });

    const b = await machine(tmp);
    const { result } = await b.run({
      registry: { env, certsDir: bed.certsDir },
      cacheFrom: [{ type: 'registry', ref: cache }],
    });
    expect(b.executor.calls).toBe(0);
    expect(fsSteps(result.steps).every((s) => s.endsWith(`cached from ${cache}`))).toBe(true);
    // Nothing the registry stored (records, index, layers) holds the password or the user name.
    const stored: string[] = [];
    const walk = (dir: string): void => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true }))
        e.isDirectory() ? walk(join(dir, e.name)) : stored.push(fs.readFileSync(join(dir, e.name), 'latin1'));
    };
    walk(join(bed.dir, 'token', 'data'));
    expect(stored.length).toBeGreaterThan(10);
    expect(stored.some((t) => t.includes(bed.pass))).toBe(false);
    expect(stored.some((t) => t.includes(`"${bed.user}"`))).toBe(false);
  });
});
