/**
 * The cache across processes and damage: a second process hits what the first recorded,
 * `noCache` rebuilds every filesystem step yet records them, a cached layer whose blob was
 * deleted is rebuilt (reason `blob-missing`), never an error, and a memory store caches too.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { test } from '../helpers/fixtures.js';
import { build } from '../../src/builder/build.js';
import { makeContext, makeDiskStore, stepRows, type FileTable } from './helpers.js';

const FILES: FileTable = { 'a.txt': 'alpha\n', 'b.txt': 'beta\n' };

describe('the cache is shared and robust', () => {
  test('a second process hits the cache the first wrote', async ({ tmp }) => {
    const s = await makeDiskStore(tmp);
    const c = makeContext(tmp, {
      ...FILES,
      Dockerfile: 'FROM scratch\nWORKDIR /app\nCOPY . .\nRUN cat a.txt b.txt > both\n',
    });
    const child = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        join(import.meta.dirname, 'child-build.ts'),
        JSON.stringify({ root: s.root, context: c.dir, tags: ['shared:1'] }),
      ],
      {
        cwd: join(import.meta.dirname, '..', '..'),
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(child.status, child.stderr).toBe(0);
    const childResult = JSON.parse(child.stdout.trim().split('\n').pop()!) as { digest: string; statuses: string[] };
    expect(childResult.statuses).toEqual(['built', 'built', 'built']);
    const here = await build({ store: s.store, context: c.dir, tags: ['shared:1'] });
    expect(stepRows(here).map(([, status]) => status)).toEqual(['cached', 'cached', 'cached']);
    expect(here.steps.find((st) => st.instruction.startsWith('RUN'))!.layer!.digest).toBeDefined();
  });

  test('noCache rebuilds every filesystem step (reason no-cache) and still writes records', async ({ tmp }) => {
    const s = await makeDiskStore(tmp);
    const c = makeContext(tmp, {
      ...FILES,
      Dockerfile: 'FROM scratch\nLABEL a=b\nWORKDIR /w\nCOPY a.txt .\nRUN echo x > x\n',
    });
    const first = await build({ store: s.store, context: c.dir });
    const forced = await build({ store: s.store, context: c.dir, noCache: true });
    expect(stepRows(forced)).toEqual([
      ['WORKDIR /w', 'built', 'no-cache'],
      ['COPY a.txt .', 'built', 'no-cache'],
      ['RUN echo x > x', 'built', 'no-cache'],
    ]);
    // Metadata steps are not cache steps: no-cache changes nothing for them.
    expect(forced.steps.find((st) => st.instruction === 'LABEL a=b')!.explanation).toBeUndefined();
    expect(first.image.descriptor.digest).not.toBe('');
    // A fresh store: a noCache build first, then a normal build hits what it recorded.
    const s2 = await makeDiskStore(tmp);
    await build({ store: s2.store, context: c.dir, noCache: true });
    const after = await build({ store: s2.store, context: c.dir });
    expect(stepRows(after).map(([, status]) => status)).toEqual(['cached', 'cached', 'cached']);
  });

  test("a cached layer's blob deleted from the store is rebuilt (reason blob-missing), never an error", async ({
    tmp,
  }) => {
    const s = await makeDiskStore(tmp);
    const c = makeContext(tmp, {
      ...FILES,
      Dockerfile: 'FROM scratch\nCOPY a.txt /a\nRUN echo x > /x\nCOPY b.txt /b\n',
    });
    const first = await build({ store: s.store, context: c.dir, tags: ['blobs:1'], sourceDateEpoch: 1_000_000 });
    const [copyA, runX] = first.steps;
    s.store.blobs.delete(copyA!.layer!.digest);
    s.store.blobs.delete(runX!.layer!.digest);
    const second = await build({ store: s.store, context: c.dir, tags: ['blobs:1'], sourceDateEpoch: 1_000_000 });
    expect(stepRows(second)).toEqual([
      ['COPY a.txt /a', 'built', 'blob-missing'],
      ['RUN echo x > /x', 'built', 'blob-missing'],
      ['COPY b.txt /b', 'cached'],
    ]);
    // The rebuilt layers are the same bytes: the image is the same, and every blob is back.
    expect(second.image.descriptor.digest).toBe(first.image.descriptor.digest);
    for (const l of second.image.layers) expect(s.store.blobs.has(l.digest)).toBe(true);
  });

  test('the memory store caches too', async ({ store, tmp }) => {
    const c = makeContext(tmp, { ...FILES, Dockerfile: 'FROM scratch\nCOPY a.txt /a\nRUN echo x > /x\n' });
    await build({ store, context: c.dir });
    expect(stepRows(await build({ store, context: c.dir })).map(([, st]) => st)).toEqual(['cached', 'cached']);
  });
});
