/**
 * Start-up: the CLI as a user runs it, whole processes of the built package (`node dist/cli.cjs`,
 * what `npx layerkit` runs), against the same machine's `node -e 0` and buildah, measured in the
 * same run, interleaved, medians of at least 7 runs (a start-up is short and noisy):
 *
 * 1. `layerkit --version` ≤ 1.5× `node -e 0`: loading the CLI and the library entry costs little;
 *    third-party packages (memfs, fast-glob, tar-stream, undici) load with the command that needs them.
 * 2. `layerkit images` on a store of 50 images ≤ 2× `node -e 0`.
 * 3. A fully cached `layerkit build` of the builder benchmark's Dockerfile (8 steps) ≥ 5× faster
 *    than `buildah build --layers` of the same Dockerfile from its cache, both whole processes.
 *    Run again with nothing changed, the build is answered by its memo (src/builder/build-memo.ts,
 *    as a user's third identical build is); one more row times the builder finding every step in
 *    its cache (`LAYERKIT_BUILD_MEMO=0`).
 *
 * The package is built first when dist/ is missing or older than src/ (as `npm run example` does).
 * The CLI keeps a V8 code cache per command (src/cli/compile-cache.ts), here in a folder of the
 * run's own, filled by the warm-up run as a user's first run fills theirs; one more row times the
 * cached build without it (`LAYERKIT_COMPILE_CACHE=0`), and the notes give the floor: what Node's
 * own start takes against what each target allows.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openStore } from '../../src/store/store.js';
import { addLayer } from '../../src/image/add-layer.js';
import { writeImage } from '../../src/image/write-image.js';
import { exportImage } from '../../src/image/export.js';
import { BUILD_MEMO_RACY_MS, buildMemoKey, findBuildMemo } from '../../src/builder/build-memo.js';
import { hasBusybox, makeBusyboxImage } from '../../tests/helpers/busybox.js';
import { hasTool, missingToolMessage } from '../../tests/helpers/tools.js';
import {
  CLI,
  cliEnv,
  ensureBuilt,
  extraCaNote,
  judge,
  measureInterleaved,
  runChild,
  timeChild,
  type Benchmark,
  type BenchContext,
  nodeStartContenders,
  type Row,
} from '../harness.js';
import { writeSmallFilesTree } from '../data/trees.js';
import { BASE, Buildah, REBUILD_DOCKERFILE } from './build.js';

/** A store holding `count` small images, each one layer with one file of its own. */
async function storeOfImages(root: string, count: number): Promise<void> {
  const store = await openStore({ root });
  for (let i = 0; i < count; i++) {
    const data = Buffer.from(`image ${i}\n`);
    const owner = { uid: 0, gid: 0, mtime: 0 };
    const layer = await addLayer({
      store,
      entries: [
        { header: { path: 'data', type: 'directory', mode: 0o755, ...owner } },
        { header: { path: `data/file-${i}.txt`, type: 'file', mode: 0o644, size: data.length, ...owner }, data },
      ],
      sourceDateEpoch: 0,
    });
    await writeImage({
      store,
      config: {
        architecture: 'amd64',
        os: 'linux',
        created: '1970-01-01T00:00:00Z',
        rootfs: { type: 'layers', diff_ids: [layer.diffId] },
      },
      layers: [layer.descriptor],
      tags: [`bench/image-${String(i).padStart(2, '0')}:1`],
    });
  }
}

async function startupRows(ctx: BenchContext, dir: string): Promise<Row[]> {
  const runs = Math.max(7, ctx.runs);
  const storeRoot = join(dir, 'images-store');
  await storeOfImages(storeRoot, 50);
  const env = cliEnv(ctx, true);
  const images = await runChild({ argv: [process.execPath, CLI, '--store', storeRoot, 'images'], env });
  const listed = images.split('\n').filter((l) => l.startsWith('bench/image-')).length;
  if (listed !== 50) throw new Error(`layerkit images listed ${listed} of 50 images:\n${images}`);
  const t = await measureInterleaved(runs, {
    node: nodeStartContenders().node,
    version: { fn: () => timeChild({ argv: [process.execPath, CLI, '--version'], env }) },
    images: { fn: () => timeChild({ argv: [process.execPath, CLI, '--store', storeRoot, 'images'], env }) },
  });
  const node = t.node.median;
  const row = (label: string, ours: number[], median: number, limit: number): Row =>
    judge({
      label,
      ours: { value: median * 1000, unit: 'ms' },
      peer: { value: node * 1000, unit: 'ms' },
      peerName: '`node -e 0`',
      ratio: median / node,
      target: { kind: 'max-ratio', value: limit, text: `≤ ${limit}× node -e 0` },
      details: { oursSeconds: ours, nodeSeconds: t.node.runs },
    });
  return [
    row('`layerkit --version`', t.version.runs, t.version.median, 1.5),
    row('`layerkit images`, a store of 50 images', t.images.runs, t.images.median, 2),
  ];
}

