/**
 * A verify-at-EOF Node stream, apart from the checks it runs (verify.ts), so that the store and
 * whatever reads blobs through async iterables do not load Node's stream modules with it.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { Digester, digestAlgorithm, type Digest } from './digest.js';
import { checkExpected, sizeError, type Expected } from './verify.js';

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
