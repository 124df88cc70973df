/**
 * Issue 12's start-up targets: `layerkit run --rm IMAGE true` as a whole CLI process against
 * `podman run --rm` of the same image (≤ 0.5× its time) and against bare `runc run` plus the
 * overlay mount it needs (≤ 1.5×), interleaved in one run on a busybox image made from Debian's
 * busybox-static. Then a RUN step of `build()` on a 1 GiB image against the same RUN on a 10 MiB
 * one (≤ 1.2×): the Linux executor stacks extracted layers, so the image's size must not count.
 * Needs root, runc, podman and /bin/busybox.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  addLayer,
  build,
  importImage,
  openStore,
  removeRuntime,
  runContainer,
  runtimeUnavailable,
  saveImages,
  writeImage,
} from '../../src/index.js';
import type { LayerEntryInput } from '../../src/low-level.js';
import { tarFolder, writeOciLayout } from '../data/oci-layout.js';
import { writeMixedTree } from '../data/trees.js';
import {
  CLI,
  cliEnv,
  ensureBuilt,
  extraCaNote,
  judge,
  measureInterleaved,
  nodeChildEnv,
  nodeStartContenders,
  timeChild,
  type BenchContext,
  type Benchmark,
  type Row,
} from '../harness.js';

/** The run benchmark. */
export const runBenchmark: Benchmark = {
  name: 'run',
  title: 'layerkit run --rm IMAGE true vs podman run --rm and bare runc run + overlay mount',
  async run(ctx) {
    const why = runtimeUnavailable();
    if (why) throw new Error(why);
    for (const tool of ['podman', 'busybox'])
      if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) throw new Error(`${tool} is not installed`);
    const storeDir = join(ctx.workDir, 'store');
    const store = await openStore({ root: storeDir });
    const bin = readFileSync('/bin/busybox');
    const entries: LayerEntryInput[] = [
      { header: { path: 'bin', type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: 0 } },
      {
        header: { path: 'bin/busybox', type: 'file', mode: 0o755, uid: 0, gid: 0, mtime: 0, size: bin.length },
        data: bin,
      },
      ...['sh', 'true'].map(
        (a): LayerEntryInput => ({
          header: { path: `bin/${a}`, type: 'symlink', mode: 0o777, uid: 0, gid: 0, mtime: 0, linkTarget: 'busybox' },
        }),
      ),
      { header: { path: 'etc', type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: 0 } },
      { header: { path: 'tmp', type: 'directory', mode: 0o1777, uid: 0, gid: 0, mtime: 0 } },
    ];
    const layer = await addLayer({ store, entries, sourceDateEpoch: 0 });
    await writeImage({
      store,
      config: {
        architecture: 'amd64',
        os: 'linux',
        config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'] },
        rootfs: { type: 'layers', diff_ids: [layer.diffId] },
      },
      layers: [layer.descriptor],
      tags: ['bench-run:1'],
    });

    // podman with a private store and the settings of the differential tests.
    const pdir = join(ctx.workDir, 'podman');
    mkdirSync(join(pdir, 'tmp'), { recursive: true });
    writeFileSync(
      join(pdir, 'storage.conf'),
      `[storage]\ndriver = "overlay"\ngraphroot = "${pdir}/root"\nrunroot = "${pdir}/run"\n`,
    );
    writeFileSync(
      join(pdir, 'containers.conf'),
      `[containers]\nnetns = "none"\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\nruntime = "runc"\ntmp_dir = "${pdir}/tmp"\n`,
    );
    const penv = {
      ...process.env,
      CONTAINERS_CONF: join(pdir, 'containers.conf'),
      CONTAINERS_STORAGE_CONF: join(pdir, 'storage.conf'),
    };
    const archive = join(ctx.workDir, 'image.tar');
    await saveImages({ store, images: ['bench-run:1'], output: archive });
    execFileSync('podman', ['load', '-q', '-i', archive], { env: penv, stdio: 'ignore' });

    // Bare runc: the bundle layerkit wrote for the same image, its extracted layer and init layer,
    // with a fresh upper mounted as an overlay for each run.
    const kept = await runContainer({ store, image: 'bench-run:1', name: 'bundle', cmd: ['true'] });
    await kept.wait();
    const runtimeDir = store.statePath('runtime', 'containers', 'bundle');
    const lower = store.statePath('runtime', 'layers', layer.diffId.slice(7), 'fs');
    const bare = join(ctx.workDir, 'bare');
    mkdirSync(join(bare, 'bundle'), { recursive: true });
    const spec = JSON.parse(readFileSync(join(runtimeDir, 'bundle', 'config.json'), 'utf8')) as {
      root: { path: string };
      mounts: Array<{ destination: string; type: string }>;
      linux: { cgroupsPath: string };
    };
    spec.root.path = join(bare, 'merged');
    // layerkit lets runc mount a new container's overlay (the spec's first mount, at /); this row is
    // the classic way, the overlay mounted on the host before runc and unmounted after it.
    spec.mounts = spec.mounts.filter((m) => !(m.destination === '/' && m.type === 'overlay'));
    spec.linux.cgroupsPath = `/layerkit/bench-bare-${process.pid}`;
    writeFileSync(join(bare, 'bundle', 'config.json'), JSON.stringify(spec));
    const script = [
      'set -e',
      `mkdir -p ${bare}/upper ${bare}/work ${bare}/merged`,
      `mount -t overlay overlay -o lowerdir=${runtimeDir}/init:${lower},upperdir=${bare}/upper,workdir=${bare}/work ${bare}/merged`,
      `runc --root ${bare}/state run -b ${bare}/bundle bench-bare-${process.pid} </dev/null`,
      `umount ${bare}/merged`,
      `rm -rf ${bare}/upper ${bare}/work`,
    ].join('\n');
    // The floor of a Node CLI, measured beside it: runc alone on layerkit's own bundle (the overlay
    // mounted by runc inside the container, as layerkit runs a new container), from bash and from the
    // least a Node program can do (start, load node:child_process, spawn runc on the ready bundle,
    // wait), each with a fresh upper.
    const floor = join(ctx.workDir, 'floor');
    mkdirSync(join(floor, 'bundle'), { recursive: true });
    mkdirSync(join(floor, 'rootfs'), { recursive: true });
    const own = JSON.parse(readFileSync(join(runtimeDir, 'bundle', 'config.json'), 'utf8')) as typeof spec;
    own.root.path = join(floor, 'rootfs');
    const overlay = own.mounts.find((m) => m.destination === '/' && m.type === 'overlay') as
      | { options: string[] }
      | undefined;
    if (!overlay) throw new Error("layerkit's bundle has no overlay mount at /: the floor rows need one");
    overlay.options = overlay.options.map((o) =>
      o.startsWith('upperdir=') ? `upperdir=${floor}/upper` : o.startsWith('workdir=') ? `workdir=${floor}/work` : o,
    );
    own.linux.cgroupsPath = `/layerkit/bench-floor-${process.pid}`;
    writeFileSync(join(floor, 'bundle', 'config.json'), JSON.stringify(own));
    const floorId = `bench-floor-${process.pid}`;
    const runcArgs = ['--root', join(floor, 'state'), 'run', '-b', join(floor, 'bundle'), floorId];
    const runcAlone = [
      'set -e',
      `mkdir -p ${floor}/upper ${floor}/work`,
      `runc ${runcArgs.join(' ')} </dev/null`,
      `rm -rf ${floor}/upper ${floor}/work`,
    ].join('\n');
    const leastNode = [
      "const fs = require('node:fs');",
      `for (const d of ['upper', 'work']) fs.mkdirSync(${JSON.stringify(floor)} + '/' + d, { recursive: true });`,
      `require('node:child_process').spawn('runc', ${JSON.stringify(runcArgs)}, { stdio: 'inherit' }).on('exit', (c) => {`,
      `  for (const d of ['upper', 'work']) fs.rmSync(${JSON.stringify(floor)} + '/' + d, { recursive: true, force: true });`,
      '  process.exitCode = c;',
      '});',
    ].join('\n');
    ensureBuilt(ctx);
    const cli = [process.execPath, CLI];
    // The CLI's code cache in the run's folder, filled by the warm-up run as a user's first run does.
    const env = cliEnv(ctx);
    ctx.log('run: timing layerkit run --rm, podman run --rm, runc run + mount and node -e 0, interleaved');
    const t = await measureInterleaved(ctx.runs, {
      ours: {
        fn: () => timeChild({ argv: [...cli, '--store', storeDir, 'run', '--rm', 'bench-run:1', 'true'], env }),
      },
      // node -e 0, without and with NODE_EXTRA_CA_CERTS (if set: what every Node process pays).
      ...nodeStartContenders(),
      podman: {
        fn: () => timeChild({ argv: ['podman', 'run', '--rm', 'docker.io/library/bench-run:1', 'true'], env: penv }),
      },
      runc: { fn: () => timeChild({ argv: ['bash', '-c', script] }) },
      runcAlone: { fn: () => timeChild({ argv: ['bash', '-c', runcAlone] }) },
      leastNode: { fn: () => timeChild({ argv: [process.execPath, '-e', leastNode], env: nodeChildEnv() }) },
      api: {
        fn: async () => {
          const h = await runContainer({ store, image: 'bench-run:1', cmd: ['true'], autoRemove: true });
          await h.wait();
        },
      },
    }).finally(async () => {
      await removeRuntime({ store, name: 'bundle', force: true });
      spawnSync('runc', ['--root', join(floor, 'state'), 'delete', '-f', floorId], { stdio: 'ignore' });
      spawnSync('podman', ['rm', '-af'], { env: penv, stdio: 'ignore' });
      spawnSync('podman', ['rmi', '-af'], { env: penv, stdio: 'ignore' });
      spawnSync('sh', ['-c', `findmnt -rn -o TARGET | grep "^${ctx.workDir}/" | sort -r | xargs -r umount -l`]);
      rmSync(pdir, { recursive: true, force: true });
    });
    const ms = (s: number) => ({ value: s * 1000, unit: 'ms' });
    const rows: Row[] = [
      judge({
        label: '`layerkit run --rm IMAGE true` (CLI process)',
        ours: ms(t.ours.median),
        peer: ms(t.podman.median),
        peerName: '`podman run --rm IMAGE true`',
        ratio: t.ours.median / t.podman.median,
        target: { kind: 'max-ratio', value: 0.5, text: '≤ 0.5× the time' },
        details: { ours: t.ours.runs, podman: t.podman.runs },
      }),
      judge({
        label: '`layerkit run --rm IMAGE true` (CLI process)',
        ours: ms(t.ours.median),
        peer: ms(t.runc.median),
        peerName: 'overlay mount + `runc run` + umount',
        ratio: t.ours.median / t.runc.median,
        target: { kind: 'max-ratio', value: 1.5, text: '≤ 1.5× the time' },
        details: { runc: t.runc.runs },
      }),
      judge({
        label: '`runContainer` + wait, in-process',
        ours: ms(t.api.median),
        peer: ms(t.runc.median),
        peerName: 'overlay mount + `runc run` + umount',
        ratio: t.api.median / t.runc.median,
        target: { kind: 'none', text: 'informational' },
        details: { api: t.api.runs, node: t.node.runs },
      }),
      judge({
        label: 'the least a Node program can do: start, spawn runc on a ready bundle, wait',
        ours: ms(t.leastNode.median),
        peer: ms(t.runc.median),
        peerName: 'overlay mount + `runc run` + umount',
        ratio: t.leastNode.median / t.runc.median,
        target: { kind: 'none', text: 'informational: the floor of any Node CLI' },
        details: { leastNode: t.leastNode.runs, runcAlone: t.runcAlone.runs },
      }),
    ];
    const f = (sec: number) => `${(sec * 1000).toFixed(1)} ms`;
    const caNote = extraCaNote(t, 'podman and runc');
    const ca = caNote ? `${caNote} ` : '';
    const accounting = [
      ca,
      `Floor of a Node CLI, all in this run: \`node -e 0\` ${f(t.node.median)}; runc alone on layerkit's bundle `,
      `(overlay mounted by runc, no mount process) ${f(t.runcAlone.median)}; the least a Node program can do `,
      `(start, load node:child_process, spawn runc on that ready bundle, wait) ${f(t.leastNode.median)}, which is `,
      `${(t.leastNode.median / t.runc.median).toFixed(2)}× the runc row and ${(t.leastNode.median / t.podman.median).toFixed(2)}× podman, `,
      `against ${f(t.podman.median * 0.5)} allowed by 0.5× podman and ${f(t.runc.median * 1.5)} by 1.5× runc. `,
      `The CLI spends ${f(t.ours.median - t.leastNode.median)} beyond that floor (loading the CLI and the runtime `,
      `from the code cache, node:crypto to check the image's digests, reading the image, writing the container's `,
      `record, init layer and bundle, cleaning up after --rm), in-process ${f(t.api.median - t.runc.median)}.`,
    ].join('');
    rows.push(...(await runStepRows(ctx)));
    return {
      name: 'run',
      title: runBenchmark.title,
      rows,
      notes: [
        accounting,
        "The CLI is the built bin (dist/cli.cjs) started by node, as a user runs it, with its code cache; podman uses its own overlay store with the differential tests' settings (no network, cgroupfs, runc).",
        'The runc row mounts the same extracted layer and init layer layerkit uses under a fresh upper, runs the bundle layerkit wrote (less its overlay entry: for a new container layerkit lets runc mount the overlay inside the container, with no mount or umount process), and unmounts: the floor of a runc run with a host-mounted rootfs.',
        "The floor rows run layerkit's own bundle as it is (the overlay mounted by runc inside the container) under a fresh upper: from bash (runc alone) and from `node -e` spawning runc and waiting (the least any Node CLI does; no layerkit code).",
        'The RUN rows build `FROM base` + `RUN echo hi > /hello` with build() in-process and noCache (the default executor: runc over the extracted layers) on two images of a busybox layer plus a source-tree-like layer (bench/data/trees.ts) of 10 MiB and of 1 GiB × LAYERKIT_BENCH_SCALE; the warm-up build extracts each image once, as any first RUN does.',
      ],
    };
  },
};

