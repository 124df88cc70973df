#!/usr/bin/env node
/**
 * Does Node lose speed through a change (issue 13: the platform split, the browser stream work)?
 * A paired, interleaved comparison of two commits on the same machine in the same minutes:
 *
 *   node bench/browser-node-paired.mjs BASE CANDIDATE [--runs N] [--quiet CORES] [benchmark ...]
 *   node bench/browser-node-paired.mjs 66a1457 main --runs 5 import export build
 *   node bench/browser-node-paired.mjs --from /dev/shm/lk-paired-….json   (compare saved runs again)
 *
 * Each commit is checked out into its own git worktree under $TMPDIR (default /dev/shm); the
 * candidate reuses this checkout's node_modules when its package-lock.json is the same, else each
 * worktree gets its own `npm ci --prefer-offline --ignore-scripts`. Then `npm run bench -- …` runs
 * N times in each, alternating (base, candidate, candidate, base, …), each run's
 * bench/results.json is kept, and the rows are compared. The worktrees are removed at the end.
 *
 * What the comparison has to survive (measured in session 7 on the 2-core bench machine): one
 * bench process's import of 10,000 small files takes 80 ms in one process and 130 ms in the next,
 * with the same code, the same data and the same `tar -xf` time, and other people's jobs come and
 * go within a run. A median of 3 per-process medians per side then moves by ±15 % between two runs
 * of the script: 66a1457 against itself read 0.92 (OCI layout) and 0.82 (oci-archive) with
 * 3 runs, what had been taken for the platform split's loss. So:
 * - the verdict is the median of the PAIRED ratios, one per round: candidate process i ÷ the base
 *   process next to it in time (the two share the machine's load), each process counted by the
 *   median of its in-process runs (a row's `details.oursSeconds`), with the range over the rounds;
 *   "within noise" when that range reaches 1 (give or take 2 %). The range is the honest figure:
 *   on a quiet machine 66a1457 against itself read 0.85 (0.77–1.10) for the small-file OCI layout
 *   row in 6 rounds, and 0.86 (0.67–0.96) for the archive row in 3; a median alone decides nothing
 *   below about 15 % for those rows (the 500 MiB rows spread about ±10 % too). Use 6 or more
 *   runs and --quiet;
 * - `--quiet CORES` waits (at most 2 minutes) before each run until the other processes use
 *   less than CORES cores, measured over 2 s from /proc/stat, and the table says the load.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
let runs = 3;
let quiet;
/** --from FILE: no runs, only the comparison of the runs a previous invocation saved. */
let from;
const positional = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--runs') runs = Number(args[++i]);
  else if (args[i] === '--quiet') quiet = Number(args[++i]);
  else if (args[i] === '--from') from = args[++i];
  else positional.push(args[i]);
}
const saved = from === undefined ? undefined : JSON.parse(readFileSync(from, 'utf8'));
if (saved !== undefined) positional.splice(0, positional.length, saved.base, saved.candidate, ...saved.benchmarks);
const [base, candidate, ...benchmarks] = positional;
if (base === undefined || candidate === undefined || !(runs >= 1)) {
  console.error('usage: node bench/browser-node-paired.mjs BASE CANDIDATE [--runs N] [--quiet CORES] [benchmark ...]');
  process.exit(2);
}
if (benchmarks.length === 0) benchmarks.push('import', 'export', 'build');

/** Cores in use on the machine over `ms` (from /proc/stat: all CPUs' non-idle time). */
function busyCores(ms) {
  const read = () => {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3] + (f[4] ?? 0);
    return { idle, total: f.reduce((a, b) => a + b, 0) };
  };
  const a = read();
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  const b = read();
  const cores = availableParallelism();
  return b.total === a.total ? 0 : (cores * (b.total - a.total - (b.idle - a.idle))) / (b.total - a.total);
}

/** Waits (at most 2 minutes) until other processes use fewer than `limit` cores; returns the last reading. */
function waitQuiet(limit) {
  const until = Date.now() + 120_000;
  for (;;) {
    const busy = busyCores(2000);
    if (busy < limit || Date.now() > until) return busy;
  }
}

const git = (...a) => execFileSync('git', ['-C', repo, ...a], { encoding: 'utf8' }).trim();
const out = saved ?? {
  base,
  candidate,
  runs,
  quiet,
  benchmarks,
  results: { base: [], candidate: [] },
  busy: { base: [], candidate: [] },
};
if (saved === undefined) runAll();

