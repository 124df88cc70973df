/** `sha256sum`: SHA256 checksums. */
import { checksumUtility } from './checksum.js';

/** `sha256sum [-c] [--status] [FILE|-]...`: prints `HASH  FILE`, or with `-c` checks such lines. */
export const sha256sum = checksumUtility('sha256sum', 'sha256');