async function cachedBuildRows(ctx: BenchContext, dir: string): Promise<{ rows: Row[]; notes: string[] }> {
  const runs = Math.max(7, ctx.runs);
  const seed = await openStore({ root: join(dir, 'seed-store') });
  const base = await makeBusyboxImage(seed, BASE);
  const baseLayout = join(dir, 'base-layout');
  await exportImage({ store: seed, image: base, format: 'oci', output: baseLayout, name: 'base' });
  const context = join(dir, 'context');
  mkdirSync(context, { recursive: true });
  writeSmallFilesTree({ dir: context, files: 20, folders: 4, maxSize: 2048, seed: 11 });
  const dockerfile = join(dir, 'Dockerfile');
  writeFileSync(dockerfile, REBUILD_DOCKERFILE);
  const written = Date.now();
  const storeRoot = join(dir, 'store');
  const store = await openStore({ root: storeRoot });
  await makeBusyboxImage(store, BASE);
  const ours = [process.execPath, CLI, '--store', storeRoot, 'build', '-q', '-f', dockerfile, '-t', 'bench/rebuild:1'];
  const env = cliEnv(ctx, true);
  await runChild({ argv: [...ours, context], env });
  // Every step of a rebuild must come from the cache, or this row measures something else.
  const events = await runChild({ argv: [...ours.filter((a) => a !== '-q'), '--progress', 'json', context], env });
  const missed = events
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { type: string; status?: string; metadata?: boolean; instruction?: string })
    .filter((e) => e.type === 'step' && e.metadata !== true && e.status !== 'cached');
  if (missed.length > 0) throw new Error(`the CLI rebuild missed: ${missed.map((e) => e.instruction).join(', ')}`);
  // A build memo answers a build only when what it read is older than the clocks' granularity
  // (2 s): a user's context is minutes old, this one was written a moment ago.
  await new Promise((r) => setTimeout(r, Math.max(0, written + BUILD_MEMO_RACY_MS + 100 - Date.now())));
  await runChild({ argv: [...ours, context], env });
  await runChild({ argv: [...ours, context], env });
  const key = buildMemoKey({
    store,
    request: { options: { argv: [...ours.slice(2), context] }, cwd: process.cwd(), env },
  });
  if (findBuildMemo({ store, key }) === undefined) throw new Error('no build memo answers the cached build');
  const buildah = new Buildah(join(dir, 'buildah'));
  await buildah.importBase(baseLayout, 'base');
  const peerArgv = buildah.buildArgv(dockerfile, context, 'localhost/bench-rebuild:1');
  await runChild({ argv: peerArgv, env: buildah.env });
  const t = await measureInterleaved(runs, {
    ...nodeStartContenders(),
    peer: { fn: () => timeChild({ argv: peerArgv, env: buildah.env }) },
    ours: { fn: () => timeChild({ argv: [...ours, context], env }) },
    cold: { fn: () => timeChild({ argv: [...ours, context], env: cliEnv(ctx, false) }) },
    builder: { fn: () => timeChild({ argv: [...ours, context], env: { ...env, LAYERKIT_BUILD_MEMO: '0' } }) },
  });
  await buildah.destroy(join(dir, 'buildah'));
  const ms = (s: number) => ({ value: s * 1000, unit: 'ms' });
  const rows = [
    judge({
      label: '`layerkit build`, every step cached (8 steps), whole process',
      ours: ms(t.ours.median),
      peer: ms(t.peer.median),
      peerName: 'buildah build --layers',
      ratio: t.peer.median / t.ours.median,
      target: { kind: 'min-ratio', value: 5, text: '≥ 5× buildah' },
      details: { oursSeconds: t.ours.runs, peerSeconds: t.peer.runs, nodeSeconds: t.node.runs },
    }),
    judge({
      label: 'the same without its memo (`LAYERKIT_BUILD_MEMO=0`): the builder finds every step cached',
      ours: ms(t.builder.median),
      peer: ms(t.peer.median),
      peerName: 'buildah build --layers',
      ratio: t.peer.median / t.builder.median,
      target: { kind: 'none', text: 'informational' },
      details: { builderSeconds: t.builder.runs },
    }),
    judge({
      label: 'the same without the code cache (`LAYERKIT_COMPILE_CACHE=0`)',
      ours: ms(t.cold.median),
      peer: ms(t.peer.median),
      peerName: 'buildah build --layers',
      ratio: t.peer.median / t.cold.median,
      target: { kind: 'none', text: 'informational' },
      details: { coldSeconds: t.cold.runs },
    }),
  ];
  const f = (s: number) => `${(s * 1000).toFixed(1)} ms`;
  const ca = extraCaNote(t, 'buildah');
  const notes = [
    ...(ca ? [ca] : []),
    `Floor of the cached build: \`node -e 0\` takes ${f(t.node.median)} in the same run; 5× buildah allows ${f(t.peer.median / 5)}, so the target is ${t.node.median > t.peer.median / 5 ? 'below what an empty Node process takes here' : 'above an empty Node process'}. layerkit's cached build, answered by its memo, spends ${f(t.ours.median - t.node.median)} beyond \`node -e 0\` (the executable, the store, the memo and a stat of each file the build read), ${f(t.cold.median - t.node.median)} without the code cache; the builder finding every step in its cache spends ${f(t.builder.median - t.node.median)}.`,
  ];
  return { rows, notes };
}

export const startupBenchmark: Benchmark = {
  name: 'startup',
  title: 'CLI start-up, whole processes: layerkit vs node -e 0 and buildah (tmpfs)',
  async run(ctx) {
    ensureBuilt(ctx);
    ctx.log('startup: 50 images, then --version, images and node -e 0, interleaved');
    const rows = await startupRows(ctx, join(ctx.workDir, 'images'));
    const notes = [
      'Whole processes of the built CLI (node dist/cli.cjs, what npx layerkit runs), medians of at least 7 interleaved runs, with the code cache a first run leaves.',
    ];
    if (['buildah', 'skopeo'].every(hasTool) && hasBusybox()) {
      ctx.log('startup: a cached layerkit build vs buildah build --layers');
      const build = await cachedBuildRows(ctx, join(ctx.workDir, 'build'));
      rows.push(...build.rows);
      notes.push(...build.notes);
    } else {
      notes.push(
        `cached build row skipped: ${!hasBusybox() ? 'busybox is not installed (Debian package: busybox-static)' : missingToolMessage(hasTool('buildah') ? 'skopeo' : 'buildah')}`,
      );
    }
    return { name: 'startup', title: this.title, rows, notes };
  },
};
