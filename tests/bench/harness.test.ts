/**
 * The benchmark harness and data scripts: medians and verdicts are computed right, runs are
 * interleaved, generated data is deterministic, and the export benchmark's tree reader yields
 * what GNU tar archives from the same folder.
 */
import { describe, expect } from 'vitest';
import { it } from '../helpers/fixtures.js';
import { test, fc } from '@fast-check/vitest';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { linkSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliEnv, formatTable, judge, measureInterleaved, median, runChild, type Row } from '../../bench/harness.js';
import { Prng, RandomBytes, textCorpus } from '../../bench/data/prng.js';
import { writeMixedTree, writeSmallFilesTree } from '../../bench/data/trees.js';
import { treeEntries } from '../../bench/tree-entries.js';
import { memoryLayerBytes } from '../../bench/benchmarks/memory.js';
import { writeLayer } from '../../src/tar/layer-writer.js';
import { hasTool, missingToolMessage } from '../helpers/tools.js';

/** sha256 over every file's relative path, mode and bytes, in sorted order. */
function treeDigest(dir: string): string {
  const hash = createHash('sha256');
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const path = rel === '' ? name : `${rel}/${name}`;
      const st = statSync(join(dir, path));
      hash.update(`${path}\0${st.mode}\0`);
      if (st.isDirectory()) walk(path);
      else hash.update(readFileSync(join(dir, path)));
    }
  };
  walk('');
  return hash.digest('hex');
}

