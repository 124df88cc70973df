/**
 * The types both platform files (`node.ts`, `browser.ts`) export values of. Type-only: importing
 * this module loads nothing.
 */
import type { Transform } from 'node:stream';

/** The hashes the platform computes (sha1 and md5 only for the shell's `sha1sum` and `md5sum`). */
export type HashAlgorithm = 'sha256' | 'sha512' | 'sha1' | 'md5';

/** A synchronous, incremental hash: feed with `update`, then `digest('hex')` once. */
export interface PlatformHash {
  update(data: Uint8Array | string): PlatformHash;
  digest(encoding: 'hex'): string;
}

/** A streaming gunzip (a Transform of bytes) whose errors carry a `Z_*` code, as zlib's do. */
export type Gunzip = Transform;

/** The memfs module (in-memory stores). */
export type MemfsModule = typeof import('memfs');
/** The tar-stream module (archive exports). */
export type TarStreamModule = typeof import('tar-stream');
