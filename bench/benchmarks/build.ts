/**
 * Target 5: the builder, against `buildah build --layers` (vfs storage, chroot isolation) and
 * GNU tar, all on tmpfs, measured in the same run:
 *
 * 1. A rebuild with every step cached (an 8-step Dockerfile: ENV, WORKDIR, COPY of a small
 *    context, five RUN steps using mkdir, echo >, cp and ln -s, which busybox sh and the virtual
 *    shell both run). layerkit: `build()` in-process with a fresh `openStore` on the same root per
 *    run (cold process caches, warm store). buildah: the whole command, rebuilding from its cache.
 * 2. A cold COPY-only build (`FROM base`, `COPY . /app/`) of a 5,000-file context: a fresh store
 *    (layerkit) and a fresh buildah root (buildah) per run, the base image put in before timing.
 * 3. Hashing a 10,000-file context. layerkit: a whole `build()` of `FROM base`, `COPY . /x/`
 *    whose COPY step hits the cache, so the work is the context walk, the stat and sha256 of
 *    every file (a fresh FingerprintCache per build), the key and the lookup; timed around the
 *    whole call (build overhead included, so the figure is a floor of the hashing rate), the
 *    COPY step's own duration kept in the details. Peer: `tar -cf - . | sha256sum` (GNU tar
 *    reads every file; `-f /dev/null` would let it skip reading).
 *
 * The base is the busybox image of the tests (Debian's busybox-static), written into layerkit's
 * store by `makeBusyboxImage`, exported as an OCI layout and copied into buildah's store by
 * skopeo as `localhost/base:1`; both builders read the same Dockerfile text.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openStore, type Store } from '../../src/store/store.js';
import { exportImage } from '../../src/image/export.js';
import { build } from '../../src/builder/build.js';
import type { BuildResult } from '../../src/builder/types.js';
import { hasBusybox, makeBusyboxImage } from '../../tests/helpers/busybox.js';
import { hasTool, missingToolMessage } from '../../tests/helpers/tools.js';
import {
  judge,
  measureInterleaved,
  runChild,
  timeChild,
  type Benchmark,
  type BenchContext,
  type Contender,
  type Row,
  type Timing,
} from '../harness.js';
import { writeSmallFilesTree } from '../data/trees.js';

/** The base image's name in both stores. */
export const BASE = 'localhost/base:1';

/** The rebuild benchmark's Dockerfile: 8 steps after FROM. */
export const REBUILD_DOCKERFILE = `FROM ${BASE}
ENV APP=/app GREETING=hello
WORKDIR /app
COPY . /app/src/
RUN mkdir -p /app/data /app/bin
RUN echo "$GREETING from $APP" > /app/data/greeting.txt
RUN cp /app/src/d000/f000000.bin /app/data/first.bin
RUN ln -s /app/data/greeting.txt /app/bin/greeting
RUN echo done > /app/data/done.txt
`;

/** A private buildah store (vfs) under one folder, named by global flags. */
export class Buildah {
  readonly root: string;
  readonly runroot: string;
  readonly env: NodeJS.ProcessEnv;

  constructor(dir: string) {
    this.root = join(dir, 'root');
    this.runroot = join(dir, 'runroot');
    const tmp = join(dir, 'tmp');
    mkdirSync(tmp, { recursive: true });
    this.env = { ...process.env, TMPDIR: tmp };
  }

  get flags(): string[] {
    return ['--root', this.root, '--runroot', this.runroot, '--storage-driver', 'vfs'];
  }

  /** Copies `oci:layout:tag` into the store as {@link BASE}. */
  async importBase(layout: string, tag: string): Promise<void> {
    await runChild({
      argv: [
        'skopeo',
        'copy',
        '--quiet',
        `oci:${layout}:${tag}`,
        `containers-storage:[vfs@${this.root}+${this.runroot}]${BASE}`,
      ],
      env: this.env,
    });
  }

