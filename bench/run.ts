/**
 * Runs layerkit's benchmarks: `npm run bench` (all of them) or `npm run bench -- import union`.
 * Each prints a table (layerkit, peer, ratio, target, PASS/FAIL) and the run is recorded in
 * bench/results.json with the machine's facts. Data is generated into a work folder on tmpfs and
 * removed afterwards. See bench/README.md for what each benchmark compares.
 *
 * Environment: LAYERKIT_BENCH_SCALE (data-size multiplier, default 1 = the sizes the targets are
 * stated for), LAYERKIT_BENCH_RUNS (measured runs, default 3, at least 3), LAYERKIT_BENCH_FULL=1
 * (the 2 GiB memory benchmark), LAYERKIT_BENCH_RSS_MIB (its layer size), LAYERKIT_BENCH_DIR
 * (where the work folder goes, default /dev/shm).
 *
 * Exit status: 0 every target met, 3 some target missed (the tables say which), 1 a benchmark
 * failed to run.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatTable, type BenchContext, type BenchResult, type Benchmark } from './harness.js';
import { machineFacts } from './machine.js';
import { importBenchmark } from './benchmarks/import.js';
import { exportBenchmark } from './benchmarks/export.js';
import { memoryBenchmark } from './benchmarks/memory.js';
import { unionBenchmark } from './benchmarks/union.js';
import { buildBenchmark } from './benchmarks/build.js';
import { registryBenchmark } from './benchmarks/registry.js';
import { remoteCacheBenchmark } from './benchmarks/remote-cache.js';
import { runBenchmark } from './benchmarks/run.js';
import { startupBenchmark } from './benchmarks/startup.js';
import { browserBenchmark } from './benchmarks/browser.js';
import { lazyBenchmark } from './benchmarks/lazy.js';

/**
 * Every benchmark, in the order they run. The builder's targets (issue target 5) get their own
 * module in bench/benchmarks/ exporting a `Benchmark`, listed here, and a section in
 * bench/README.md; the harness, runner and results file need no change.
 */
export const BENCHMARKS: readonly Benchmark[] = [
  importBenchmark,
  exportBenchmark,
  memoryBenchmark,
  unionBenchmark,
  buildBenchmark,
  registryBenchmark,
  remoteCacheBenchmark,
  lazyBenchmark,
  runBenchmark,
  startupBenchmark,
  browserBenchmark,
];

const HERE = dirname(fileURLToPath(import.meta.url));

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name}=${raw} is not a positive number`);
  return n;
}

async function main(): Promise<number> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((w) => !BENCHMARKS.some((b) => b.name === w));
  if (unknown.length > 0) {
    process.stderr.write(
      `unknown benchmark ${unknown.join(', ')}; choose from ${BENCHMARKS.map((b) => b.name).join(', ')}\n`,
    );
    return 2;
  }
  const selected = wanted.length === 0 ? BENCHMARKS : BENCHMARKS.filter((b) => wanted.includes(b.name));
  const scale = envNumber('LAYERKIT_BENCH_SCALE', 1);
  const runs = Math.max(3, Math.round(envNumber('LAYERKIT_BENCH_RUNS', 3)));
  const full = process.env.LAYERKIT_BENCH_FULL === '1';
  const base = process.env.LAYERKIT_BENCH_DIR ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir());
  const machine = machineFacts();
  process.stdout.write(
    `layerkit benchmarks on ${machine.cpuModel} (${machine.cores} cores), Node ${machine.node}, scale ${scale}, ${runs} runs, work dir on ${base}\n\n`,
  );

  const results: Array<
    BenchResult & {
      scale: number;
      runs: number;
      date: string;
      seconds: number;
      loadAverage: { before: number; after: number };
    }
  > = [];
  let failed = 0;
  let crashed = 0;
  for (const bench of selected) {
    const workDir = mkdtempSync(join(base, `layerkit-bench-${bench.name}-`));
    const cleanup = (): void => rmSync(workDir, { recursive: true, force: true });
    const onSignal = (): void => {
      cleanup();
      process.exit(130);
    };
    process.once('SIGINT', onSignal);
    const ctx: BenchContext = { workDir, scale, full, runs, log: (line) => process.stderr.write(`  ${line}\n`) };
    const t0 = Date.now();
    const loadBefore = loadavg()[0]!;
    try {
      const result = await bench.run(ctx);
      const loadAverage = { before: loadBefore, after: loadavg()[0]! };
      results.push({
        ...result,
        scale,
        runs,
        date: new Date().toISOString(),
        seconds: (Date.now() - t0) / 1000,
        loadAverage,
      });
      process.stdout.write(
        `${formatTable(result)}\n  (1-minute load average ${loadAverage.before.toFixed(1)} before, ${loadAverage.after.toFixed(1)} after, on ${machine.cores} cores)\n\n`,
      );
      failed += result.rows.filter((r) => r.pass === false).length;
    } catch (err) {
      process.stderr.write(`benchmark ${bench.name} failed: ${(err as Error).stack ?? String(err)}\n`);
      crashed++;
    } finally {
      process.off('SIGINT', onSignal);
      cleanup();
    }
  }

  // Keep the other benchmarks' last results when only some were run.
  const file = join(HERE, 'results.json');
  let previous: Array<{ name: string }> = [];
  try {
    previous = (JSON.parse(readFileSync(file, 'utf8')) as { benchmarks?: Array<{ name: string }> }).benchmarks ?? [];
  } catch {
    previous = [];
  }
  const byName = new Map<string, unknown>(previous.map((b) => [b.name, b]));
  for (const r of results) byName.set(r.name, r);
  const ordered = [
    ...BENCHMARKS.map((b) => byName.get(b.name)).filter((b) => b !== undefined),
    ...[...byName].filter(([n]) => !BENCHMARKS.some((b) => b.name === n)).map(([, b]) => b),
  ];
  writeFileSync(file, `${JSON.stringify({ machine, benchmarks: ordered }, null, 2)}\n`);
  process.stdout.write(
    `results written to ${file}; ${failed === 0 && crashed === 0 ? 'every target met' : `${failed} target(s) missed, ${crashed} benchmark(s) failed to run`}\n`,
  );
  return crashed > 0 ? 1 : failed > 0 ? 3 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
