/**
 * Verify-at-EOF: bytes pass through unchanged while they are hashed and counted; at the end the
 * size and digest must match or the stream fails with `EBADSIZE` / `EINTEGRITY` naming the digest.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { ErrorCodes, LayerkitError } from '../errors.js';
import { Digester, digestAlgorithm, type Digest } from './digest.js';

/** What a blob is expected to be. Either field may be omitted. */
export interface Expected {
  digest?: Digest | undefined;
  size?: number | undefined;
}

/** The error for a digest mismatch. */
export function integrityError(expected: Digest, found: Digest, where?: string): LayerkitError {
  return new LayerkitError(
    ErrorCodes.EINTEGRITY,
    `integrity check failed for ${expected}${where ? ` (${where})` : ''}: content hashes to ${found}; the blob is corrupt`,
    { digest: expected, expected, found },
  );
}

/** The error for a size mismatch. */
export function sizeError(digest: Digest | undefined, expected: number, found: number, where?: string): LayerkitError {
  return new LayerkitError(
    ErrorCodes.EBADSIZE,
    `size check failed for ${digest ?? 'blob'}${where ? ` (${where})` : ''}: expected ${expected} bytes, found ${found}`,
    { digest, expected, found },
  );
}

/** Checks a finished digester against expectations; throws the matching error. */
export function checkExpected(digester: Digester, found: Digest, expected: Expected, where?: string): void {
  if (expected.size !== undefined && digester.size !== expected.size) {
    throw sizeError(expected.digest, expected.size, digester.size, where);
  }
  if (expected.digest !== undefined && found !== expected.digest) throw integrityError(expected.digest, found, where);
}

/**
 * A pass-through stream that fails at EOF (or as soon as the size is exceeded) when the bytes do
 * not match `expected`. `result` holds the computed digest and size once it has finished.
 */
export class VerifyStream extends Transform {
  readonly #digester: Digester;
  readonly #expected: Expected;
  readonly #where: string | undefined;
  result: { digest: Digest; size: number } | undefined;

  constructor(expected: Expected, where?: string) {
    super();
    const algorithm = expected.digest ? digestAlgorithm(expected.digest) : 'sha256';
    this.#digester = new Digester(algorithm === 'sha512' ? 'sha512' : 'sha256');
    this.#expected = expected;
    this.#where = where;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.#digester.update(chunk);
    const { size } = this.#expected;
    if (size !== undefined && this.#digester.size > size) {
      done(sizeError(this.#expected.digest, size, this.#digester.size, this.#where));
      return;
    }
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    const digest = this.#digester.digest();
    try {
      checkExpected(this.#digester, digest, this.#expected, this.#where);
    } catch (err) {
      done(err as Error);
      return;
    }
    this.result = { digest, size: this.#digester.size };
    done();
  }
}