/** An image of busybox plus a mixed tree of `bytes`, imported from an OCI layout made by GNU tar. */
async function sizedImage(
  ctx: BenchContext,
  store: Awaited<ReturnType<typeof openStore>>,
  name: string,
  bytes: number,
) {
  const base = join(ctx.workDir, `img-${name}`);
  const bb = join(base, 'busybox');
  mkdirSync(join(bb, 'bin'), { recursive: true });
  writeFileSync(join(bb, 'bin', 'busybox'), readFileSync('/bin/busybox'), { mode: 0o755 });
  for (const a of ['sh', 'echo']) spawnSync('ln', ['-s', 'busybox', join(bb, 'bin', a)]);
  const tree = join(base, 'tree');
  const stats = writeMixedTree({ dir: join(tree, 'srv'), bytes, seed: 12 });
  await tarFolder({ dir: bb, archive: join(base, 'busybox.tar') });
  await tarFolder({ dir: tree, archive: join(base, 'tree.tar') });
  const layout = join(base, 'layout');
  await writeOciLayout({ dir: layout, layers: [join(base, 'busybox.tar'), join(base, 'tree.tar')] });
  await importImage({ store, source: layout, tags: [`${name}:1`] });
  rmSync(tree, { recursive: true, force: true });
  return stats;
}

