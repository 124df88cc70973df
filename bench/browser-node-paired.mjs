#!/usr/bin/env node
/**
 * Does Node lose speed through a change (issue 13: the platform split, the browser stream work)?
 * A paired, interleaved comparison of two commits on the same machine in the same minutes:
 *
 *   node bench/browser-node-paired.mjs BASE CANDIDATE [--runs N] [benchmark ...]
 *   node bench/browser-node-paired.mjs 66a1457 main --runs 5 import export build
 *
 * Each commit is checked out into its own git worktree under $TMPDIR (default /dev/shm); the
 * candidate reuses this checkout's node_modules when its package-lock.json is the same, else each
 * worktree gets its own `npm ci --prefer-offline --ignore-scripts`. Then `npm run bench -- …` runs
 * N times in each, alternating (base, candidate, candidate, base, …, so drift in the machine's
 * load falls on both sides alike), each run's bench/results.json is kept, and for every row the
 * medians of layerkit's own value and of its ratio against the peer (measured in the same run)
 * are printed side by side with candidate/base. On a busy machine read the ratio column: it is
 * what bench/ judges and it cancels most of the load. The worktrees are removed at the end.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
let runs = 3;
const positional = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--runs') runs = Number(args[++i]);
  else positional.push(args[i]);
}
const [base, candidate, ...benchmarks] = positional;
if (base === undefined || candidate === undefined || !(runs >= 1)) {
  console.error('usage: node bench/browser-node-paired.mjs BASE CANDIDATE [--runs N] [benchmark ...]');
  process.exit(2);
}
if (benchmarks.length === 0) benchmarks.push('import', 'export', 'build');

const git = (...a) => execFileSync('git', ['-C', repo, ...a], { encoding: 'utf8' }).trim();
const work = mkdtempSync(join(process.env.TMPDIR ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir()), 'lk-paired-'));
const trees = {};
const out = { base, candidate, runs, benchmarks, results: { base: [], candidate: [] } };
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
      console.error(`run ${i + 1}/${runs}: ${side}`);
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

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
/** label → { value: number[], ratio: number[], unit } for one side. */
const rowsOf = (side) => {
  const rows = new Map();
  // results.json keeps the rows of benchmarks not run this time: only this run's count.
  for (const result of out.results[side])
    for (const b of result.benchmarks.filter((x) => benchmarks.includes(x.name)))
      for (const row of b.rows ?? []) {
        if (typeof row.ours?.value !== 'number') continue;
        const r = rows.get(row.label) ?? { value: [], ratio: [], unit: row.ours.unit };
        r.value.push(row.ours.value);
        if (typeof row.ratio === 'number') r.ratio.push(row.ratio);
        rows.set(row.label, r);
      }
  return rows;
};
const b = rowsOf('base');
const c = rowsOf('candidate');
const fmt = (x) => (x === undefined ? '–' : x >= 100 ? x.toFixed(0) : x.toPrecision(3));
const lines = [
  `| row | unit | base median | candidate median | cand/base | base ratio | candidate ratio |`,
  '|---|---|---|---|---|---|---|',
];
for (const [label, br] of b) {
  const cr = c.get(label);
  if (cr === undefined) continue;
  const bv = median(br.value);
  const cv = median(cr.value);
  const bq = br.ratio.length ? median(br.ratio) : undefined;
  const cq = cr.ratio.length ? median(cr.ratio) : undefined;
  lines.push(`| ${label} | ${br.unit} | ${fmt(bv)} | ${fmt(cv)} | ${(cv / bv).toFixed(3)} | ${fmt(bq)} | ${fmt(cq)} |`);
}
const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(`${base} vs ${candidate}, ${runs} interleaved runs each, load average at the end ${load}\n`);
console.log(lines.join('\n'));
const file = join(work, '..', `lk-paired-${Date.now()}.json`);
writeFileSync(file, JSON.stringify(out));
console.error(`all runs: ${file}`);
