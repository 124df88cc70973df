/**
 * The filesystem a store lives on. A store on disk uses `node:fs`; an in-memory store uses a
 * memfs volume with the same API, so both run the same code paths.
 */
import * as nodeFs from 'node:fs';
import { createRequire } from 'node:module';

// memfs is loaded by the first in-memory store, not with the library: it costs ~60 ms of start-up
// that a command on a store on disk never needs.
let memfs: typeof import('memfs') | undefined;

/** The `node:fs` API a store uses (node:fs itself, or a memfs volume's fs). */
export type StoreFs = typeof nodeFs;

/** The real filesystem. */
export function diskFs(): StoreFs {
  return nodeFs;
}

/** A fresh, empty in-memory filesystem (memfs). */
export function memoryFs(): StoreFs {
  memfs ??= createRequire(import.meta.url)('memfs') as typeof import('memfs');
  return memfs.createFsFromVolume(new memfs.Volume()) as unknown as StoreFs;
}
