/**
 * Crash-safe writes: every file is written under a temporary name in the store's tmp folder and
 * renamed into place, so a reader sees either the old file or the complete new one.
 */
import { isProcessAlive as platformIsProcessAlive, pid, randomHex } from '#platform';
import { dirname } from 'node:path/posix';
import type { StoreFs } from './backend.js';

/** A unique temporary file name that records the writing process (for stale-temp cleanup). */
export function tempName(tmpDir: string, purpose: string): string {
  return `${tmpDir}/${purpose}-${pid}-${randomHex(6)}`;
}

/** Parses the pid a {@link tempName} recorded, if any. */
export function tempNamePid(name: string): number | undefined {
  const m = /-(\d+)-[0-9a-f]{12}$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** True when `pid` names a live process on this machine. */
export const isProcessAlive: (pid: number) => boolean = platformIsProcessAlive;

/** Options for {@link writeFileAtomic}. */
export interface WriteAtomicOptions {
  fs: StoreFs;
  tmpDir: string;
  path: string;
  data: string | Uint8Array;
  /** fsync the file before the rename (default true). */
  durable?: boolean;
}

/** Writes `data` to `path` atomically (temp file, optional fsync, rename). */
export function writeFileAtomic({ fs, tmpDir, path, data, durable = true }: WriteAtomicOptions): void {
  const tmp = tempName(tmpDir, 'write');
  fs.mkdirSync(dirname(path), { recursive: true });
  const fd = fs.openSync(tmp, 'w', 0o644);
  try {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off);
    if (durable) fs.fsyncSync(fd);
  } catch (err) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fs.closeSync(fd);
  try {
    fs.renameSync(tmp, path);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}
