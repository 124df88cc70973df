/**
 * The builder and the registry, the points build-pull and remote-cache leave weakly shown:
 * - the cache key sees the base's platform manifest, not its index: re-pushing the index with
 *   only another platform changed keeps every step cached; changing this platform's manifest
 *   misses, naming the manifest digests;
 * - `--pull always` resolves the tag again but fetches only blobs the store lacks (none, when
 *   the platform's image did not change; counted on the wire);
 * - several `--cache-from` at once, each hit saying which cache it came from;
 * - "CACHED from registry REF" in `layerkit history` and `layerkit explain`, not only progress.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { it } from '../helpers/fixtures.js';
import {
  build,
  createVirtualShell,
  flattenImage,
  MediaTypes,
  openStore,
  pushImage,
  readFlatFile,
  type BuildEvent,
  type BuildOptions,
  type Descriptor,
  type Executor,
  type Store,
} from '../../src/index.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { registryTestbedMissing, startTestbed, type Testbed } from '../helpers/registry-testbed.js';
import { spawnCli } from '../helpers/spawn-cli.js';
import { makeImage } from './images.js';

const missing = registryTestbedMissing();
const env = { HOME: '/nonexistent-home', PATH: process.env.PATH };
const amd64 = { os: 'linux', architecture: 'amd64' };

/** Tags in `store` an index of one image per platform; returns the index descriptor. */
async function platformIndex(store: Store, tag: string, amd: Descriptor, arm: Descriptor): Promise<Descriptor> {
  const bytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaTypes.ociIndex,
      manifests: [
        { mediaType: amd.mediaType, digest: amd.digest, size: amd.size, platform: amd64 },
        {
          mediaType: arm.mediaType,
          digest: arm.digest,
          size: arm.size,
          platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
        },
      ],
    }),
  );
  const put = await store.blobs.put(bytes);
  const index = { mediaType: MediaTypes.ociIndex, digest: put.digest, size: put.size };
  await store.tag(tag, index);
  return index;
}

