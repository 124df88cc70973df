import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    pool: 'forks',
    // Test files share a worker's module cache: importing the library once per worker instead of
    // once per file cuts the suite from ~6 to ~2 minutes on 2 cores. Tests keep no global state.
    isolate: false,
    // vitest's default is one worker fewer than the cores: on a 2-core machine (like this one, where
    // the CI runs of the notes were made) one worker, so the suite ran file after file while most files wait on peer
    // processes (registry, buildah, podman, runc, the CLI). Two workers there: tests/registry took
    // 70.5 s instead of 93.2 s at load 8, with the same CPU time. Larger machines keep the default.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The default reporter counts skipped tests; the skip reporter lists them with their reasons
    // (each names the Debian package of the missing peer).
    reporters: ['default', './tests/helpers/skip-reporter.ts'],
  },
});
