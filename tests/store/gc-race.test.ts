/**
 * gc is safe against other processes, and fair to them: gc runs back to back in one process while
 * others import (valid layouts, and corrupt ones sharing their first layer), build and commit.
 * Every operation that succeeds leaves its tag resolvable, every valid one succeeds, verify finds
 * nothing, and no writer waits through more than a few gcs (without the writers-waiting signal,
 * gc retakes the gate before a polling writer sees it free, and writers starve until gc stops).
 * Bounded: a few dozen operations, about ten seconds on two cores.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { loadImage } from '../../src/image/image.js';
import { verifyStore } from '../../src/maintenance/verify-store.js';
import { openStore } from '../../src/store/store.js';
import { makeBaseImage } from '../builder/helpers.js';
import { test } from '../helpers/fixtures.js';

const WORKER = new URL('./gc-race-worker.ts', import.meta.url).pathname;

interface Line {
  op: string;
  tag: string;
  ok: boolean;
  code?: string;
  message?: string;
  /** gcs that finished while the operation ran. */
  rounds: number;
}

/**
 * The most gcs one operation may see finish. Each lease a writer opens waits for at most the gc
 * that is running (gc yields to waiting writers before it takes the gate again); an operation opens
 * a few leases (a build: one per step and one for the image), and a gc may have started just before.
 */
const MAX_ROUNDS_PER_OPERATION = 12;

function run(role: string, root: string, dir: string, count: number): Promise<{ code: number; lines: Line[] }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER, role, root, dir, String(count)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.on('exit', (code) => {
      const lines = out
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Line);
      resolve({ code: code ?? 1, lines });
    });
  });
}

describe('gc beside writers in other processes', () => {
  test('never removes what an import, a build or a commit wrote; a failing import never removes what another reused', async ({
    tmp,
  }) => {
    const root = join(tmp, 'store');
    const store = await openStore({ root, durable: false });
    await makeBaseImage({ store, tag: 'base:1' });
    const gc = run('gc', root, tmp, 0);
    const writers = await Promise.all([
      run('import-good', root, tmp, 10),
      run('import-bad', root, tmp, 10),
      run('build', root, tmp, 4),
      run('commit', root, tmp, 6),
    ]);
    writeFileSync(join(tmp, 'stop'), '');
    const gcs = await gc;
    expect(gcs.code).toBe(0);
    expect(gcs.lines.length).toBeGreaterThan(0);
    expect(gcs.lines.filter((l) => !l.ok)).toEqual([]);
    const [good, bad, builds, commits] = writers;
    for (const w of writers) expect(w.code).toBe(0);
    expect(good!.lines).toHaveLength(10);
    expect(bad!.lines).toHaveLength(10);
    // Every valid operation succeeds; every corrupt import fails with a coded integrity error.
    for (const w of [good!, builds!, commits!]) expect(w.lines.filter((l) => !l.ok)).toEqual([]);
    for (const l of bad!.lines) expect(l).toMatchObject({ ok: false, code: 'EINTEGRITY' });
    // Fair: gc ran back to back, yet every writer got through within a few gcs.
    const starved = writers.flatMap((w) => w.lines).filter((l) => l.rounds > MAX_ROUNDS_PER_OPERATION);
    expect(starved).toEqual([]);
    expect(gcs.lines.length).toBeGreaterThan(3);
    // A last gc, then every tag that was reported written still resolves to a whole image.
    const { gcStore } = await import('../../src/maintenance/gc-store.js');
    await gcStore({ store });
    for (const l of [...good!.lines, ...builds!.lines, ...commits!.lines]) {
      const image = await loadImage({ store, image: l.tag });
      for (const d of [image.descriptor, image.manifest.config, ...image.layers])
        expect(store.blobs.has(d.digest), `${l.tag}: ${d.digest}`).toBe(true);
    }
    expect((await verifyStore({ store })).problems).toEqual([]);
  }, 180_000);
});
