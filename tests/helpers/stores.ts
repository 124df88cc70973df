/** Store factories for tests: the same suite runs against a disk store (on tmpfs) and a memory store. */
import { openStore, type Store } from '../../src/store/store.js';
import { makeTempDir } from './tmp.js';

/** A named way to make a fresh store. */
export interface StoreKind {
  name: string;
  make: () => Promise<{ store: Store; cleanup: () => void }>;
}

/** Disk (tmpfs) and memory stores. */
export const STORE_KINDS: StoreKind[] = [
  {
    name: 'disk',
    make: async () => {
      const dir = makeTempDir('layerkit-store-');
      return { store: await openStore({ root: `${dir.path}/store`, durable: false }), cleanup: dir.cleanup };
    },
  },
  {
    name: 'memory',
    make: async () => ({ store: await openStore({ memory: true }), cleanup: () => undefined }),
  },
];
