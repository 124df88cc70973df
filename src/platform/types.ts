/**
 * The types both platform files (`node.ts`, `browser.ts`) export values of. Type-only: importing
 * this module loads nothing.
 */
/** The hashes the platform computes (sha1 and md5 only for the shell's `sha1sum` and `md5sum`). */
export type HashAlgorithm = 'sha256' | 'sha512' | 'sha1' | 'md5';

/** A synchronous, incremental hash: feed with `update`, then `digest('hex')` once. */
export interface PlatformHash {
  update(data: Uint8Array | string): PlatformHash;
  digest(encoding: 'hex'): string;
}

/**
 * A streaming decoder over async iterables (gzip: every concatenated member; zstd: every frame).
 * Errors in the data carry a `Z_*` code, as zlib's do; errors of `source` pass through; `signal`
 * stops it at once (it then fails with the signal's reason).
 */
export type Decoder = (source: AsyncIterable<Uint8Array>, signal?: AbortSignal) => AsyncIterable<Buffer>;

/** The memfs module (in-memory stores). */
export type MemfsModule = typeof import('memfs');
