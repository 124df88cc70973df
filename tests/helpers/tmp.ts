/** Temporary directories for tests, on tmpfs where the machine has one (ext4 here is slow for small files). */
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BASE = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();

/** Makes a fresh temporary directory and returns its path and a cleanup function. */
export function makeTempDir(prefix = 'layerkit-test-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(BASE, prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}
