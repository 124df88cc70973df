import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { test as propTest, fc } from '@fast-check/vitest';
import { sha256, type Digest } from '../../src/digest/digest.js';
import { isLayerkitError } from '../../src/errors.js';
import type { Store } from '../../src/store/store.js';
import { STORE_KINDS } from '../helpers/stores.js';

describe.each(STORE_KINDS)('blobs ($name store)', (kind) => {
  let store: Store;
  let cleanup: () => void;
  beforeEach(async () => {
    ({ store, cleanup } = await kind.make());
  });
  afterEach(() => cleanup());

  const tmpFiles = () => store.listState('tmp');

  propTest.prop([fc.array(fc.uint8Array({ maxLength: 4096 }), { maxLength: 8 })], { numRuns: 40 })(
    'put then read returns the same bytes under their sha256, streamed or whole',
    async (parts) => {
      const whole = Buffer.concat(parts);
      async function* stream() {
        for (const p of parts) yield p;
      }
      const a = await store.blobs.put(stream());
      const b = await store.blobs.put(whole);
      expect({ digest: a.digest, size: a.size }).toEqual({ digest: sha256(whole), size: whole.length });
      expect(b).toEqual({ ...a, created: false });
      expect(await store.blobs.read(a.digest)).toEqual(whole);
      expect(tmpFiles()).toEqual([]);
    },
  );

  it.each([true, false])(
    'a 12 MiB stream asks offloadDigest once (answer %s) and is stored under its sha256',
    async (offload) => {
      const chunk = Buffer.alloc(1 << 20);
      const chunks = Array.from({ length: 12 }, (_, i) => Buffer.from(chunk.fill(i + 1)));
      let asked = 0;
      async function* stream() {
        yield* chunks;
      }
      const info = await store.blobs.put(stream(), { offloadDigest: () => (asked++, offload) });
      expect(asked).toBe(1);
      expect(info.digest).toBe(sha256(Buffer.concat(chunks)));
      expect(await store.blobs.check(info.digest)).toBeUndefined();
    },
  );

  it('deduplicates: a second put of the same bytes keeps one blob', async () => {
    expect((await store.blobs.put('same')).created).toBe(true);
    expect((await store.blobs.put('same')).created).toBe(false);
    expect(store.blobs.list()).toEqual([sha256('same')]);
  });

  it.each([
    ['digest', { digest: sha256('other') }, 'EINTEGRITY'],
    ['size (short)', { size: 100 }, 'EBADSIZE'],
    ['size (long)', { size: 2 }, 'EBADSIZE'],
  ])('a wrong expected %s fails with %s and stores nothing', async (_what, expected, code) => {
    const err = await store.blobs
      .put('content', { expected: expected as { digest?: Digest; size?: number } })
      .catch((e: unknown) => e);
    expect(isLayerkitError(err, code as 'EINTEGRITY')).toBe(true);
    expect(store.blobs.list()).toEqual([]);
    expect(tmpFiles()).toEqual([]);
  });

  it('a source that fails half-way leaves no blob and no temp file', async () => {
    async function* broken() {
      yield Buffer.from('first half');
      throw new Error('disk unplugged');
    }
    await expect(store.blobs.put(broken())).rejects.toThrow('disk unplugged');
    expect(store.blobs.list()).toEqual([]);
    expect(tmpFiles()).toEqual([]);
  });

  propTest.prop([fc.nat(), fc.integer({ min: 1, max: 255 })], { numRuns: 20 })(
    'flipping any byte of a blob is caught by read, open and check',
    async (pos, xor) => {
      const data = Buffer.from('a blob with some bytes in it '.repeat(3));
      const { digest } = await store.blobs.put(data);
      const path = store.blobs.path(digest);
      const bytes = Buffer.from(store.fs.readFileSync(path));
      bytes[pos % bytes.length]! ^= xor;
      store.fs.chmodSync(path, 0o644);
      store.fs.writeFileSync(path, bytes);
      const readErr = await store.blobs.read(digest).catch((e: unknown) => e);
      expect(isLayerkitError(readErr, 'EINTEGRITY')).toBe(true);
      expect(String((readErr as Error).message)).toContain(digest);
      const problem = await store.blobs.check(digest);
      expect(problem?.code).toBe('EINTEGRITY');
      store.blobs.delete(digest);
    },
  );

  it('reading a missing blob is ERR_NOT_FOUND naming the digest', async () => {
    const d = sha256('never stored');
    const err = await store.blobs.read(d).catch((e: unknown) => e);
    expect(isLayerkitError(err, 'ERR_NOT_FOUND')).toBe(true);
    expect((err as Error).message).toContain(d);
    const streamErr = await store.blobs.check(d);
    expect(streamErr?.code).toBe('ERR_NOT_FOUND');
  });

  it('check() with the wrong size fails with EBADSIZE', async () => {
    const { digest } = await store.blobs.put('12345');
    expect((await store.blobs.check(digest, { size: 4 }))?.code).toBe('EBADSIZE');
    expect(await store.blobs.check(digest, { size: 5 })).toBeUndefined();
  });

  /** Everything a stream gives, or the error it ends with. */
  async function drain(stream: NodeJS.ReadableStream): Promise<{ bytes: Buffer; error?: unknown }> {
    const parts: Buffer[] = [];
    try {
      for await (const chunk of stream) parts.push(chunk as Buffer);
      return { bytes: Buffer.concat(parts) };
    } catch (error) {
      return { bytes: Buffer.concat(parts), error };
    }
  }

  propTest.prop([fc.uint8Array({ maxLength: 70_000 }), fc.integer({ min: 1, max: 1 << 16 })], { numRuns: 20 })(
    'open() streams a blob in chunks of at most highWaterMark bytes, verified',
    async (data, highWaterMark) => {
      const { digest } = await store.blobs.put(data);
      const parts: Buffer[] = [];
      for await (const chunk of store.blobs.open(digest, { size: data.length, highWaterMark })) parts.push(chunk);
      expect(Buffer.concat(parts)).toEqual(Buffer.from(data));
      expect(parts.every((p) => Buffer.isBuffer(p) && p.length <= highWaterMark)).toBe(true);
    },
  );

  it('open() of a missing blob is ERR_NOT_FOUND when read; a wrong size is EBADSIZE', async () => {
    const missing = sha256('never stored');
    const gone = await drain(store.blobs.open(missing));
    expect(isLayerkitError(gone.error, 'ERR_NOT_FOUND')).toBe(true);
    const { digest } = await store.blobs.put('12345');
    expect(isLayerkitError((await drain(store.blobs.open(digest, { size: 4 }))).error, 'EBADSIZE')).toBe(true);
    expect(isLayerkitError((await drain(store.blobs.open(digest, { size: 6 }))).error, 'EBADSIZE')).toBe(true);
  });
});
