import { spawn } from 'node:child_process';
import { symlinkSync } from 'node:fs';
import { relative } from 'node:path';
import { describe, expect } from 'vitest';
import { it } from '../helpers/fixtures.js';
import { openStore, type Store } from '../../src/store/store.js';

/**
 * Runs `rounds` critical sections under the store lock `name` and records, in a shared counter
 * object, how many holders there were at once.
 */
async function hammer(store: Store, name: string, rounds: number, seen: { now: number; max: number }) {
  for (let i = 0; i < rounds; i++) {
    await store.withLock(name, async () => {
      seen.now++;
      seen.max = Math.max(seen.max, seen.now);
      await new Promise((r) => setTimeout(r, 2));
      seen.now--;
    });
  }
}

describe('store lock', () => {
  it('one store opened under two spellings in one process has one lock holder at a time', async ({ tmp }) => {
    const abs = `${tmp}/s`;
    symlinkSync(abs, `${tmp}/link`);
    const a = await openStore({ root: abs, durable: false });
    const b = await openStore({ root: relative(process.cwd(), abs), durable: false });
    const c = await openStore({ root: `${tmp}/link/`, durable: false });
    const seen = { now: 0, max: 0 };
    await Promise.all([hammer(a, 'x', 15, seen), hammer(b, 'x', 15, seen), hammer(c, 'x', 15, seen)]);
    expect(seen.max).toBe(1);
    expect(b.root).toBe(a.root);
    expect(c.root).toBe(a.root);
  });

  it('two processes holding one store lock never overlap', async ({ tmp }) => {
    const root = `${tmp}/s`;
    await openStore({ root, durable: false });
    // Each process appends "+pid" on entry and "-pid" on exit to a log under the lock: the log of
    // a correct lock is strictly alternating pairs.
    const log = `${tmp}/log`;
    const script = `
      import { appendFileSync } from 'node:fs';
      import { openStore } from '${process.cwd()}/src/store/store.ts';
      const [root, log] = process.argv.slice(1);
      const a = await openStore({ root, durable: false });
      const b = await openStore({ root: root + '/', durable: false });
      const one = (s) => s.withLock('x', async () => {
        appendFileSync(log, '+' + process.pid + '\\n');
        await new Promise((r) => setTimeout(r, 3));
        appendFileSync(log, '-' + process.pid + '\\n');
      });
      await Promise.all([a, b].map(async (s) => { for (let i = 0; i < 10; i++) await one(s); }));`;
    const run = () =>
      new Promise<number>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, root, log], {
          stdio: 'inherit',
        });
        child.on('exit', (code) => resolve(code ?? 1));
      });
    expect(await Promise.all([run(), run()])).toEqual([0, 0]);
    const lines = (await import('node:fs')).readFileSync(log, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(80);
    for (let i = 0; i < lines.length; i += 2) {
      expect(lines[i]?.[0]).toBe('+');
      expect(lines[i + 1]).toBe(`-${lines[i]?.slice(1)}`);
    }
  });

  it('keeps the layer-index cache and lock queue per store handle, not per process', async ({ store: a }) => {
    const b = await openStore({ memory: true });
    const key = Symbol('k');
    expect(a.memo(key, () => 1)).toBe(1);
    expect(a.memo(key, () => 2)).toBe(1);
    expect(b.memo(key, () => 3)).toBe(3);
  });
});
