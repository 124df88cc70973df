/** `md5sum`: MD5 checksums. */
import { checksumUtility } from './checksum.js';

/** `md5sum`: like sha256sum with MD5. */
export const md5sum = checksumUtility('md5sum', 'md5');
