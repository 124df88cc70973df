/**
 * The build cache in a folder (`--cache-to type=local,dest=DIR`, `--cache-from type=local,src=DIR`,
 * as BuildKit names them): machine A exports, machine B (an empty store, the same files) hits on
 * every step and makes A's image byte for byte; an edit misses only what depends on it. The folder
 * is an OCI layout skopeo reads and copies; in a memfs volume it works the same (what a page does).
 * A damaged blob, a hostile index and a missing folder are misses with their reasons, never an
 * error and never a path outside the folder. The CLI resolves the folder against its working dir.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Volume } from 'memfs';
import { describe, expect } from 'vitest';
import { it } from '../helpers/fixtures.js';
import {
  build,
  type BuildEvent,
  type BuildOptions,
  type CacheFs,
  createVirtualShell,
  type Executor,
  openStore,
  parseCacheExport,
  parseCacheImport,
  type StepRecord,
} from '../../src/index.js';
import { spawnCli } from '../helpers/spawn-cli.js';
import { hasTool, missingToolMessage } from '../helpers/tools.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const DOCKERFILE = `FROM scratch AS build
COPY a.txt /src/a.txt
RUN cat /src/a.txt > /src/a.out
COPY b.txt /src/b.txt
RUN cat /src/b.txt /src/a.out > /src/b.out
FROM scratch
COPY --from=build /src/a.out /a.out
RUN cat /a.out > /final
`;

describe('--cache-from and --cache-to type=local, as buildx takes them', () => {
  it.each([
    ['type=local,src=/tmp/cache', { type: 'local', src: '/tmp/cache' }],
    ['type=local,src=cache,tag=ci', { type: 'local', src: 'cache', tag: 'ci' }],
  ])('--cache-from %s', (spec, expected) => {
    expect(parseCacheImport(spec)).toEqual(expected);
  });
  it.each([
    ['type=local,dest=/tmp/c', { type: 'local', dest: '/tmp/c', mode: 'min' }],
    ['type=local,dest=c,mode=max,tag=v1.2', { type: 'local', dest: 'c', mode: 'max', tag: 'v1.2' }],
  ])('--cache-to %s', (spec, expected) => {
    expect(parseCacheExport(spec)).toEqual(expected);
  });
  it.each([
    ['type=local', 'from'],
    ['type=local,dest=/tmp/c', 'from'],
    ['type=local,src=/tmp/c', 'to'],
    ['type=local,dest=/tmp/c,mode=all', 'to'],
    ['type=local,dest=/tmp/c,tag=../x', 'to'],
    ['type=local,src=/tmp/c,tag=a/b', 'from'],
  ])('%s is a usage error naming the flag', (spec, which) => {
    const parse = which === 'from' ? parseCacheImport : parseCacheExport;
    expect(() => parse(spec)).toThrow(
      expect.objectContaining({ code: 'ERR_USAGE', message: expect.stringContaining(`--cache-${which}`) }),
    );
  });
});

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

/** A machine: its own context folder (same files, under `parent`) and an empty memory store. */
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
      sourceDateEpoch: 1_700_000_000,
      onEvent: (e) => events.push(e),
      ...options,
    });
    return { result, events };
  };
  return { dir, store, executor, run };
}

/** The filesystem steps of a build: `stage step status`, with the folder a hit came from. */
function fsSteps(steps: StepRecord[]): string[] {
  return steps
    .filter((s) => !s.metadata && s.index > 0)
    .map(
      (s) =>
        `${s.stage} ${s.index} ${s.status}${s.cacheSource?.kind === 'folder' ? ` from ${s.cacheSource.path}` : ''}`,
    );
}

const ALL_CACHED = (from: string) => [
  `build 1 cached from ${from}`,
  `build 2 cached from ${from}`,
  `build 3 cached from ${from}`,
  `build 4 cached from ${from}`,
  `stage-1 1 cached from ${from}`,
  `stage-1 2 cached from ${from}`,
];

