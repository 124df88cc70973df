/**
 * The repository's dist/, as `npm run build` makes it, for the tests that need the built package
 * (the lessons in examples/ import it by name; the package test packs it). A build costs tens of
 * CPU-seconds, so it is made once for all of them, and again only when what tsup reads has changed
 * (by content, not mtime) or dist/ was rebuilt by someone else since. flock(1) serialises the check
 * and the build across test workers, and drops the lock if a worker dies.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The repository's root folder. */
export const REPO_ROOT = resolve(import.meta.dirname, '../..');

/** Makes sure dist/ is built from the current sources and returns its path. */
export function builtDist(): string {
  const key = createHash('sha256').update(REPO_ROOT).digest('hex').slice(0, 16);
  const base = join(tmpdir(), `layerkit-test-dist-${key}`);
  execFileSync(
    'flock',
    [
      '-w',
      '600',
      `${base}.lock`,
      process.execPath,
      join(import.meta.dirname, 'build-dist.mjs'),
      REPO_ROOT,
      `${base}.stamp`,
    ],
    { stdio: 'pipe' },
  );
  return join(REPO_ROOT, 'dist');
}
