/**
 * Pruning the build cache by age and size (`pruneBuildCache`, `layerkit gc --prune-cache --until
 * --keep-storage`): a property test against the rules (nothing kept is older than the limit,
 * the kept layers fit, least recently used go first, a shared layer counts once), reuse marks a
 * record as used, gc then frees exactly the layers no image still uses, and the CLI's dry run
 * predicts the real run.
 */
import { describe, expect } from 'vitest';
import { it } from '../helpers/fixtures.js';
import { test, fc } from '@fast-check/vitest';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { build, gcStore, openStore, pruneBuildCache, type Store } from '../../src/index.js';
import { listCacheRecords, lookupRecord, recordLastUsed, saveRecord, touchRecord } from '../../src/builder/cache.js';
import type { Digest } from '../../src/digest/digest.js';
import { sha256 } from '../../src/digest/digest.js';

const HOUR = 3_600_000;
const NOW = Date.parse('2026-11-22T12:00:00Z');

/** A record whose layer is a stored blob of `size` bytes (made from `seed`), last used `ageMs` ago. */
async function fakeRecord(store: Store, i: number, layerSeed: number, size: number, ageMs: number): Promise<Digest> {
  const bytes = Buffer.alloc(size, layerSeed % 251);
  bytes.writeUInt32BE(layerSeed, 0);
  const info = await store.blobs.put(bytes);
  const key = sha256(`record ${i}`);
  const record = {
    key,
    layer: { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: info.digest, size: info.size },
    diffId: info.digest,
    created: new Date(NOW - 100 * HOUR).toISOString(),
    durationMs: 1,
  };
  saveRecord(store, record);
  touchRecord(store, record, NOW - ageMs);
  return key;
}