describe('a build cache in a folder', () => {
  it('B builds from an empty store with every step from A’s folder, then misses only what an edit touches', async ({
    tmp,
  }) => {
    const cache = join(tmp, 'cache');
    const a = await machine(tmp);
    const built = await a.run({ cacheTo: [{ type: 'local', dest: cache, mode: 'max' }] });
    expect(a.executor.calls).toBe(3);
    const exported = built.events.find((e) => e.type === 'cache-export');
    expect(exported).toMatchObject({ exporter: 'local', ref: cache, records: 6 });
    expect((exported as { bytesUploaded: number }).bytesUploaded).toBeGreaterThan(0);

    const b = await machine(tmp);
    const first = await b.run({ cacheFrom: [{ type: 'local', src: cache }] });
    expect(b.executor.calls).toBe(0);
    expect(fsSteps(first.result.steps)).toEqual(ALL_CACHED(cache));
    expect(first.result.image.descriptor.digest).toBe(built.result.image.descriptor.digest);

    fs.writeFileSync(join(b.dir, 'b.txt'), 'beta two\n');
    const edited = await b.run({ cacheFrom: [{ type: 'local', src: cache }] });
    expect(fsSteps(edited.result.steps)).toEqual([
      `build 1 cached`,
      `build 2 cached`,
      'build 3 built',
      'build 4 built',
      'stage-1 1 cached',
      'stage-1 2 cached',
    ]);
    expect(b.executor.calls).toBe(1);
    expect(edited.result.steps.find((s) => s.stage === 'build' && s.index === 3)!.explanation).toEqual([
      expect.objectContaining({
        kind: 'files',
        files: [expect.objectContaining({ path: 'b.txt', change: 'modified' })],
      }),
    ]);

    // Machine C never built this Dockerfile: its miss is explained from the record A exported.
    const c = await machine(tmp, { 'a.txt': 'alpha\n', 'b.txt': 'beta two\n' });
    const fresh = await c.run({ cacheFrom: [{ type: 'local', src: cache }] });
    const copyC = fresh.result.steps.find((s) => s.stage === 'build' && s.index === 3)!;
    expect(copyC.status).toBe('built');
    expect(copyC.explanation).toEqual([
      expect.objectContaining({
        kind: 'files',
        files: [expect.objectContaining({ path: 'b.txt', change: 'modified' })],
      }),
    ]);

    // Exporting the same records again writes no blob; B's new records merge into the index.
    const again = await a.run({ cacheTo: [{ type: 'local', dest: cache, mode: 'max' }] });
    expect(again.events.find((e) => e.type === 'cache-export')).toMatchObject({ records: 6, bytesUploaded: 0 });
    await b.run({ cacheTo: [{ type: 'local', dest: cache, mode: 'max' }] });
    const d = await machine(tmp, { 'a.txt': 'alpha\n', 'b.txt': 'beta two\n' });
    const both = await d.run({ cacheFrom: [{ type: 'local', src: cache }] });
    expect(fsSteps(both.result.steps)).toEqual(ALL_CACHED(cache));
    const e = await machine(tmp);
    expect(fsSteps((await e.run({ cacheFrom: [{ type: 'local', src: cache }] })).result.steps)).toEqual(
      ALL_CACHED(cache),
    );
  });

  it('mode=min keeps the final image’s steps; tags share one folder and keep each other', async ({ tmp }) => {
    const cache = join(tmp, 'cache');
    const a = await machine(tmp);
    await a.run({
      cacheTo: [
        { type: 'local', dest: cache, mode: 'min', tag: 'min' },
        { type: 'local', dest: cache, mode: 'max', tag: 'max' },
      ],
    });
    const index = JSON.parse(fs.readFileSync(join(cache, 'index.json'), 'utf8'));
    expect(
      index.manifests
        .map((m: { annotations: Record<string, string> }) => m.annotations['org.opencontainers.image.ref.name'])
        .sort(),
    ).toEqual(['max', 'min']);
    const b = await machine(tmp);
    const min = await b.run({ cacheFrom: [{ type: 'local', src: cache, tag: 'min' }] });
    // The final stage's two steps; the build stage's RUNs run again (COPY --from needs them).
    expect(fsSteps(min.result.steps).filter((s) => s.includes('cached'))).toEqual([
      `stage-1 1 cached from ${cache}`,
      `stage-1 2 cached from ${cache}`,
    ]);
    const c = await machine(tmp);
    expect(fsSteps((await c.run({ cacheFrom: [{ type: 'local', src: cache, tag: 'max' }] })).result.steps)).toEqual(
      ALL_CACHED(cache),
    );
  });

  it('in a memfs volume (as a page keeps one): two memory stores share the cache', async ({ tmp }) => {
    const volume = new Volume();
    const folder = volume.promises as unknown as CacheFs['promises'];
    const cacheFs: CacheFs = { promises: folder };
    const a = await machine(tmp);
    const built = await a.run({ cacheTo: [{ type: 'local', dest: '/cache', mode: 'max', fs: cacheFs }] });
    expect(volume.readdirSync('/cache').sort()).toEqual(['blobs', 'index.json', 'oci-layout']);
    const b = await machine(tmp);
    const served = await b.run({ cacheFrom: [{ type: 'local', src: '/cache', fs: cacheFs }] });
    expect(fsSteps(served.result.steps)).toEqual(ALL_CACHED('/cache'));
    expect(served.result.image.descriptor.digest).toBe(built.result.image.descriptor.digest);
    expect(b.executor.calls).toBe(0);
    // The same bytes as on disk: the folder is the same OCI layout whatever fs holds it.
    const disk = join(tmp, 'disk-cache');
    await a.run({ cacheTo: [{ type: 'local', dest: disk, mode: 'max' }] });
    expect(fs.readFileSync(join(disk, 'index.json'))).toEqual(Buffer.from(volume.readFileSync('/cache/index.json')));
  });

  it.skipIf(!hasTool('skopeo'))(
    `the folder is an OCI layout skopeo reads and copies${hasTool('skopeo') ? '' : ` (${missingToolMessage('skopeo')})`}`,
    async ({ tmp }) => {
      const cache = join(tmp, 'cache');
      const a = await machine(tmp);
      await a.run({ cacheTo: [{ type: 'local', dest: cache, mode: 'max' }] });
      const top = JSON.parse(fs.readFileSync(join(cache, 'index.json'), 'utf8'));
      const raw = execFileSync('skopeo', ['inspect', '--raw', `oci:${cache}:latest`]);
      const hex = top.manifests[0].digest.slice('sha256:'.length);
      expect(raw).toEqual(fs.readFileSync(join(cache, 'blobs', 'sha256', hex)));
      expect(JSON.parse(raw.toString()).manifests).toHaveLength(6);
      // A copy of the whole index checks every record's manifest, config and layer digest.
      execFileSync('skopeo', ['copy', '--all', '--quiet', `oci:${cache}:latest`, `oci:${join(tmp, 'copy')}:latest`]);
      const copied = JSON.parse(fs.readFileSync(join(tmp, 'copy', 'index.json'), 'utf8'));
      expect(copied.manifests[0].digest).toBe(top.manifests[0].digest);
    },
  );

  it('a damaged layer blob is a miss that says so, and nothing of it is kept', async ({ tmp }) => {
    const cache = join(tmp, 'cache');
    const a = await machine(tmp);
    const built = await a.run({ cacheTo: [{ type: 'local', dest: cache, mode: 'max' }] });
    const layer = built.result.steps.find((s) => s.stage === 'build' && s.index === 1)!.layer!;
    const path = join(cache, 'blobs', 'sha256', layer.digest.slice('sha256:'.length));
    const bytes = fs.readFileSync(path);
    bytes[bytes.length - 1] = bytes.at(-1)! ^ 0xff;
    fs.writeFileSync(path, bytes);
    const b = await machine(tmp);
    const served = await b.run({ cacheFrom: [{ type: 'local', src: cache }] });
    const step = served.result.steps.find((s) => s.stage === 'build' && s.index === 1)!;
    expect(step.status).toBe('built');
    expect(step.reason).toMatch(/failed verification .*EINTEGRITY|failed verification .*hash/);
    expect(step.reason).toContain(cache);
    // Built here, the same layer as A's: the damaged bytes never entered the store.
    expect(step.layer!.digest).toBe(layer.digest);
    expect(await b.store.blobs.check(layer.digest)).toBeUndefined();
  });

  it.for([
    ['a digest that is a path', `sha256:../../../../etc/passwd`],
    ['a digest of another algorithm', `sha512:${'a'.repeat(128)}`],
  ])(
    'a hostile index.json (%s) is a miss with its reason, and no file outside the folder is read',
    async ([, digest], { tmp }) => {
      const cache = join(tmp, 'cache');
      fs.mkdirSync(cache);
      fs.writeFileSync(
        join(cache, 'index.json'),
        JSON.stringify({
          schemaVersion: 2,
          manifests: [
            {
              mediaType: 'application/vnd.oci.image.index.v1+json',
              digest,
              size: 10,
              annotations: { 'org.opencontainers.image.ref.name': 'latest' },
            },
          ],
        }),
      );
      const b = await machine(tmp);
      const served = await b.run({ cacheFrom: [{ type: 'local', src: cache }] });
      const step = served.result.steps.find((s) => s.stage === 'build' && s.index === 1)!;
      expect(step.status).toBe('built');
      expect(step.reason).toContain(`the cache ${cache} could not be read`);
      expect(step.reason).toContain('names no sha256 digest');
    },
  );

  it('a missing folder is an empty cache (a CI job’s first run): ordinary misses', async ({ tmp }) => {
    const b = await machine(tmp);
    const served = await b.run({ cacheFrom: [{ type: 'local', src: join(tmp, 'nothing-here') }] });
    expect(served.result.steps.filter((s) => !s.metadata && s.index > 0).map((s) => s.reason)).toEqual(
      Array(6).fill('no earlier build of this step'),
    );
  });

  it('the CLI resolves the folder against its working directory and says where hits came from', async ({ tmp }) => {
    const ctx = join(tmp, 'ctx');
    fs.mkdirSync(ctx);
    fs.writeFileSync(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY a.txt /a.txt\nRUN cat /a.txt > /b.txt\n');
    fs.writeFileSync(join(ctx, 'a.txt'), 'alpha\n');
    // Relative to the CLI's working directory (the repository's root, where spawnCli starts it).
    const cache = join(tmp, 'ci-cache');
    const relativeCache = relative(ROOT, cache);
    expect(relativeCache.startsWith('..')).toBe(true);
    const cli = (store: string, flag: string) =>
      spawnCli(['--store', join(tmp, store), 'build', '--progress', 'plain', flag, ctx], { cwd: ROOT });
    const first = await cli('store-a', `--cache-to=type=local,dest=${relativeCache}`);
    expect(first.code, first.err).toBe(0);
    expect(first.out).toContain(`exported cache to ${cache}: 2 records`);
    expect(fs.existsSync(join(cache, 'index.json'))).toBe(true);
    const second = await cli('store-b', `--cache-from=type=local,src=${relativeCache}`);
    expect(second.code, second.err).toBe(0);
    expect(second.err.match(/CACHED from cache folder \S+/g)).toEqual([
      `CACHED from cache folder ${cache}`,
      `CACHED from cache folder ${cache}`,
    ]);
  });
});
