/**
 * Target 3: a big layer imports and exports within 300 MiB of RSS. Each operation runs in its own
 * child process (bench/memory-child.ts) and reports its peak RSS (`process.resourceUsage().maxRSS`):
 * importing an oci-archive whose one layer is the tree's tar, exporting that image as an
 * oci-archive, and writing the tree as a gzip layer with `addLayer`. An idle child (the same
 * modules loaded, nothing done) gives the baseline; GNU tar's own peak (`/usr/bin/time -f %M`)
 * extracting the same layer is shown for scale.
 *
 * Layer size: LAYERKIT_BENCH_RSS_MIB, else 2 GiB with LAYERKIT_BENCH_FULL=1, else 256 MiB × scale.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { judge, MiB, runChild, type Benchmark, type Row } from '../harness.js';
import { tarFolder, writeOciLayout } from '../data/oci-layout.js';
import { writeMixedTree } from '../data/trees.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), '..', 'memory-child.ts');

interface ChildReport {
  op: string;
  seconds: number;
  maxRssKiB: number;
}

async function child(args: string[]): Promise<ChildReport> {
  const out = await runChild({ argv: [process.execPath, '--import', 'tsx', CHILD, ...args] });
  return JSON.parse(out.trim().split('\n').pop()!) as ChildReport;
}

async function tarPeakKiB(tar: string, into: string): Promise<number> {
  mkdirSync(into, { recursive: true });
  const out = await runChild({
    argv: ['bash', '-c', `/usr/bin/time -f %M tar -xf '${tar}' -C '${into}' 2>&1 >/dev/null`],
  });
  rmSync(into, { recursive: true, force: true });
  return Number(out.trim().split('\n').pop());
}

/** The layer size this run uses, and why. */
export function memoryLayerBytes(
  scale: number,
  full: boolean,
  env: NodeJS.ProcessEnv = process.env,
): { bytes: number; why: string } {
  const raw = env.LAYERKIT_BENCH_RSS_MIB;
  if (raw !== undefined && raw !== '') {
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`LAYERKIT_BENCH_RSS_MIB=${raw} is not a positive number`);
    return { bytes: Math.round(n) * MiB, why: 'LAYERKIT_BENCH_RSS_MIB' };
  }
  if (full) return { bytes: 2048 * MiB, why: 'LAYERKIT_BENCH_FULL=1' };
  return {
    bytes: Math.max(32, Math.round(256 * scale)) * MiB,
    why: 'default without LAYERKIT_BENCH_FULL=1 (set it for the 2 GiB target size)',
  };
}

/** The memory benchmark. */
export const memoryBenchmark: Benchmark = {
  name: 'memory',
  title: 'peak RSS importing and exporting a big layer (child processes)',
  async run(ctx) {
    const { bytes, why } = memoryLayerBytes(ctx.scale, ctx.full);
    const size = `${Math.round(bytes / MiB)} MiB`;
    const tree = join(ctx.workDir, 'tree');
    mkdirSync(tree, { recursive: true });
    ctx.log(`memory: generating a ${size} tree (${why})`);
    // Three quarters in two big files, the rest small files: both the streaming and the per-entry paths.
    const stats = writeMixedTree({
      dir: tree,
      bytes,
      bigFiles: 2,
      bigFileBytes: Math.floor((bytes * 0.375) / MiB) * MiB,
      seed: 5,
    });
    const tar = join(ctx.workDir, 'layer.tar');
    await tarFolder({ dir: tree, archive: tar });
    const layout = join(ctx.workDir, 'layout');
    await writeOciLayout({ dir: layout, layers: [tar], refName: 'bench-memory:latest' });
    const archive = join(ctx.workDir, 'image.oci.tar');
    await tarFolder({ dir: layout, archive });
    ctx.log('memory: GNU tar peak RSS');
    const tarKiB = await tarPeakKiB(tar, join(ctx.workDir, 'tar-out'));
    rmSync(layout, { recursive: true, force: true });
    rmSync(tar, { force: true });

    const store = join(ctx.workDir, 'store');
    ctx.log('memory: idle child');
    const idle = await child(['idle']);
    ctx.log('memory: import child');
    const imported = await child(['import', store, archive]);
    rmSync(archive, { force: true });
    ctx.log('memory: export child');
    const exported = await child(['export', store, 'bench-memory:latest', join(ctx.workDir, 'export.oci.tar')]);
    rmSync(join(ctx.workDir, 'export.oci.tar'), { force: true });
    rmSync(store, { recursive: true, force: true });
    ctx.log('memory: add-layer child');
    const added = await child(['add-layer', store, tree]);
    rmSync(store, { recursive: true, force: true });

    const limit = 300;
    const row = (label: string, r: ChildReport, peer?: number): Row =>
      judge({
        label,
        ours: { value: r.maxRssKiB / 1024, unit: 'MiB' },
        ...(peer !== undefined ? { peer: { value: peer / 1024, unit: 'MiB' }, peerName: 'tar -xf' } : {}),
        target: { kind: 'max', value: limit, text: `≤ ${limit} MiB` },
        details: { seconds: r.seconds, layerBytes: bytes, files: stats.files },
      });
    const rows: Row[] = [
      row(`import ${size} layer (oci-archive)`, imported, tarKiB),
      row(`export ${size} image (oci-archive)`, exported),
      row(`addLayer ${size} tree, gzip -1`, added),
      judge({
        label: 'idle child (baseline: node + tsx + modules)',
        ours: { value: idle.maxRssKiB / 1024, unit: 'MiB' },
        target: { kind: 'none', text: 'informational' },
      }),
    ];
    return {
      name: 'memory',
      title: this.title,
      rows,
      notes: [
        `layer size ${size} (${why}); ${stats.files.toLocaleString('en-US')} files, three quarters of the bytes in two big files`,
        "each operation runs in a fresh `node --import tsx bench/memory-child.ts` process; the figure is that process's peak RSS, baseline included (the tsx loader's share varies from run to run; its esbuild runs in a separate process and is not counted)",
        `seconds: import ${imported.seconds.toFixed(1)}, export ${exported.seconds.toFixed(1)}, addLayer ${added.seconds.toFixed(1)}`,
      ],
    };
  },
};
