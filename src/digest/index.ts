/** Digests: parsing, hashing, SRI conversion and verify-at-EOF streams. */
export * from './digest.js';
export * from './verify.js';
export * from './verify-stream.js';
