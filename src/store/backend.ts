/**
 * The filesystem a store lives on. A store on disk uses `node:fs`; an in-memory store uses a
 * memfs volume with the same API, so both run the same code paths.
 */
import nodeFs from 'node:fs';
import { loadMemfs } from '#platform';

/** The `node:fs` API a store uses (node:fs itself, or a memfs volume's fs). */
export type StoreFs = typeof nodeFs;

/** The real filesystem. */
export function diskFs(): StoreFs {
  return nodeFs;
}

/** A fresh, empty in-memory filesystem (memfs). */
export function memoryFs(): StoreFs {
  const memfs = loadMemfs();
  return memfs.createFsFromVolume(new memfs.Volume()) as unknown as StoreFs;
}