/** A RUN step on a 1 GiB image against the same step on a 10 MiB image, in one store. */
async function runStepRows(ctx: BenchContext): Promise<Row[]> {
  const store = await openStore({ root: join(ctx.workDir, 'build-store'), durable: false });
  ctx.log('run: writing a 10 MiB and a 1 GiB image for the RUN rows');
  const small = await sizedImage(ctx, store, 'small', 10 << 20);
  const large = await sizedImage(ctx, store, 'large', Math.round((1 << 30) * ctx.scale));
  const context = join(ctx.workDir, 'build-context');
  mkdirSync(context, { recursive: true });
  const step = (image: string) => async () => {
    const r = await build({ store, context, dockerfileText: `FROM ${image}:1\nRUN echo hi > /hello\n`, noCache: true });
    const run = r.steps.find((s) => s.instruction.startsWith('RUN'));
    if (run?.executor !== 'linux') throw new Error(`the RUN step ran with ${run?.executor}, not the linux executor`);
  };
  ctx.log('run: timing a RUN step on the 10 MiB and the 1 GiB image, interleaved');
  const t = await measureInterleaved(ctx.runs, { small: { fn: step('small') }, large: { fn: step('large') } });
  const ms = (s: number) => ({ value: s * 1000, unit: 'ms' });
  return [
    judge({
      label: `a RUN step (build, noCache) on a ${(large.bytes / 1e9).toFixed(2)} GB image, ${large.files} files`,
      ours: ms(t.large.median),
      peer: ms(t.small.median),
      peerName: `the same RUN on a ${(small.bytes / 1e6).toFixed(1)} MB image, ${small.files} files`,
      ratio: t.large.median / t.small.median,
      target: { kind: 'max-ratio', value: 1.2, text: '≤ 1.2× the time' },
      details: { large: t.large.runs, small: t.small.runs, largeBytes: large.bytes, smallBytes: small.bytes },
    }),
  ];
}
