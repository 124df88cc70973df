/** parallelGzip: valid gzip (zlib and GNU gzip read it back), deterministic, as small as zlib's. */
import { describe, expect, it } from 'vitest';
import { test, fc } from '@fast-check/vitest';
import { execFileSync } from 'node:child_process';
import { gunzipSync, gzipSync } from 'node:zlib';
import { parallelGzip, type ParallelGzipOptions } from '../../src/tar/parallel-gzip.js';
import { hasTool, missingToolMessage } from '../helpers/tools.js';

async function gzip(data: Buffer, cuts: number[], options: ParallelGzipOptions): Promise<Buffer> {
  const at = [...new Set(cuts.map((c) => Math.floor(c * data.length)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let prev = 0;
  for (const c of [...at, data.length]) {
    if (c > prev) pieces.push(data.subarray(prev, c));
    prev = c;
  }
  const out: Buffer[] = [];
  async function* source(): AsyncGenerator<Buffer> {
    yield* pieces;
  }
  for await (const c of parallelGzip(source(), options)) out.push(c);
  return Buffer.concat(out);
}

/** Text-like bytes (compressible) with runs of noise. */
function sample(seed: number, size: number): Buffer {
  const out = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = (i >> 12) % 3 === 0 ? x & 0xff : 97 + ((x >>> 3) % 8);
  }
  return out;
}

describe('parallelGzip', () => {
  test.prop(
    [
      fc.integer(),
      fc.nat(300_000),
      fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 5 }),
      fc.integer({ min: 0, max: 9 }),
      fc.constantFrom(32_768, 50_000, 262_144),
    ],
    { numRuns: 40 },
  )(
    'round-trips through gunzip, and the bytes depend only on input, level and block size',
    async (seed, size, cuts, level, blockSize) => {
      const data = sample(seed, size);
      const a = await gzip(data, cuts, { level, blockSize });
      const b = await gzip(data, [], { level, blockSize, inFlight: 1 });
      expect(gunzipSync(a).equals(data)).toBe(true);
      expect(a.equals(b)).toBe(true);
      expect(a.subarray(0, 3)).toEqual(Buffer.from([0x1f, 0x8b, 0x08]));
    },
  );

  it('compresses about as well as one zlib stream (the previous block is the dictionary)', async () => {
    const data = sample(7, 2_000_000);
    for (const level of [1, 6, 9]) {
      const ours = (await gzip(data, [], { level })).length;
      expect(ours / gzipSync(data, { level }).length).toBeLessThan(1.01);
    }
  });

  it('writes a valid empty member for empty input', async () => {
    const empty = await gzip(Buffer.alloc(0), [], {});
    expect(gunzipSync(empty).length).toBe(0);
  });

  it.skipIf(!hasTool('gzip'))('is read back by GNU gzip, CRC and size checked', async () => {
    const data = sample(3, 1_500_000);
    const out = execFileSync('gzip', ['-dc'], { input: await gzip(data, [0.3], { level: 1 }), maxBuffer: 1 << 24 });
    expect(out.equals(data)).toBe(true);
    const level6 = await gzip(data, [], { level: 6 });
    expect(() => execFileSync('gzip', ['-t'], { input: level6 })).not.toThrow();
  });
  if (!hasTool('gzip')) it.skip(`GNU gzip interop: ${missingToolMessage('gzip')}`, () => undefined);
});