describe('harness', () => {
  test.prop([fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 30 })])(
    'median splits the values in half',
    (values) => {
      const m = median(values);
      expect(values.filter((v) => v < m).length).toBeLessThanOrEqual(values.length / 2);
      expect(values.filter((v) => v > m).length).toBeLessThanOrEqual(values.length / 2);
    },
  );

  it.each<[string, Partial<Row>, boolean | undefined]>([
    ['ratio at the minimum passes', { ratio: 0.5, target: { kind: 'min-ratio', value: 0.5, text: '' } }, true],
    ['ratio below the minimum fails', { ratio: 0.49, target: { kind: 'min-ratio', value: 0.5, text: '' } }, false],
    ['no ratio fails a ratio target', { target: { kind: 'min-ratio', value: 0.5, text: '' } }, false],
    ['ratio above the maximum fails', { ratio: 1.51, target: { kind: 'max-ratio', value: 1.5, text: '' } }, false],
    ['ratio at the maximum passes', { ratio: 1.5, target: { kind: 'max-ratio', value: 1.5, text: '' } }, true],
    [
      'absolute figure under the limit passes',
      { ours: { value: 199, unit: 'ms' }, target: { kind: 'max', value: 200, text: '' } },
      true,
    ],
    [
      'absolute figure over the limit fails',
      { ours: { value: 201, unit: 'ms' }, target: { kind: 'max', value: 200, text: '' } },
      false,
    ],
    ['informational rows have no verdict', { ratio: 0.1, target: { kind: 'none', text: '' } }, undefined],
  ])('judge: %s', (_name, row, pass) => {
    expect(judge({ label: 'x', ours: { value: 1, unit: 'x' }, ...row } as Row).pass).toBe(pass);
  });

  it('measureInterleaved warms each contender up once, then runs them round-robin', async () => {
    const order: string[] = [];
    const t = await measureInterleaved(3, {
      a: { fn: () => void order.push('a') },
      b: { fn: () => (order.push('b'), 0.25), setup: () => void order.push('b-setup') },
    });
    expect(order).toEqual(['a', 'b-setup', 'b', 'a', 'b-setup', 'b', 'a', 'b-setup', 'b', 'a', 'b-setup', 'b']);
    expect(t.b).toEqual({ median: 0.25, runs: [0.25, 0.25, 0.25] });
    expect(t.a.runs).toHaveLength(3);
  });

  it('formats a table with a verdict per row', () => {
    const text = formatTable({
      name: 'demo',
      title: 'a demo',
      notes: ['a note'],
      rows: [
        judge({
          label: 'op',
          ours: { value: 1234.5, unit: 'files/s' },
          peer: { value: 2000, unit: 'files/s' },
          peerName: 'tar',
          ratio: 0.61725,
          target: { kind: 'min-ratio', value: 0.5, text: '≥ 0.5×' },
        }),
      ],
    });
    expect(text).toContain('1,235 files/s');
    expect(text).toContain('2,000 files/s (tar)');
    expect(text).toContain('0.62×');
    expect(text).toMatch(/PASS$/m);
    expect(text).toContain('* a note');
  });

  it("cliEnv gives the CLI's runs a code cache of the run's own (or none) and no NODE_EXTRA_CA_CERTS", () => {
    const saved = process.env.NODE_EXTRA_CA_CERTS;
    process.env.NODE_EXTRA_CA_CERTS = '/etc/ssl/certs/ca-certificates.crt';
    try {
      const cached = cliEnv({ workDir: '/w' }, true, { HOME: '/h' });
      expect(cached.LAYERKIT_COMPILE_CACHE).toBe('/w/compile-cache');
      expect(cached.HOME).toBe('/h');
      expect(cached).not.toHaveProperty('NODE_EXTRA_CA_CERTS');
      expect(cliEnv({ workDir: '/w' }, false).LAYERKIT_COMPILE_CACHE).toBe('0');
    } finally {
      if (saved === undefined) delete process.env.NODE_EXTRA_CA_CERTS;
      else process.env.NODE_EXTRA_CA_CERTS = saved;
    }
  });

  it.for([8, 96])('the RSS preload reports the peak of a process that touched %i MiB', async (mib, { tmp }) => {
    const file = join(tmp, 'rss');
    const preload = fileURLToPath(new URL('../../bench/rss-report.cjs', import.meta.url));
    const touch = `const b = Buffer.alloc(${mib} << 20, 1); process.stdout.write(String(b[b.length - 1]));`;
    const out = await runChild({
      argv: [process.execPath, '--require', preload, '-e', touch],
      env: { ...process.env, LAYERKIT_BENCH_RSS_FILE: file },
    });
    expect(out).toBe('1');
    const kib = Number(readFileSync(file, 'utf8'));
    expect(kib).toBeGreaterThanOrEqual(mib * 1024);
    expect(kib).toBeLessThan((mib + 200) * 1024);
  });

  it('a child of a large parent reports its own peak, not the parent memory it was forked from', async ({ tmp }) => {
    const file = join(tmp, 'rss');
    const preload = fileURLToPath(new URL('../../bench/rss-report.cjs', import.meta.url));
    const child = [process.execPath, '--require', preload, '-e', 'process.stdout.write(String(1))'];
    // The parent holds 300 MiB while it spawns the child (Linux's maxRSS would carry that over exec).
    const parent = `const big = Buffer.alloc(300 << 20, 1);
      const r = require('node:child_process').spawnSync(${JSON.stringify(child[0])}, ${JSON.stringify(child.slice(1))}, { stdio: 'inherit' });
      process.exitCode = r.status + big[1] - 1;`;
    const out = await runChild({
      argv: [process.execPath, '-e', parent],
      env: { ...process.env, LAYERKIT_BENCH_RSS_FILE: file },
    });
    expect(out).toBe('1');
    const kib = Number(readFileSync(file, 'utf8'));
    expect(kib).toBeGreaterThan(10 * 1024);
    expect(kib).toBeLessThan(200 * 1024);
  });

  it.each([
    [{}, false, 256],
    [{}, true, 2048],
    [{ LAYERKIT_BENCH_RSS_MIB: '100' }, true, 100],
  ])('the memory benchmark layer size: env %j, full %s → %i MiB', (env, full, mib) => {
    expect(memoryLayerBytes(1, full, env).bytes).toBe(mib * 2 ** 20);
  });
});

