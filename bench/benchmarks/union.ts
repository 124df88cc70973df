/**
 * Target 4: the union view. A generated 20-layer image of 100,000 files (bench/data/union-layers.ts)
 * is imported into a store and, from the same layer folders, mounted with the kernel's overlayfs
 * (`mount -t overlay`, read-only, unmounted in a `finally`). Measured, all in this process:
 *
 * - `stat` and `readFile` of random visible paths: layerkit's promise API on `mountImage`'s view
 *   against `fs.promises.stat` / `fs.promises.readFile` on the overlay mount. The peer is timed
 *   both one call at a time and with 64 calls in flight; the faster counts. Warm (after a warm-up
 *   pass) is the target; the first pass on a fresh mount and the synchronous APIs are shown too.
 * - mounting the image when its indexes are stored: `mountImage` on a fresh `openStore` of the
 *   same root (cold in-process cache); target under 200 ms.
 * - committing one changed file: `commit()` of a view whose only change is one rewritten lower
 *   file, in the 100,000-file image against a 1,000-file image of the same shape; target ≤ 1.5×.
 */
import { mkdirSync, promises as fsp, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openStore, type Store } from '../../src/store/store.js';
import { importImage } from '../../src/image/import.js';
import { mountImage, type ImageFS } from '../../src/union/mount-image.js';
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
import { writeUnionImage, type UnionImage } from '../data/union-layers.js';
import { Prng } from '../data/prng.js';

const LAYERS = 20;
const BIG_REF = 'bench-union:big';
const SMALL_REF = 'bench-union:small';
const EPOCH = 1_700_000_000;

async function mountOverlay(layerDirs: readonly string[], at: string): Promise<void> {
  mkdirSync(at, { recursive: true });
  const lower = [...layerDirs].reverse().join(':');
  await runChild({ argv: ['mount', '-t', 'overlay', 'overlay', '-o', `ro,lowerdir=${lower}`, at] });
}

async function unmount(at: string): Promise<void> {
  await runChild({ argv: ['umount', at] });
}

/** Runs `op` over every path, one call at a time, or with `inFlight` calls outstanding. */
async function sweep(paths: readonly string[], op: (p: string) => Promise<unknown>, inFlight = 1): Promise<void> {
  if (inFlight === 1) {
    for (const p of paths) await op(p);
    return;
  }
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < paths.length) await op(paths[next++]!);
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
}

function sample(visible: readonly string[], n: number, seed: number): string[] {
  const rng = new Prng(seed);
  return Array.from({ length: n }, () => `/${visible[rng.int(0, visible.length - 1)]!}`);
}

/** Checks that layerkit and the kernel agree on the sampled paths before timing anything. */
function crossCheck(view: ImageFS, mnt: string, paths: readonly string[]): void {
  for (const p of paths) {
    const ours = view.readFileSync(p);
    const theirs = readFileSync(mnt + p);
    const a = view.statSync(p);
    const b = statSync(mnt + p);
    if (!ours.equals(theirs) || a.size !== b.size || a.mode !== b.mode || a.nlink !== b.nlink) {
      throw new Error(
        `layerkit and overlayfs disagree on ${p}: size ${a.size}/${b.size}, mode ${a.mode.toString(8)}/${b.mode.toString(8)}, nlink ${a.nlink}/${b.nlink}, bytes ${ours.equals(theirs) ? 'same' : 'differ'}`,
      );
    }
  }
}

interface OpsFigures {
  ours: Timing;
  peerSerial: Timing;
  peerParallel: Timing;
  oursSync: Timing;
  peerSync: Timing;
}

async function timeOps(
  ctx: BenchContext,
  view: ImageFS,
  mnt: string,
  paths: readonly string[],
  op: 'stat' | 'readFile',
): Promise<OpsFigures> {
  const runs = ctx.runs;
  const oursAsync = op === 'stat' ? (p: string) => view.stat(p) : (p: string) => view.readFile(p);
  const peerAsync = op === 'stat' ? (p: string) => fsp.stat(mnt + p) : (p: string) => fsp.readFile(mnt + p);
  const oursSync = op === 'stat' ? (p: string) => view.statSync(p) : (p: string) => view.readFileSync(p);
  const peerSync = op === 'stat' ? (p: string) => statSync(mnt + p) : (p: string) => readFileSync(mnt + p);
  return measureInterleaved(runs, {
    ours: { fn: () => sweep(paths, oursAsync) },
    peerSerial: { fn: () => sweep(paths, peerAsync) },
    peerParallel: { fn: () => sweep(paths, peerAsync, 64) },
    oursSync: { fn: () => void paths.forEach(oursSync) },
    peerSync: { fn: () => void paths.forEach(peerSync) },
  });
}