describe('pruneBuildCache', () => {
  let tmp: string;
  it.beforeEach(({ tmp: fresh }) => {
    tmp = fresh;
  });

  const recordArb = fc.record({
    layer: fc.integer({ min: 0, max: 5 }),
    size: fc.integer({ min: 4, max: 400 }),
    ageHours: fc.integer({ min: 0, max: 48 }),
  });
  test.prop(
    [
      fc.array(recordArb, { minLength: 1, maxLength: 12 }),
      fc.option(fc.integer({ min: 0, max: 48 })),
      fc.option(fc.integer({ min: 0, max: 1500 })),
    ],
    { numRuns: 40 },
  )(
    'keeps only records within the age limit whose layers fit, least recently used going first',
    async (specs, maxAgeHours, keepBytes) => {
      const store = await openStore({ memory: true });
      // one size per layer seed, so records sharing a seed share a layer blob
      const sizeOf = new Map<number, number>();
      for (const s of specs) if (!sizeOf.has(s.layer)) sizeOf.set(s.layer, s.size);
      for (const [i, s] of specs.entries())
        await fakeRecord(store, i, s.layer, sizeOf.get(s.layer)!, s.ageHours * HOUR);
      const before = listCacheRecords(store);
      const report = pruneBuildCache({
        store,
        now: NOW,
        ...(maxAgeHours !== null ? { olderThanMs: maxAgeHours * HOUR } : {}),
        ...(keepBytes !== null ? { keepBytes } : {}),
      });
      const kept = listCacheRecords(store);
      expect(kept.length + report.removed.length).toBe(before.length);
      expect(report.keptRecords).toBe(kept.length);
      if (maxAgeHours === null && keepBytes === null) {
        expect(kept).toEqual([]);
        return;
      }
      const age = (r: (typeof kept)[number]) => NOW - recordLastUsed(r);
      if (maxAgeHours !== null) for (const r of kept) expect(age(r)).toBeLessThanOrEqual(maxAgeHours * HOUR);
      const keptLayers = new Map(kept.map((r) => [r.layer.digest, r.layer.size]));
      const keptBytes = [...keptLayers.values()].reduce((a, b) => a + b, 0);
      expect(report.keptBytes).toBe(keptBytes);
      if (keepBytes !== null) {
        expect(keptBytes).toBeLessThanOrEqual(keepBytes);
        // a record removed for size (not age) is no newer than any kept layer's most recent user
        // (older records of a kept layer cost nothing and may stay)
        const newestUse = new Map<string, number>();
        for (const r of kept)
          newestUse.set(r.layer.digest, Math.max(newestUse.get(r.layer.digest) ?? 0, recordLastUsed(r)));
        const removedForSize = report.removed.filter(
          (r) =>
            (maxAgeHours === null || NOW - Date.parse(r.lastUsed) <= maxAgeHours * HOUR) && !keptLayers.has(r.layer),
        );
        for (const gone of removedForSize)
          for (const t of newestUse.values()) expect(t).toBeGreaterThanOrEqual(Date.parse(gone.lastUsed));
      }
      // a record whose layer another kept record uses costs nothing, so the age limit alone decides it
      for (const gone of report.removed) {
        if (keptLayers.has(gone.layer))
          expect(maxAgeHours !== null && NOW - Date.parse(gone.lastUsed) > maxAgeHours * HOUR).toBe(true);
      }
    },
  );

  it('a cache hit marks the record used; gc then frees only the layers of pruned records no image uses', async () => {
    const store = await openStore({ root: join(tmp, 'store'), durable: false });
    const ctx = join(tmp, 'ctx');
    fs.mkdirSync(ctx);
    fs.writeFileSync(join(ctx, 'a.txt'), 'a');
    fs.writeFileSync(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY a.txt /a\n');
    const first = await build({ store, context: ctx, tags: ['x:1'] });
    const step = first.steps.find((s) => s.status === 'built' && s.key)!;
    const made = lookupRecord(store, step.key!)!;
    expect(made.lastUsed).toBeUndefined();
    // a hit within the minute rewrites nothing; one after it records the use
    await build({ store, context: ctx });
    expect(lookupRecord(store, step.key!)!.lastUsed).toBeUndefined();
    touchRecord(store, made, Date.now() - 2 * HOUR);
    const before = Date.now();
    const second = await build({ store, context: ctx });
    expect(second.steps.find((s) => s.key === step.key)?.status).toBe('cached');
    const used = lookupRecord(store, step.key!)!;
    expect(recordLastUsed(used)).toBeGreaterThanOrEqual(before);

    // a record nobody used for two days, whose layer no image holds
    const stale = await fakeRecord(store, 99, 7, 300, 48 * HOUR);
    const staleLayer = lookupRecord(store, stale)!.layer.digest;
    const report = pruneBuildCache({ store, olderThanMs: 24 * HOUR });
    expect(report.removed.map((r) => r.key)).toEqual([stale]);
    const gc = await gcStore({ store });
    // (the untagged second build's manifest and config go too: nothing names them)
    expect(gc.removedBlobs).toContain(staleLayer);
    expect(store.blobs.has(used.layer.digest)).toBe(true);
  });
});

describe('layerkit gc --prune-cache with a policy', () => {
  let tmp: string;
  it.beforeEach(({ tmp: fresh }) => {
    tmp = fresh;
  });

  it('the dry run reports what the real run then removes, and changes nothing', async () => {
    const root = join(tmp, 'store');
    const store = await openStore({ root, durable: false });
    await fakeRecord(store, 1, 1, 1000, 1 * HOUR);
    await fakeRecord(store, 2, 2, 1000, 2 * HOUR);
    await fakeRecord(store, 3, 3, 1000, 3 * HOUR);
    const dry = await runCli([
      '--store',
      root,
      'gc',
      '--prune-cache',
      '--keep-storage',
      '2100b',
      '--dry-run',
      '--json',
    ]);
    expect(dry.code).toBe(0);
    expect(listCacheRecords(store)).toHaveLength(3);
    const predicted = JSON.parse(dry.out) as {
      removedBlobs: string[];
      removedCacheRecords: number;
      keptCacheRecords: number;
    };
    expect(predicted.removedCacheRecords).toBe(1);
    expect(predicted.keptCacheRecords).toBe(2);
    expect(predicted.removedBlobs).toHaveLength(1);
    const real = JSON.parse(
      (await runCli(['--store', root, 'gc', '--prune-cache', '--keep-storage', '2100b', '--json'])).out,
    ) as { removedBlobs: string[] };
    expect(real.removedBlobs).toEqual(predicted.removedBlobs);
    // the oldest went
    expect(
      listCacheRecords(store)
        .map((r) => NOW - recordLastUsed(r))
        .sort(),
    ).toEqual([1 * HOUR, 2 * HOUR]);
  });

  it.each([
    [['gc', '--until', '24h'], /add --prune-cache/],
    [['gc', '--prune-cache', '--until', 'soon'], /--until "soon": .*24h/],
    [['gc', '--prune-cache', '--keep-storage', 'lots'], /--keep-storage "lots": .*2gb/],
  ])('%j is a usage error naming the flag', async (argv, message) => {
    const r = await runCli(['--store', join(tmp, 'store'), ...argv]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });
});
