/**
 * Context file hashes, the state this module owns: `cache/context-hashes/<context hex>.json`
 * ({@link ContextHashes}, format version 1), the hashes the last build of a context folder
 * computed, reused while a file's stat is unchanged. Dropped with the build cache.
 */
import { digestHex, sha256 } from '../digest/digest.js';
import type { GcRoot } from '../store/gc.js';
import { defineState } from '../store/state.js';
import type { Store } from '../store/store.js';
import type { BuildContext, ContextHashes } from './context.js';

/** @internal Context file hashes, owned here. */
export const CONTEXT_HASHES = defineState<ContextHashes>({
  folder: 'cache/context-hashes',
  version: 1,
  what: 'context file hashes',
  // A hint for the next build's hashing: a crash may lose it, never corrupt it (writes are atomic).
  durable: false,
  fix: "remove it (the next build hashes the context afresh), or run 'layerkit gc --prune-cache'",
  check: (v) => (typeof (v as Partial<ContextHashes>).files === 'object' ? undefined : 'is not a context hash list'),
});

/** @internal Context hashes in gc: a damaged file is reported. */
export const contextHashesGcRoot: GcRoot = {
  name: 'context file hashes',
  mark: (store) => ({ damaged: CONTEXT_HASHES.scan(store).damaged }),
};

/**
 * The file hashes the last build of this context kept, seeded into the context, and a `save` that
 * keeps this build's when they differ.
 */
export function contextHashes(store: Store, context: BuildContext): { save(now: number): void } {
  const name = digestHex(sha256(context.dir));
  const earlier = CONTEXT_HASHES.read(store, name);
  if (earlier !== undefined) context.seedHashes(earlier);
  const before = earlier === undefined ? undefined : JSON.stringify(earlier);
  return {
    save(now) {
      const known = context.knownHashes({ now });
      if (JSON.stringify(known) !== before) CONTEXT_HASHES.write(store, name, known);
    },
  };
}

/** Drops every context's hashes (with the build cache). */
export function dropContextHashes(store: Store): void {
  store.removeState(CONTEXT_HASHES.folder);
}