  /** The argv of a `buildah build --layers` of `dockerfile` in `context`. */
  buildArgv(dockerfile: string, context: string, tag: string): string[] {
    return [
      'buildah',
      ...this.flags,
      'build',
      '--quiet',
      '--pull=never',
      '--isolation',
      'chroot',
      '--layers',
      '--timestamp',
      '0',
      '-t',
      tag,
      '-f',
      dockerfile,
      context,
    ];
  }

  /** Unmounts and removes everything, then the folder (vfs needs no unmount, but containers are removed first). */
  async destroy(dir: string): Promise<void> {
    try {
      await runChild({ argv: ['buildah', ...this.flags, 'rm', '--all'], env: this.env });
      await runChild({ argv: ['buildah', ...this.flags, 'rmi', '--all', '--force'], env: this.env });
    } catch {
      // Best effort: the folder goes anyway.
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Writes a store holding only the base image. */
async function baseStore(root: string): Promise<Store> {
  const store = await openStore({ root });
  await makeBusyboxImage(store, BASE);
  return store;
}

/** Throws unless every filesystem step of a build came from the cache. */
function assertAllCached(result: BuildResult, what: string): void {
  const missed = result.steps.filter((s) => !s.metadata && s.status !== 'cached');
  if (missed.length > 0)
    throw new Error(
      `${what}: expected every step cached, but ${missed.map((s) => `"${s.instruction}" (${s.status}${s.reason ? `: ${s.reason}` : ''})`).join(', ')} missed`,
    );
}

/** Milliseconds of the COPY step of a build. */
function copyStepMs(result: BuildResult): number {
  return result.steps.filter((s) => s.instruction.startsWith('COPY')).reduce((n, s) => n + s.durationMs, 0);
}

async function rebuildRow(ctx: BenchContext, dir: string, baseLayout: string): Promise<Row> {
  const context = join(dir, 'context');
  mkdirSync(context, { recursive: true });
  const stats = writeSmallFilesTree({ dir: context, files: 20, folders: 4, maxSize: 2048, seed: 11 });
  const dockerfile = join(dir, 'Dockerfile');
  writeFileSync(dockerfile, REBUILD_DOCKERFILE);
  const storeRoot = join(dir, 'store');
  const first = await build({
    store: await baseStore(storeRoot),
    context,
    dockerfile,
    tags: ['bench/rebuild:1'],
    sourceDateEpoch: 0,
  });
  const buildah = new Buildah(join(dir, 'buildah'));
  await buildah.importBase(baseLayout, 'base');
  const argv = buildah.buildArgv(dockerfile, context, 'localhost/bench-rebuild:1');
  await runChild({ argv, env: buildah.env });
  const layerSteps = first.steps.filter((s) => !s.metadata).length;
  let store: Store | undefined;
  const copyMs: number[] = [];
  const t = await measureInterleaved(ctx.runs, {
    peer: { fn: () => timeChild({ argv, env: buildah.env }) },
    ours: {
      setup: async () => {
        store = await openStore({ root: storeRoot });
      },
      fn: async () => {
        const r = await build({ store: store!, context, dockerfile, tags: ['bench/rebuild:1'], sourceDateEpoch: 0 });
        assertAllCached(r, 'rebuild');
        copyMs.push(copyStepMs(r));
      },
    },
  });
  await buildah.destroy(join(dir, 'buildah'));
  rmSync(storeRoot, { recursive: true, force: true });
  return judge({
    label: `rebuild, every step cached (8 steps, ${layerSteps} filesystem steps)`,
    ours: { value: t.ours.median * 1000, unit: 'ms' },
    peer: { value: t.peer.median * 1000, unit: 'ms' },
    peerName: 'buildah build --layers',
    ratio: t.peer.median / t.ours.median,
    target: { kind: 'min-ratio', value: 5, text: '≥ 5× buildah' },
    details: { contextFiles: stats.files, oursSeconds: t.ours.runs, peerSeconds: t.peer.runs, copyStepMs: copyMs },
  });
}

async function coldCopyRow(ctx: BenchContext, dir: string, baseLayout: string): Promise<Row> {
  const files = Math.max(100, Math.round(5_000 * ctx.scale));
  const context = join(dir, 'context');
  mkdirSync(context, { recursive: true });
  ctx.log(`build: generating a ${files}-file context`);
  const stats = writeSmallFilesTree({ dir: context, files, folders: 8, maxSize: 2048, seed: 12 });
  const dockerfile = join(dir, 'Dockerfile');
  writeFileSync(dockerfile, `FROM ${BASE}\nCOPY . /app/\n`);
  const storeRoot = join(dir, 'store');
  const buildahDir = join(dir, 'buildah');
  let store: Store | undefined;
  let buildah: Buildah | undefined;
  const t = await measureInterleaved(ctx.runs, {
    peer: {
      setup: async () => {
        buildah = new Buildah(buildahDir);
        await buildah.importBase(baseLayout, 'base');
      },
      fn: () =>
        timeChild({ argv: buildah!.buildArgv(dockerfile, context, 'localhost/bench-copy:1'), env: buildah!.env }),
      teardown: () => buildah!.destroy(buildahDir),
    },
    ours: {
      setup: async () => {
        store = await baseStore(storeRoot);
      },
      fn: async () => {
        const r = await build({ store: store!, context, dockerfile, tags: ['bench/copy:1'], sourceDateEpoch: 0 });
        const copy = r.steps.find((s) => s.instruction.startsWith('COPY'));
        if (copy?.status !== 'built')
          throw new Error(`cold COPY build: the COPY step was ${copy?.status ?? 'missing'}, not built`);
      },
      teardown: () => rmSync(storeRoot, { recursive: true, force: true }),
    },
  });
  return judge({
    label: `cold COPY build, ${files.toLocaleString('en-US')}-file context`,
    ours: { value: t.ours.median * 1000, unit: 'ms' },
    peer: { value: t.peer.median * 1000, unit: 'ms' },
    peerName: 'buildah build --layers',
    ratio: t.ours.median / t.peer.median,
    target: { kind: 'max-ratio', value: 0.5, text: '≤ 0.5× buildah time' },
    details: {
      files: stats.files,
      dirs: stats.dirs,
      payloadBytes: stats.bytes,
      oursSeconds: t.ours.runs,
      peerSeconds: t.peer.runs,
    },
  });
}

async function hashRows(ctx: BenchContext, dir: string): Promise<Row[]> {
  const files = Math.max(100, Math.round(10_000 * ctx.scale));
  const context = join(dir, 'context');
  mkdirSync(context, { recursive: true });
  ctx.log(`build: generating a ${files}-file context`);
  const stats = writeSmallFilesTree({ dir: context, files, folders: 20, maxSize: 4096, seed: 13 });
  const dockerfile = join(dir, 'Dockerfile');
  writeFileSync(dockerfile, `FROM ${BASE}\nCOPY . /x/\n`);
  const storeRoot = join(dir, 'store');
  ctx.log('build: the first (uncached) build of the hashing context');
  await build({ store: await baseStore(storeRoot), context, dockerfile, tags: ['bench/hash:1'], sourceDateEpoch: 0 });
  let store: Store | undefined;
  const copyMs: number[] = [];
  const warmCopyMs: number[] = [];
  const ours = (warm: boolean, into: number[]): Contender => ({
    setup: async () => {
      // Cold: the file hashes the last build kept are dropped, so every file is read and hashed.
      if (!warm) rmSync(join(storeRoot, 'layerkit', 'cache', 'context-hashes'), { recursive: true, force: true });
      store = await openStore({ root: storeRoot });
    },
    fn: async () => {
      const r = await build({ store: store!, context, dockerfile, tags: ['bench/hash:1'], sourceDateEpoch: 0 });
      assertAllCached(r, 'hashing');
      into.push(copyStepMs(r));
    },
  });
  const t = await measureInterleaved(ctx.runs, {
    peer: {
      fn: () =>
        timeChild({ argv: ['bash', '-c', 'set -o pipefail; tar -cf - . | sha256sum > /dev/null'], cwd: context }),
    },
    ours: ours(false, copyMs),
    warm: ours(true, warmCopyMs),
  });
  rmSync(storeRoot, { recursive: true, force: true });
  const row = (label: string, timing: Timing, copy: number[], target: Row['target']): Row =>
    judge({
      label,
      ours: { value: files / timing.median, unit: 'files/s' },
      peer: { value: files / t.peer.median, unit: 'files/s' },
      peerName: 'tar -cf - | sha256sum',
      ratio: t.peer.median / timing.median,
      target,
      details: {
        files: stats.files,
        dirs: stats.dirs,
        payloadBytes: stats.bytes,
        oursSeconds: timing.runs,
        peerSeconds: t.peer.runs,
        copyStepMs: copy,
      },
    });
  return [
    row(`hash a ${files.toLocaleString('en-US')}-file context (cached COPY, every file hashed)`, t.ours, copyMs, {
      kind: 'min-ratio',
      value: 0.5,
      text: '≥ 0.5× tar',
    }),
    row(`the same, file hashes of the last build reused (stat unchanged)`, t.warm, warmCopyMs, {
      kind: 'none',
      text: 'informational',
    }),
  ];
}

/** The builder benchmark. */
export const buildBenchmark: Benchmark = {
  name: 'build',
  title: 'the Dockerfile builder vs buildah build --layers and GNU tar (tmpfs)',
  async run(ctx) {
    for (const tool of ['buildah', 'skopeo', 'tar', 'sha256sum'])
      if (!hasTool(tool)) throw new Error(missingToolMessage(tool));
    if (!hasBusybox())
      throw new Error('the builder benchmark needs /bin/busybox (Debian: apt-get install busybox-static)');
    ctx.log('build: writing the busybox base and exporting it for buildah');
    const baseLayout = join(ctx.workDir, 'base-layout');
    const seedStore = await openStore({ root: join(ctx.workDir, 'seed-store') });
    const base = await makeBusyboxImage(seedStore, BASE);
    await exportImage({ store: seedStore, image: base, format: 'oci', output: baseLayout, name: 'base' });

    ctx.log('build: timing the cached rebuild');
    const rebuild = await rebuildRow(ctx, join(ctx.workDir, 'rebuild'), baseLayout);
    ctx.log('build: timing the cold COPY build');
    const cold = await coldCopyRow(ctx, join(ctx.workDir, 'cold'), baseLayout);
    rmSync(join(ctx.workDir, 'cold'), { recursive: true, force: true });
    ctx.log('build: timing context hashing');
    const hash = await hashRows(ctx, join(ctx.workDir, 'hash'));

    return {
      name: 'build',
      title: this.title,
      rows: [rebuild, cold, ...hash],
      notes: [
        'buildah: `buildah --root R --runroot RR --storage-driver vfs build --quiet --pull=never --isolation chroot --layers --timestamp 0 -t T -f Dockerfile ctx` as a child process, wall clock around spawn; the base copied in by `skopeo copy oci:… containers-storage:[vfs@R+RR]localhost/base:1`',
        'layerkit: `build()` in-process with the virtual shell, sourceDateEpoch 0; rebuild and hashing: a fresh `openStore` on the same (warm) store root per run, every filesystem step checked to be a cache hit; cold COPY: a fresh store holding only the base per run (store set-up not timed), the COPY step checked to be built',
        'rebuild: ENV, WORKDIR, COPY of a 20-file context, 5 RUN steps (mkdir -p, echo >, cp, ln -s, echo >); buildah rebuilds from its own --layers cache',
        'hashing: layerkit times the whole cached build of `FROM base` + `COPY . /x/` (walk, stat, sha256 of every file, key, lookup, image write), so build overhead counts against it; details.copyStepMs is the COPY step alone. The target row drops the file hashes the last build kept (layerkit/cache/context-hashes) before each run, so every file is read and hashed; the informational row keeps them, as a developer’s rebuild does (a file is hashed again only when its inode, size, mtime or ctime changed). Peer: `tar -cf - . | sha256sum` in the context (reads and hashes every byte; tar and sha256sum run on both cores)',
        `median of ${ctx.runs} runs after one warm-up each, peer and layerkit runs interleaved`,
      ],
    };
  },
};