describe('data scripts', () => {
  it('the generators are deterministic', () => {
    expect(new RandomBytes('x').take(64).equals(new RandomBytes('x').take(64))).toBe(true);
    expect(new RandomBytes('x').take(64).equals(new RandomBytes('y').take(64))).toBe(false);
    const a = new Prng(5);
    const b = new Prng(5);
    expect(Array.from({ length: 20 }, () => a.int(0, 1000))).toEqual(Array.from({ length: 20 }, () => b.int(0, 1000)));
    expect(textCorpus(1, 10_000).equals(textCorpus(1, 10_000))).toBe(true);
  });

  it('writes the same trees twice', ({ tmp }) => {
    const one = join(tmp, 'one');
    const two = join(tmp, 'two');
    mkdirSync(one);
    mkdirSync(two);
    const s1 = writeSmallFilesTree({ dir: join(one, 'small'), files: 300 });
    const s2 = writeSmallFilesTree({ dir: join(two, 'small'), files: 300 });
    expect(s1).toEqual(s2);
    const m1 = writeMixedTree({ dir: join(one, 'mixed'), bytes: 3 << 20, bigFiles: 1, bigFileBytes: 1 << 20 });
    const m2 = writeMixedTree({ dir: join(two, 'mixed'), bytes: 3 << 20, bigFiles: 1, bigFileBytes: 1 << 20 });
    expect(m1).toEqual(m2);
    expect(m1.symlinks).toBeGreaterThan(0);
    expect(treeDigest(one)).toBe(treeDigest(two));
  });

  it.skipIf(!hasTool('tar'))(
    'treeEntries yields what GNU tar archives from the folder (names, types, link targets, sizes)',
    async ({ tmp }) => {
      const dir = join(tmp, 'tree');
      writeMixedTree({ dir, bytes: 4 << 20, bigFiles: 1, bigFileBytes: 2 << 20 });
      linkSync(join(dir, 'pkg00', 'mod0', 'blob0.dat'), join(dir, 'zz-second-name'));
      const ours: string[] = [];
      for await (const { header } of treeEntries({ dir }))
        ours.push(`${header.type} ${header.path} ${header.linkTarget ?? ''} ${header.size ?? 0}`);
      // GNU tar: the first name of a hardlinked file carries the data, later names are links.
      const listing = execFileSync('tar', ['-cf', '-', '--sort=name', '-C', dir, '.'], { maxBuffer: 64 << 20 });
      const verbose = execFileSync('tar', ['-tvf', '-'], { input: listing, maxBuffer: 64 << 20 })
        .toString()
        .trim()
        .split('\n');
      const theirs = verbose.map((line) => {
        const f = line.split(/\s+/);
        const kind =
          line[0] === 'd' ? 'directory' : line[0] === 'l' ? 'symlink' : line[0] === 'h' ? 'hardlink' : 'file';
        const name = f[5]!.replace(/^\.\/?/, '').replace(/\/$/, '');
        const target = kind === 'symlink' ? f[7]! : kind === 'hardlink' ? f[8]!.replace(/^\.\//, '') : '';
        return `${kind} ${name} ${target} ${kind === 'file' ? f[2] : 0}`;
      });
      expect(ours.slice().sort()).toEqual(theirs.slice().sort());
      expect(ours).toContain('hardlink zz-second-name pkg00/mod0/blob0.dat 0');
      // And a layer written from them holds every byte of the tree.
      const { stream, result } = writeLayer({ entries: treeEntries({ dir }), compression: 'none' });
      let size = 0;
      for await (const c of stream) size += (c as Buffer).length;
      expect((await result).uncompressedSize).toBe(size);
    },
  );
  if (!hasTool('tar')) it.skip(`treeEntries vs GNU tar: ${missingToolMessage('tar')}`, () => undefined);
});
