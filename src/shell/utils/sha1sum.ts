/** `sha1sum`: SHA1 checksums. */
import { checksumUtility } from './checksum.js';

/** `sha1sum`: like sha256sum with SHA-1. */
export const sha1sum = checksumUtility('sha1sum', 'sha1');