describe.skipIf(missing !== undefined)(`builds and registries, audited${missing ? ` (${missing})` : ''}`, () => {
  let bed: Testbed;
  let proxy: FaultProxy;
  beforeAll(async () => {
    bed = await startTestbed({ plain: true });
    proxy = await startFaultProxy(bed.plain!.host);
  });
  afterAll(async () => {
    await proxy?.close();
    await bed?.stop();
  });

  it('the cache key sees the platform manifest, not the index; --pull always fetches only what is missing', async ({
    tmp,
  }) => {
    const origin = await openStore({ memory: true });
    const amd1 = await makeImage(origin, 'b:amd1', [{ 'etc/arch': 'amd64 one\n' }]);
    const arm1 = await makeImage(origin, 'b:arm1', [{ 'etc/arch': 'arm64 one\n' }]);
    const arm2 = await makeImage(origin, 'b:arm2', [{ 'etc/arch': 'arm64 two\n' }]);
    const amd2 = await makeImage(origin, 'b:amd2', [{ 'etc/arch': 'amd64 two\n' }]);
    const base = `${proxy.host}/audit/base:1`;
    const publish = async (amd: Descriptor, arm: Descriptor, tag: string) => {
      const index = await platformIndex(origin, tag, amd, arm);
      await pushImage({ store: origin, image: tag, ref: base, env });
      return index;
    };
    const index1 = await publish(amd1.descriptor, arm1.descriptor, 'idx:1');

    fs.writeFileSync(join(tmp, 'app.txt'), 'app\n');
    const store = await openStore({ root: join(tmp, 'store') });
    const run = async (pull: BuildOptions['pull']) => {
      const events: BuildEvent[] = [];
      proxy.log.length = 0;
      const result = await build({
        store,
        context: tmp,
        dockerfileText: `FROM ${base}\nCOPY app.txt /app.txt\n`,
        platform: amd64,
        pull,
        registry: { env },
        onEvent: (e) => events.push(e),
      });
      const copy = result.steps.find((s) => !s.metadata && s.index === 1)!;
      const blobGets = proxy.log.filter((e) => e.method === 'GET' && e.url.includes('/blobs/'));
      const pulled = events.filter((e) => e.type === 'pull' && e.status === 'done');
      return { result, copy, blobGets, pulled };
    };

    const first = await run('missing');
    expect(first.copy.status).toBe('built');
    // the base is the amd64 manifest of the index, pulled with its config and one layer
    expect(first.pulled).toEqual([expect.objectContaining({ digest: amd1.descriptor.digest })]);
    expect(first.blobGets.map((e) => e.url.replace(/.*\/blobs\//, '')).sort()).toEqual(
      [amd1.manifest.config.digest, amd1.layers[0]!.digest].sort(),
    );
    const flat = await flattenImage({ store, image: first.result.image });
    expect(readFlatFile(flat, '/etc/arch').toString()).toBe('amd64 one\n');

    // Only arm64 changed: a new index digest, the same amd64 manifest. Nothing to fetch, nothing to rebuild.
    const index2 = await publish(amd1.descriptor, arm2.descriptor, 'idx:2');
    expect(index2.digest).not.toBe(index1.digest);
    const same = await run('always');
    expect(same.pulled).toHaveLength(1);
    expect(same.blobGets).toEqual([]);
    expect(proxy.log.some((e) => e.url.endsWith(`/manifests/1`))).toBe(true); // the tag was asked again
    expect(same.copy.status).toBe('cached');
    expect(same.result.image.descriptor.digest).toBe(first.result.image.descriptor.digest);

    // amd64 changed: the step misses and names the platform manifests, old and new.
    await publish(amd2.descriptor, arm2.descriptor, 'idx:3');
    const changed = await run('always');
    expect(changed.copy.status).toBe('built');
    const reason = changed.copy.explanation!.find((r) => r.kind === 'base-image')!;
    expect(reason.message).toContain(amd1.descriptor.digest);
    expect(reason.message).toContain(amd2.descriptor.digest);
    expect(changed.blobGets.map((e) => e.url.replace(/.*\/blobs\//, '')).sort()).toEqual(
      [amd2.manifest.config.digest, amd2.layers[0]!.digest].sort(),
    );
    expect(readFlatFile(await flattenImage({ store, image: changed.result.image }), '/etc/arch').toString()).toBe(
      'amd64 two\n',
    );
  });

  describe('several caches', () => {
    const DOCKERFILE =
      'FROM scratch\nCOPY a.txt /a.txt\nRUN cat /a.txt > /a.out\nCOPY b.txt /b.txt\nRUN cat /b.txt > /b.out\n';

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

    async function machine(parent: string, b: string) {
      const dir = fs.mkdtempSync(join(parent, 'machine-'));
      fs.writeFileSync(join(dir, 'a.txt'), 'alpha\n');
      fs.writeFileSync(join(dir, 'b.txt'), b);
      fs.writeFileSync(join(dir, 'Dockerfile'), DOCKERFILE);
      const store = await openStore({ memory: true });
      const executor = countingShell();
      const run = (options: Partial<BuildOptions>) =>
        build({
          store,
          context: dir,
          dockerfileText: DOCKERFILE,
          executor,
          registry: { env },
          sourceDateEpoch: 1_700_000_000,
          ...options,
        });
      return { dir, store, executor, run };
    }

    it('several --cache-from: each step hits in the cache that has it, and says which', async ({ tmp }) => {
      const host = bed.plain!.host;
      const one = `${host}/audit/cache:one`;
      const two = `${host}/audit/cache:two`;
      // main exports cache one; a branch with another b.txt exports cache two
      await (await machine(tmp, 'beta\n')).run({ cacheTo: [{ type: 'registry', ref: one, mode: 'max' }] });
      await (await machine(tmp, 'beta two\n')).run({ cacheTo: [{ type: 'registry', ref: two, mode: 'max' }] });

      // A third machine on the branch: one alone serves the a.txt steps; one and two serve all.
      const alone = await machine(tmp, 'beta two\n');
      const partly = await alone.run({ cacheFrom: [{ type: 'registry', ref: one }] });
      expect(partly.steps.filter((s) => !s.metadata && s.index > 0).map((s) => s.status)).toEqual([
        'cached',
        'cached',
        'built',
        'built',
      ]);
      const both = await machine(tmp, 'beta two\n');
      const served = await both.run({
        cacheFrom: [
          { type: 'registry', ref: one },
          { type: 'registry', ref: two },
        ],
      });
      expect(both.executor.calls).toBe(0);
      const from = served.steps
        .filter((s) => !s.metadata && s.index > 0)
        .map((s) => `${s.status} ${s.cacheSource?.kind === 'registry' ? s.cacheSource.ref : '-'}`);
      expect(from.slice(0, 2).every((s) => s === `cached ${one}` || s === `cached ${two}`)).toBe(true);
      expect(from.slice(2)).toEqual([`cached ${two}`, `cached ${two}`]);

      // The CLI, as a user runs it: two --cache-from, then history and explain say where hits came from.
      const storeDir = join(tmp, 'cli-store');
      const cli = (args: string[]) =>
        spawnCli(['--store', storeDir, ...args], { env: { ...env, SOURCE_DATE_EPOCH: '1700000000' }, cleanEnv: true });
      const built = await cli([
        'build',
        '--executor',
        'shell',
        '--progress',
        'plain',
        '--cache-from',
        one,
        '--cache-from',
        `type=registry,ref=${two}`,
        '-t',
        'served:1',
        both.dir,
      ]);
      expect(built.code, built.err).toBe(0);
      expect(built.err.match(/CACHED from registry \S+/g)).toHaveLength(4);
      expect(built.err).toContain(`RUN cat /b.txt > /b.out\n#4 CACHED from registry ${two}\n`);
      const history = await cli(['history', '--no-trunc', 'served:1']);
      expect(history.code, history.err).toBe(0);
      const runLine = history.out.split('\n').find((l) => l.includes('cat /b.txt'))!;
      expect(runLine).toContain(`from registry ${two}`);
      expect(history.out.match(/from registry /g)).toHaveLength(4);
      const explain = await cli(['explain', 'served:1']);
      expect(explain.code, explain.err).toBe(0);
      expect(explain.out).toContain(`from registry ${two}`);
      const json = await cli(['history', '--json', 'served:1']);
      expect(json.out.match(/from registry /g)?.length).toBe(4);
    });
  });
});
