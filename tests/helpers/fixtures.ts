/**
 * The test fixture for temporary folders and stores (vitest `test.extend`): a test names what it
 * needs and gets it fresh, cleaned up however the test ends.
 *
 *   import { test } from '../helpers/fixtures.js';
 *   test('imports', async ({ tmp, store }) => { ... });
 *
 * `tmp` is a new folder (on tmpfs where there is one), removed after the test; `store` a new
 * memory store; `diskStore` a store in a folder under `tmp` (not durable: tests need no fsync).
 *
 * `fileTmp` is one folder for the whole test file, removed after its last test: the set-up that a
 * group of tests shares (an image built once, a registry's storage) asks for it in `test.beforeAll`,
 * the only hook that receives file-scoped fixtures:
 *
 *   test.beforeAll(async ({ fileTmp }) => { root = join(fileTmp, 'store'); ... });
 *
 * Folders that each run of a fast-check property needs come from `withTempDir` (./tmp.ts):
 * `test.prop` cannot take fixtures.
 */
import { join } from 'node:path';
import { test as base } from 'vitest';
import { openStore, type Store } from '../../src/store/store.js';
import { makeTempDir } from './tmp.js';

/** What a test can ask for. */
export interface Fixtures {
  /** A fresh temporary folder, removed after the test. */
  tmp: string;
  /** A fresh memory store. */
  store: Store;
  /** A fresh store on disk, in `tmp`/store. */
  diskStore: Store;
  /** One folder for the whole test file (file-scoped: for `test.beforeAll`), removed after it. */
  fileTmp: string;
}

/** vitest's `test`, with the {@link Fixtures}. */
export const test = base.extend<Fixtures>({
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads what a fixture needs from its destructuring
  tmp: async ({}, use) => {
    const dir = makeTempDir();
    try {
      await use(dir.path);
    } finally {
      dir.cleanup();
    }
  },
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads what a fixture needs from its destructuring
  store: async ({}, use) => {
    await use(await openStore({ memory: true }));
  },
  diskStore: async ({ tmp }, use) => {
    await use(await openStore({ root: join(tmp, 'store'), durable: false }));
  },
  fileTmp: [
    // biome-ignore lint/correctness/noEmptyPattern: vitest reads what a fixture needs from its destructuring
    async ({}, use) => {
      const dir = makeTempDir('layerkit-file-');
      try {
        await use(dir.path);
      } finally {
        dir.cleanup();
      }
    },
    { scope: 'file' },
  ],
});

/** The same, for files that say `it`. */
export const it = test;
