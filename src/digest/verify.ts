/**
 * Verify-at-EOF: bytes pass through unchanged while they are hashed and counted; at the end the
 * size and digest must match or the stream fails with `EBADSIZE` / `EINTEGRITY` naming the digest.
 */
import { ErrorCodes, LayerkitError } from '../errors.js';
import type { Digest, Digester } from './digest.js';

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
