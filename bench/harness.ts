/**
 * The benchmark harness: what a benchmark is, how it is timed (warm-up once, then the median of
 * at least three runs), how a peer tool is timed (as a child process, wall clock around spawn),
 * and how a measured row is judged against its target. No benchmark asserts timings in tests:
 * a row that misses its target is reported as FAIL, never hidden.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

/** How a row is judged. `min-ratio`: ratio ≥ value; `max-ratio`: ratio ≤ value; `max`: ours ≤ value (absolute). */
export type Target =
  | { kind: 'min-ratio'; value: number; text: string }
  | { kind: 'max-ratio'; value: number; text: string }
  | { kind: 'max'; value: number; text: string }
  | { kind: 'none'; text: string };

/** One measured figure with its unit (`files/s`, `MiB/s`, `ms`, `MiB`...). */
export interface Figure {
  value: number;
  unit: string;
}

/** One line of a benchmark's table. */
export interface Row {
  /** What was measured, e.g. `import 10,000 small files (OCI layout)`. */
  label: string;
  ours: Figure;
  /** The peer's figure, measured in the same run (absent for absolute targets). */
  peer?: Figure | undefined;
  /** What the peer is, e.g. `GNU tar -xf`. */
  peerName?: string | undefined;
  /** The ratio the target is about (see {@link Target}); absent when there is no peer. */
  ratio?: number | undefined;
  target: Target;
  /** true/false when the row has a target, undefined when it is informational. */
  pass?: boolean | undefined;
  /** Extra facts (sizes, run times) kept in results.json. */
  details?: Record<string, unknown> | undefined;
}

/** What one benchmark returns. */
export interface BenchResult {
  name: string;
  title: string;
  rows: Row[];
  /** Notes printed under the table (what exactly was compared, caveats). */
  notes: string[];
}

/** Settings every benchmark gets. */
export interface BenchContext {
  /** A fresh folder on tmpfs for this benchmark (removed afterwards by the runner). */
  workDir: string;
  /** Multiplier on data sizes (1 = the sizes the targets are stated for). */
  scale: number;
  /** True when `LAYERKIT_BENCH_FULL=1`. */
  full: boolean;
  /** Measured runs per figure (≥ 3). */
  runs: number;
  /** Progress lines (stderr). */
  log: (line: string) => void;
}

/** A benchmark the runner can run by name. */
export interface Benchmark {
  name: string;
  title: string;
  run: (ctx: BenchContext) => Promise<BenchResult>;
}

/** The median of some numbers (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Timings of one measured operation: every run's seconds and their median. */
export interface Timing {
  median: number;
  runs: number[];
}

/** One operation to time (see {@link measure} and {@link measureInterleaved}). */
export interface Contender {
  /** Prepares one run (not timed): fresh output folder, fresh store... */
  setup?: (() => Promise<void> | void) | undefined;
  /** The timed work; returns seconds when it times itself (a child process), else it is timed here. */
  fn: () => Promise<number | void> | number | void;
  /** Cleans up after one run (not timed). */
  teardown?: (() => Promise<void> | void) | undefined;
}

/** Options for {@link measure}. */
export interface MeasureOptions extends Contender {
  /** Measured runs (a warm-up run comes first and is discarded). */
  runs: number;
  /** Skip the warm-up run (for operations too slow to repeat, or whose first run is the point). */
  noWarmup?: boolean | undefined;
}

async function runOnce(c: Contender): Promise<number> {
  await c.setup?.();
  const t0 = performance.now();
  const self = await c.fn();
  const seconds = typeof self === 'number' ? self : (performance.now() - t0) / 1000;
  await c.teardown?.();
  return seconds;
}

/** Runs `fn` once to warm up, then `runs` times, and returns the median wall-clock seconds. */
export async function measure({ runs, noWarmup, ...contender }: MeasureOptions): Promise<Timing> {
  const times: number[] = [];
  if (noWarmup !== true) await runOnce(contender);
  for (let i = 0; i < runs; i++) times.push(await runOnce(contender));
  return { median: median(times), runs: times };
}

/**
 * Times several operations fairly on a machine whose load varies: each is warmed up once, then
 * the measured runs go round-robin (A B C, A B C, ...), so a burst of load from elsewhere hits
 * every contender alike. Returns each one's median and runs.
 */
export async function measureInterleaved<K extends string>(
  runs: number,
  contenders: Record<K, Contender>,
): Promise<Record<K, Timing>> {
  const keys = Object.keys(contenders) as K[];
  const times = new Map<K, number[]>(keys.map((k) => [k, []]));
  for (const k of keys) await runOnce(contenders[k]);
  for (let i = 0; i < runs; i++) for (const k of keys) times.get(k)!.push(await runOnce(contenders[k]));
  return Object.fromEntries(keys.map((k) => [k, { median: median(times.get(k)!), runs: times.get(k)! }])) as Record<
    K,
    Timing
  >;
}

/** Options for {@link timeChild}. */
export interface TimeChildOptions {
  /** Program and arguments (no shell unless you run `bash -c`). */
  argv: readonly string[];
  cwd?: string | undefined;
  env?: NodeJS.ProcessEnv | undefined;
}

/**
 * Runs a child process and returns its wall-clock seconds, measured around spawn and exit (exec
 * overhead is about 1 ms here). A non-zero exit fails with its stderr.
 */
export function timeChild({ argv, cwd, env }: TimeChildOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(argv[0]!, argv.slice(1), { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code, sig) => {
      const seconds = (performance.now() - t0) / 1000;
      if (code === 0) resolve(seconds);
      else reject(new Error(`${argv.join(' ')} failed (${sig ?? `exit ${code}`}): ${stderr.trim().slice(0, 2000)}`));
    });
  });
}

