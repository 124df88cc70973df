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

/**
 * Runs `fn` with a fresh temporary directory and removes the directory however `fn` ends. For the
 * places the vitest fixture (./fixtures.ts) cannot reach: each run of a fast-check property
 * (`test.prop` and `fc.assert` callbacks take no fixtures) and set-ups outside a test.
 */
export async function withTempDir<T>(fn: (dir: string) => T | Promise<T>, prefix?: string): Promise<T> {
  const dir = makeTempDir(prefix);
  try {
    return await fn(dir.path);
  } finally {
    dir.cleanup();
  }
}