/** Checks out both commits and runs the benches, interleaved, into `out`. */
function runAll() {
  const work = mkdtempSync(join(process.env.TMPDIR ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir()), 'lk-paired-'));
  const trees = {};
  try {
    const ownLock = readFileSync(join(repo, 'package-lock.json'), 'utf8');
    for (const [side, rev] of [
      ['base', base],
      ['candidate', candidate],
    ]) {
      const commit = git('rev-parse', '--verify', `${rev}^{commit}`);
      const dir = join(work, side);
      git('worktree', 'add', '--detach', dir, commit);
      trees[side] = dir;
      const lock = git('show', `${commit}:package-lock.json`);
      if (lock === ownLock.trim()) symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'));
      else {
        console.error(`${side} ${rev}: its package-lock.json differs, installing its node_modules`);
        execFileSync('npm', ['ci', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund'], {
          cwd: dir,
          stdio: ['ignore', 'ignore', 'inherit'],
        });
      }
      console.error(`${side}: ${rev} = ${commit.slice(0, 7)} ${git('log', '-1', '--format=%s', commit)}`);
    }
    for (let i = 0; i < runs; i++) {
      const order = i % 2 === 0 ? ['base', 'candidate'] : ['candidate', 'base'];
      for (const side of order) {
        const busy = quiet === undefined ? busyCores(1000) : waitQuiet(quiet);
        out.busy[side].push(busy);
        console.error(`run ${i + 1}/${runs}: ${side} (other processes busy: ${busy.toFixed(2)} cores)`);
        const r = spawnSync('npm', ['run', '--silent', 'bench', '--', ...benchmarks], {
          cwd: trees[side],
          stdio: ['ignore', 'ignore', 'inherit'],
        });
        if (r.status !== 0 && r.status !== 3) throw new Error(`the ${side} bench failed (exit ${r.status})`);
        out.results[side].push(JSON.parse(readFileSync(join(trees[side], 'bench', 'results.json'), 'utf8')));
      }
    }
  } finally {
    for (const dir of Object.values(trees)) spawnSync('git', ['-C', repo, 'worktree', 'remove', '--force', dir]);
    rmSync(work, { recursive: true, force: true });
  }
  const file = join(work, '..', `lk-paired-${Date.now()}.json`);
  writeFileSync(file, JSON.stringify(out));
  console.error(`all runs: ${file}`);
}

const median = (xs) => quantile(xs, 0.5);
/** The q-quantile of xs (linear between order statistics). */
function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  const at = (s.length - 1) * q;
  const lo = Math.floor(at);
  return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (at - lo);
}
/** Whether a row's unit is a duration (lower is better) rather than a rate. */
const isTime = (unit) => unit === 'ms' || unit === 's';
/**
 * label → { unit, runs: number[][] (one array per bench process, every in-process run in the row's unit), ratio }
 * for one side. A row without `details.oursSeconds` counts its median as its one run.
 */
const rowsOf = (side) => {
  const rows = new Map();
  // results.json keeps the rows of benchmarks not run this time: only this run's count.
  for (const result of out.results[side]) {
    const seen = new Set();
    for (const b of result.benchmarks.filter((x) => benchmarks.includes(x.name)))
      for (const row of b.rows ?? []) {
        if (typeof row.ours?.value !== 'number' || seen.has(row.label)) continue;
        seen.add(row.label);
        const r = rows.get(row.label) ?? { unit: row.ours.unit, runs: [], ratio: [] };
        const secs = row.details?.oursSeconds;
        let values = [row.ours.value];
        if (Array.isArray(secs) && secs.length > 0) {
          const m = median(secs);
          values = secs.map((x) => (isTime(row.ours.unit) ? (row.ours.value * x) / m : (row.ours.value * m) / x));
        }
        r.runs.push(values);
        if (typeof row.ratio === 'number') r.ratio.push(row.ratio);
        rows.set(row.label, r);
      }
  }
  return rows;
};
const b = rowsOf('base');
const c = rowsOf('candidate');
const fmt = (x) => (x === undefined ? '–' : x >= 100 ? x.toFixed(0) : x.toPrecision(3));
const lines = [
  '| row | unit | base median | candidate median | paired speed ratio (range over rounds) | verdict | ratio to peer, base → candidate |',
  '|---|---|---|---|---|---|---|',
];
for (const [label, br] of b) {
  const cr = c.get(label);
  if (cr === undefined) continue;
  // Speed ratios (> 1: the candidate is faster), one per round: the median of a candidate process's
  // runs against that of the base process next to it in time (runs go B C | C B | B C …). The
  // process is the unit: runs inside one process share its fast or slow mode, so pooling them
  // would make the spread look narrower than it is (66a1457 against itself then read "slower").
  const paired = [];
  for (let i = 0; i < Math.min(br.runs.length, cr.runs.length); i++) {
    const x = median(cr.runs[i]);
    const y = median(br.runs[i]);
    paired.push(isTime(br.unit) ? y / x : x / y);
  }
  const lo = Math.min(...paired);
  const hi = Math.max(...paired);
  // 2 % either way is below anything these rows can resolve (the in-memory sha256 row moves by 1 %).
  const verdict = lo <= 1.02 && hi >= 0.98 ? 'within noise' : hi < 0.98 ? 'slower' : 'faster';
  const bq = br.ratio.length ? median(br.ratio) : undefined;
  const cq = cr.ratio.length ? median(cr.ratio) : undefined;
  lines.push(
    `| ${label} | ${br.unit} | ${fmt(median(br.runs.flat()))} | ${fmt(median(cr.runs.flat()))} | ` +
      `${median(paired).toFixed(3)} (${lo.toFixed(2)}–${hi.toFixed(2)}) | ${verdict} | ${fmt(bq)} → ${fmt(cq)} |`,
  );
}
const busy = [...(out.busy?.base ?? []), ...(out.busy?.candidate ?? [])];
const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(
  `${base} vs ${candidate}, ${out.runs} interleaved bench processes each; other processes busy before a run: ` +
    `${busy.length ? `${Math.min(...busy).toFixed(1)}–${Math.max(...busy).toFixed(1)}` : 'not recorded'} cores of ${availableParallelism()}` +
    `${quiet === undefined ? '' : ` (waited for < ${quiet})`}; load average at the end ${load}\n`,
);
console.log('speed ratio: candidate ÷ base as speed (> 1: the candidate is faster), whatever the unit\n');
console.log(lines.join('\n'));
