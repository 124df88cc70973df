/** WorkerDigester: the same digest as one sha256 over the bytes, in place or on the worker thread. */
import { describe, expect, it } from 'vitest';
import { test, fc } from '@fast-check/vitest';
import { createHash, randomBytes } from 'node:crypto';
import { sharedBuffer, warmDigestWorker, WorkerDigester } from '../../src/store/worker-digester.js';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MiB = 1 << 20;
const expected = (chunks: Buffer[]): string =>
  `sha256:${createHash('sha256').update(Buffer.concat(chunks)).digest('hex')}`;

/** Chunks of the given sizes cut from one random buffer (so big inputs stay cheap to make). */
function chunksOf(sizes: number[]): Buffer[] {
  const pool = randomBytes(Math.max(...sizes, 1) + 4096);
  return sizes.map((n, i) => pool.subarray(i % 4096, (i % 4096) + n));
}

describe('WorkerDigester', () => {
  test.prop([fc.array(fc.oneof(fc.nat(70_000), fc.integer({ min: MiB, max: 4 * MiB })), { maxLength: 8 })], {
    numRuns: 30,
  })('digests any chunking, below and above the in-place limit, as sha256 of the whole', async (sizes) => {
    const chunks = chunksOf(sizes);
    const d = new WorkerDigester();
    for (const c of chunks) await d.update(c);
    expect(await d.digest()).toBe(expected(chunks));
    expect(d.size).toBe(sizes.reduce((a, b) => a + b, 0));
  });

  test.prop([fc.array(fc.integer({ min: 1, max: 3 * MiB }), { minLength: 1, maxLength: 10 }), fc.boolean()], {
    numRuns: 20,
  })(
    'asks the caller once, past the in-place limit, where to hash; either answer gives the same digest',
    async (sizes, offload) => {
      const chunks = chunksOf(sizes);
      let asked = 0;
      const d = new WorkerDigester({ offload: () => (asked++, offload) });
      for (const c of chunks) await d.update(c);
      expect(await d.digest()).toBe(expected(chunks));
      expect(asked).toBe(sizes.reduce((a, b) => a + b, 0) > 8 * MiB ? 1 : 0);
    },
  );

  test.prop([fc.array(fc.oneof(fc.nat(70_000), fc.integer({ min: MiB, max: 4 * MiB })), { maxLength: 8 })], {
    numRuns: 20,
  })('offload: false hashes every byte in place as it comes: any chunking, nothing waits', async (sizes) => {
    const chunks = chunksOf(sizes);
    const d = new WorkerDigester({ offload: false });
    for (const c of chunks) expect(d.update(c)).toBeUndefined();
    expect(await d.digest()).toBe(expected(chunks));
    expect(d.size).toBe(sizes.reduce((a, b) => a + b, 0));
  });

  it('hashes in place when the caller is not busy: chunks may be reused at once, nothing waits', async () => {
    const buf = Buffer.alloc(MiB);
    const d = new WorkerDigester({ offload: () => false });
    const seen: Buffer[] = [];
    for (let i = 0; i < 40; i++) {
      buf.fill(i);
      seen.push(Buffer.from(buf));
      expect(d.update(buf)).toBeUndefined();
    }
    expect(await d.digest()).toBe(expected(seen));
  });

  it('copies what it sends: a chunk reused by the caller right after update() does not change the digest', async () => {
    const buf = Buffer.alloc(MiB, 1);
    const d = new WorkerDigester();
    const seen: Buffer[] = [];
    for (let i = 0; i < 12; i++) {
      buf.fill(i);
      seen.push(Buffer.from(buf));
      await d.update(buf);
    }
    expect(await d.digest()).toBe(expected(seen));
  });

  it('asks the caller to wait once 32 MiB are in flight, and still gets the digest right', async () => {
    const chunk = randomBytes(MiB);
    const d = new WorkerDigester();
    let waits = 0;
    const pending: Array<Promise<void>> = [];
    for (let i = 0; i < 48; i++) {
      const p = d.update(chunk); // no await: the worker cannot report progress in between
      if (p) {
        waits++;
        pending.push(p);
      }
    }
    expect(waits).toBeGreaterThan(0);
    await Promise.all(pending);
    expect(await d.digest()).toBe(expected(Array.from({ length: 48 }, () => chunk)));
  });

  it('keeps concurrent streams apart, and a discarded one does not disturb the others', async () => {
    const a = chunksOf([3 * MiB, 3 * MiB, 3 * MiB, 100]);
    const b = chunksOf([5 * MiB, 5 * MiB, 7]);
    const da = new WorkerDigester();
    const db = new WorkerDigester();
    const dx = new WorkerDigester();
    for (let i = 0; i < 4; i++) {
      if (a[i]) await da.update(a[i]!);
      if (b[i]) await db.update(b[i]!);
      await dx.update(b[0]!);
    }
    dx.discard();
    expect(await db.digest()).toBe(expected(b));
    expect(await da.digest()).toBe(expected(a));
  });

  test.prop(
    [
      fc.array(fc.oneof(fc.nat(70_000), fc.integer({ min: MiB / 2, max: 3 * MiB })), { minLength: 1, maxLength: 12 }),
      fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
    ],
    { numRuns: 20 },
  )(
    'hashes chunks in shared memory where they lie, mixed with copied ones, in order; a piece refilled after update() settles does not change the digest',
    async (sizes, inShared) => {
      const chunks = chunksOf(sizes);
      // Two shared pieces, refilled in turn as a download's are.
      const pieces = [sharedBuffer(3 * MiB), sharedBuffer(3 * MiB)];
      const d = new WorkerDigester();
      for (const [i, c] of chunks.entries()) {
        if (inShared[i]) {
          const piece = pieces[i % 2]!.subarray(0, c.length);
          c.copy(piece);
          await d.update(piece);
          piece.fill(0xee);
        } else {
          await d.update(c);
        }
      }
      expect(await d.digest()).toBe(expected(chunks));
    },
  );

  it('does not settle a shared chunk before the worker has read it', async () => {
    const piece = sharedBuffer(MiB);
    const d = new WorkerDigester();
    const seen: Buffer[] = [];
    let settledAtOnce = 0;
    for (let i = 0; i < 24; i++) {
      piece.fill(i);
      seen.push(Buffer.from(piece));
      const p = d.update(piece);
      // Past the in-place limit every shared chunk makes the caller wait for the worker.
      if (p === undefined) settledAtOnce++;
      else await p;
    }
    expect(settledAtOnce).toBe(8);
    expect(piece.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(await d.digest()).toBe(expected(seen));
  });

  it('a warmed worker hashes as usual, and keeps no process alive', async () => {
    warmDigestWorker();
    const chunks = chunksOf([5 * MiB, 5 * MiB]);
    const d = new WorkerDigester();
    for (const c of chunks) await d.update(c);
    expect(await d.digest()).toBe(expected(chunks));
    // A process that only warms the worker ends by itself.
    const module = fileURLToPath(new URL('../../src/store/worker-digester.ts', import.meta.url));
    const out = execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `import(${JSON.stringify(module)}).then((m) => { m.warmDigestWorker(); console.log('warmed'); })`,
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    expect(out.trim()).toBe('warmed');
  });
});