function opsRows(op: string, n: number, f: OpsFigures): Row[] {
  const peerBest = Math.min(f.peerSerial.median, f.peerParallel.median);
  const peerHow = f.peerParallel.median < f.peerSerial.median ? '64 in flight' : 'serial';
  return [
    judge({
      label: `${op} random paths, warm (promise API)`,
      ours: { value: n / f.ours.median, unit: 'ops/s' },
      peer: { value: n / peerBest, unit: 'ops/s' },
      peerName: `fs.promises.${op}, overlay, ${peerHow}`,
      ratio: peerBest / f.ours.median,
      target: { kind: 'min-ratio', value: 5, text: '≥ 5× kernel' },
      details: {
        paths: n,
        oursSeconds: f.ours.runs,
        peerSerialSeconds: f.peerSerial.runs,
        peerParallelSeconds: f.peerParallel.runs,
      },
    }),
    judge({
      label: `${op}Sync random paths, warm`,
      ours: { value: n / f.oursSync.median, unit: 'ops/s' },
      peer: { value: n / f.peerSync.median, unit: 'ops/s' },
      peerName: `fs.${op}Sync, overlay`,
      ratio: f.peerSync.median / f.oursSync.median,
      target: { kind: 'none', text: 'informational' },
      details: { paths: n, oursSeconds: f.oursSync.runs, peerSeconds: f.peerSync.runs },
    }),
  ];
}

/** A fresh store handle (cold index cache) and a view mounted on it; the mount's own time. */
async function freshMount(root: string, ref: string): Promise<{ store: Store; view: ImageFS; seconds: number }> {
  const store = await openStore({ root, create: false });
  const t0 = performance.now();
  const view = await mountImage({ store, image: ref, clock: () => EPOCH * 1000 });
  return { store, view, seconds: (performance.now() - t0) / 1000 };
}

/** A commit of one rewritten lower file on a freshly mounted view; only `commit()` is timed. */
function commitContender(root: string, ref: string, path: string): Contender {
  let view: ImageFS | undefined;
  let round = 0;
  return {
    setup: async () => {
      view = (await freshMount(root, ref)).view;
      await view.writeFile(path, `changed in round ${round++}\n`);
    },
    fn: async () => {
      await view!.commit({ sourceDateEpoch: EPOCH });
    },
  };
}

