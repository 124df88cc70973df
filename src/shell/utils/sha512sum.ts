/** `sha512sum`: SHA512 checksums. */
import { checksumUtility } from './checksum.js';

/** `sha512sum`: like sha256sum with SHA-512. */
export const sha512sum = checksumUtility('sha512sum', 'sha512');