/**
 * The environment of the Node processes the start-up rows time (the CLI and `node -e 0`): this
 * process's, with `extra`, without `NODE_EXTRA_CA_CERTS`. Node 20 reads and parses that bundle at
 * every start, whatever the program (about 40 ms of CPU for a system bundle of ~140 certificates
 * on the bench machine, more than half of `node -e 0`): a setting of a machine, not of layerkit,
 * that the peers (buildah, podman, runc) never pay. The benchmarks time `node -e 0` with it too
 * and say what it costs when it is set.
 */
export function nodeChildEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const { NODE_EXTRA_CA_CERTS: _, ...env } = process.env;
  return { ...env, ...extra };
}

/** The built CLI, `dist/cli.cjs`: what `npx layerkit` runs (see {@link ensureBuilt}). */
export const CLI: string = join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), 'dist', 'cli.cjs');

/**
 * Builds the package (`npm run build`) unless {@link CLI} is newer than every file under src/, so
 * a benchmark of whole CLI processes never times a stale build.
 */
export function ensureBuilt(ctx: Pick<BenchContext, 'log'>): void {
  const src = join(dirname(dirname(CLI)), 'src');
  const newest = (dir: string): number =>
    Math.max(...readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => statSync(join(dir, f)).mtimeMs));
  if (existsSync(CLI) && statSync(CLI).mtimeMs > newest(src)) return;
  ctx.log('building the package (npm run build)');
  execFileSync('npm', ['run', 'build'], { cwd: dirname(src), stdio: 'ignore' });
}

/**
 * The environment of the built CLI's timed runs ({@link nodeChildEnv}, plus `extra`): its code
 * cache in the benchmark's own folder, filled by the warm-up run as a user's first run fills theirs,
 * or none (`cache: false`, `LAYERKIT_COMPILE_CACHE=0`).
 */
export function cliEnv(
  ctx: Pick<BenchContext, 'workDir'>,
  cache = true,
  extra: NodeJS.ProcessEnv = {},
): NodeJS.ProcessEnv {
  return nodeChildEnv({ LAYERKIT_COMPILE_CACHE: cache ? join(ctx.workDir, 'compile-cache') : '0', ...extra });
}

/**
 * The floor of every Node process, to time beside a CLI: `node -e 0` without `NODE_EXTRA_CA_CERTS`
 * (`node`, as the CLI rows run) and with the machine's own environment (`nodeCa`).
 */
export function nodeStartContenders(): { node: Contender; nodeCa: Contender } {
  return {
    node: { fn: () => timeChild({ argv: [process.execPath, '-e', '0'], env: nodeChildEnv() }) },
    nodeCa: { fn: () => timeChild({ argv: [process.execPath, '-e', '0'] }) },
  };
}

/** The note saying what `NODE_EXTRA_CA_CERTS` costs each Node start here, when it is set. */
export function extraCaNote(t: { node: Timing; nodeCa: Timing }, peers: string): string | undefined {
  if (!process.env.NODE_EXTRA_CA_CERTS) return undefined;
  const f = (s: number) => `${(s * 1000).toFixed(1)} ms`;
  return `This machine sets NODE_EXTRA_CA_CERTS, which Node parses at every start: \`node -e 0\` takes ${f(t.nodeCa.median)} with it, ${f(t.node.median)} without. The layerkit rows and \`node -e 0\` run without it (${peers} never pay it); with it, add the difference to each.`;
}

/** Runs a child process to completion and returns its stdout (for data generation and peers' answers). */
export function runChild({ argv, cwd, env }: TimeChildOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code, sig) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(`${argv.join(' ')} failed (${sig ?? `exit ${code}`}): ${stderr.trim().slice(0, 2000)}`));
    });
  });
}

/** Fills in `pass` from the row's target (and ratio or absolute figure). */
export function judge(row: Row): Row {
  const t = row.target;
  let pass: boolean | undefined;
  if (t.kind === 'min-ratio') pass = row.ratio !== undefined && row.ratio >= t.value;
  else if (t.kind === 'max-ratio') pass = row.ratio !== undefined && row.ratio <= t.value;
  else if (t.kind === 'max') pass = row.ours.value <= t.value;
  return { ...row, pass };
}

/** Mebibytes. */
export const MiB = 1 << 20;

/** Formats a number for a table: 3 significant digits below 100, thousands separators above. */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  if (abs >= 100) return Math.round(n).toLocaleString('en-US');
  if (abs >= 10) return n.toFixed(1);
  if (abs >= 1) return n.toFixed(2);
  return n.toPrecision(3);
}

function figure(f: Figure | undefined): string {
  return f === undefined ? '–' : `${formatNumber(f.value)} ${f.unit}`;
}

/** The text table of one benchmark: label, ours, peer, ratio, target, verdict. */
export function formatTable(result: BenchResult): string {
  const header = ['benchmark', 'layerkit', 'peer', 'ratio', 'target', 'result'];
  const lines = result.rows.map((r) => [
    r.label,
    figure(r.ours),
    r.peer === undefined ? '–' : `${figure(r.peer)}${r.peerName ? ` (${r.peerName})` : ''}`,
    r.ratio === undefined ? '–' : `${r.ratio.toFixed(2)}×`,
    r.target.text,
    r.pass === undefined ? 'info' : r.pass ? 'PASS' : 'FAIL',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const out = [
    `== ${result.name}: ${result.title}`,
    fmt(header),
    fmt(widths.map((w) => '-'.repeat(w))),
    ...lines.map(fmt),
  ];
  for (const n of result.notes) out.push(`  * ${n}`);
  return out.join('\n');
}