/** The union benchmark. */
export const unionBenchmark: Benchmark = {
  name: 'union',
  title: 'union view vs kernel overlayfs on the same 20 layers (tmpfs)',
  async run(ctx) {
    const perLayer = Math.max(50, Math.round((100_000 * ctx.scale) / LAYERS));
    ctx.log(`union: generating ${LAYERS} layers × ${perLayer} files`);
    const big: UnionImage = await writeUnionImage({
      dir: join(ctx.workDir, 'big'),
      layers: LAYERS,
      filesPerLayer: perLayer,
      refName: BIG_REF,
      seed: 11,
    });
    const small: UnionImage = await writeUnionImage({
      dir: join(ctx.workDir, 'small'),
      layers: LAYERS,
      filesPerLayer: 50,
      refName: SMALL_REF,
      seed: 12,
    });
    const root = join(ctx.workDir, 'store');
    ctx.log('union: importing both images');
    const setupStore = await openStore({ root });
    const t0 = performance.now();
    await importImage({ store: setupStore, source: big.layout });
    const importSeconds = (performance.now() - t0) / 1000;
    await importImage({ store: setupStore, source: small.layout });

    const n = Math.max(2000, Math.round(20_000 * ctx.scale));
    const paths = sample(big.visibleFiles, n, 99);
    const mnt = join(ctx.workDir, 'mnt');
    const rows: Row[] = [];
    const notes: string[] = [];
    let commitRuns = 0;
    await mountOverlay(big.layerDirs, mnt);
    try {
      // First pass on fresh mounts: layerkit's lookup caches and link counts are empty, the overlay's dentries too.
      const cold = await freshMount(root, BIG_REF);
      let t = performance.now();
      const firstStat = cold.view.statSync(paths[0]!);
      const firstStatSeconds = (performance.now() - t) / 1000;
      void firstStat;
      t = performance.now();
      await sweep(paths, (p) => cold.view.stat(p));
      const oursCold = (performance.now() - t) / 1000 + firstStatSeconds;
      t = performance.now();
      await sweep(paths, (p) => fsp.stat(mnt + p));
      const peerCold = (performance.now() - t) / 1000;
      crossCheck(cold.view, mnt, paths.slice(0, 500));

      ctx.log('union: stat and readFile');
      const view = (await freshMount(root, BIG_REF)).view;
      const stat = await timeOps(ctx, view, mnt, paths, 'stat');
      const read = await timeOps(ctx, view, mnt, paths, 'readFile');
      rows.push(...opsRows('stat', n, stat), ...opsRows('readFile', n, read));
      rows.push(
        judge({
          label: 'stat random paths, first pass on a fresh mount',
          ours: { value: n / oursCold, unit: 'ops/s' },
          peer: { value: n / peerCold, unit: 'ops/s' },
          peerName: 'fs.promises.stat, serial',
          ratio: peerCold / oursCold,
          target: { kind: 'none', text: 'informational' },
          details: { firstStatMs: firstStatSeconds * 1000 },
        }),
      );

      ctx.log('union: mount times');
      const peerMountDir = `${mnt}2`;
      const { mount, mountAndStat, peerMount } = await measureInterleaved(ctx.runs, {
        mount: { fn: async () => (await freshMount(root, BIG_REF)).seconds },
        mountAndStat: {
          fn: async () => {
            const s = performance.now();
            const { view: v } = await freshMount(root, BIG_REF);
            await v.stat(paths[0]!);
            return (performance.now() - s) / 1000;
          },
        },
        peerMount: {
          setup: () => void mkdirSync(peerMountDir, { recursive: true }),
          fn: () =>
            timeChild({
              argv: [
                'mount',
                '-t',
                'overlay',
                'overlay',
                '-o',
                `ro,lowerdir=${[...big.layerDirs].reverse().join(':')}`,
                peerMountDir,
              ],
            }),
          teardown: () => unmount(peerMountDir),
        },
      });
      rows.push(
        judge({
          label: 'mountImage, indexes stored, cold process cache',
          ours: { value: mount.median * 1000, unit: 'ms' },
          peer: { value: peerMount.median * 1000, unit: 'ms' },
          peerName: 'mount -t overlay',
          target: { kind: 'max', value: 200, text: '< 200 ms' },
          details: { oursSeconds: mount.runs, peerSeconds: peerMount.runs },
        }),
        judge({
          label: 'mountImage + first stat',
          ours: { value: mountAndStat.median * 1000, unit: 'ms' },
          target: { kind: 'none', text: 'informational' },
          details: { seconds: mountAndStat.runs },
        }),
      );
    } finally {
      await unmount(mnt);
    }

    ctx.log('union: commits');
    commitRuns = Math.max(ctx.runs, 7);
    const { big: bigCommit, small: smallCommit } = await measureInterleaved(commitRuns, {
      big: commitContender(root, BIG_REF, `/${big.visibleFiles[Math.floor(big.visibleFiles.length / 2)]!}`),
      small: commitContender(root, SMALL_REF, `/${small.visibleFiles[Math.floor(small.visibleFiles.length / 2)]!}`),
    });
    rows.push(
      judge({
        label: `commit one changed file, ${big.files.toLocaleString('en-US')}-file image`,
        ours: { value: bigCommit.median * 1000, unit: 'ms' },
        peer: { value: smallCommit.median * 1000, unit: 'ms' },
        peerName: `${small.files.toLocaleString('en-US')}-file image`,
        ratio: bigCommit.median / smallCommit.median,
        target: { kind: 'max-ratio', value: 1.5, text: '≤ 1.5× small image' },
        details: { bigSeconds: bigCommit.runs, smallSeconds: smallCommit.runs },
      }),
    );
    notes.push(
      `image: ${LAYERS} layers, ${big.files.toLocaleString('en-US')} files written (${big.visibleFiles.length.toLocaleString('en-US')} visible), ${big.whiteouts} whiteouts; imported in ${importSeconds.toFixed(1)} s`,
      `${n.toLocaleString('en-US')} random visible file paths per pass, the same for both sides; layerkit and the kernel were checked to agree on bytes, size, mode and nlink of 500 of them first`,
      'both sides in this process; the overlay is `mount -t overlay -o ro,lowerdir=L19:…:L0` on tmpfs folders with 0/0 character-device whiteouts',
      `warm figures: median of ${ctx.runs} passes after one warm-up pass each, all variants interleaved; the peer row shows the faster of serial and 64-in-flight`,
      `commit: median of ${commitRuns} commits per image (interleaved), each on a freshly mounted view after rewriting one lower file (copy-up); only commit() is timed`,
    );
    return { name: 'union', title: this.title, rows, notes };
  },
};
