import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { test as propTest, fc } from '@fast-check/vitest';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import {
  chainId,
  digestToSri,
  isDigest,
  parseDigest,
  sha256,
  sriToDigest,
  VerifyStream,
  type Digest,
} from '../../src/digest/index.js';
import { isLayerkitError } from '../../src/errors.js';

const EMPTY_JSON = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';

describe('digest', () => {
  it.each([
    ['{}', EMPTY_JSON],
    [Buffer.alloc(1024), 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef'],
  ])('hashes the spec test vectors', (input, expected) => {
    expect(sha256(input)).toBe(expected);
  });

  it.each([
    [`sha256:${'A'.repeat(64)}`, false],
    [`sha256:${'a'.repeat(63)}`, false],
    [`sha256-${'a'.repeat(64)}`, false],
    [`md5:${'a'.repeat(32)}`, false],
    [`sha256:${'a'.repeat(64)}`, true],
    [`sha512:${'b'.repeat(128)}`, true],
  ])('validates %s -> %s', (value, ok) => {
    expect(isDigest(value)).toBe(ok);
    if (!ok) expect(() => parseDigest(value)).toThrow(/invalid digest/);
  });

  it('converts to and from SRI (spec vectors)', () => {
    expect(digestToSri(EMPTY_JSON as Digest)).toBe('sha256-RBNvo1WzZ4oRRq0W9+hknpT7T8If536DEMBg9hyq/4o=');
    expect(sriToDigest('sha256-RBNvo1WzZ4oRRq0W9+hknpT7T8If536DEMBg9hyq/4o=')).toBe(EMPTY_JSON);
  });

  propTest.prop([fc.uint8Array({ maxLength: 256 })])('SRI strings agree with node:crypto base64 digests', (bytes) => {
    const b64 = (algorithm: string) => createHash(algorithm).update(bytes).digest('base64');
    const hex = (algorithm: string) => createHash(algorithm).update(bytes).digest('hex');
    expect(digestToSri(sha256(bytes))).toBe(`sha256-${b64('sha256')}`);
    // Several hashes: sha256 wins wherever it is; options after '?' are ignored; unknown algorithms skipped.
    expect(sriToDigest(`sha512-${b64('sha512')} md5-AAAA sha256-${b64('sha256')}?opt`)).toBe(`sha256:${hex('sha256')}`);
    expect(sriToDigest(`  sha512-${b64('sha512')}\n`)).toBe(`sha512:${hex('sha512')}`);
  });

  it.each(['', 'sha256', 'md5-1B2M2Y8AsgTpgAmY7PhCfg==', 'sha256-AAAA', 'sha256-!!!', `sha1-${'A'.repeat(28)}`])(
    'refuses the SRI %j with ERR_INVALID_DIGEST',
    (sri) => {
      expect(() => sriToDigest(sri)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_DIGEST' }));
    },
  );

  propTest.prop([fc.uint8Array({ maxLength: 256 })])('SRI round trip keeps any digest', (bytes) => {
    const d = sha256(bytes);
    expect(sriToDigest(digestToSri(d))).toBe(d);
  });

  it('computes chain IDs', () => {
    const a = sha256('a');
    const b = sha256('b');
    expect(chainId([a])).toBe(a);
    expect(chainId([a, b])).toBe(sha256(`${a} ${b}`));
    expect(chainId([])).toBeUndefined();
  });
});

async function drain(data: Buffer, stream: VerifyStream): Promise<void> {
  await pipeline(
    Readable.from([data.subarray(0, 3), data.subarray(3)]),
    stream,
    new Writable({ write: (_c, _e, cb) => cb() }),
  );
}

describe('VerifyStream', () => {
  const data = Buffer.from('hello, layers');
  it('passes matching bytes and reports the digest', async () => {
    const v = new VerifyStream({ digest: sha256(data), size: data.length });
    await drain(data, v);
    expect(v.result).toEqual({ digest: sha256(data), size: data.length });
  });
  it('fails with EINTEGRITY naming the digest', async () => {
    const wrong = sha256('other');
    const err = await drain(data, new VerifyStream({ digest: wrong })).catch((e: unknown) => e);
    expect(isLayerkitError(err, 'EINTEGRITY')).toBe(true);
    expect(String((err as Error).message)).toContain(wrong);
  });
  it.each([data.length - 1, data.length + 1])('fails with EBADSIZE when the size is %i', async (size) => {
    const err = await drain(data, new VerifyStream({ digest: sha256(data), size })).catch((e: unknown) => e);
    expect(isLayerkitError(err, 'EBADSIZE')).toBe(true);
  });
});
