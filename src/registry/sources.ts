/**
 * Where blobs were seen: for each blob, the registry repositories it was pulled from or pushed
 * to, kept in the store's private state (`layerkit/registry-sources/<hex>`), so that a push to
 * another repository of the same registry can mount the blob instead of uploading it.
 */
import { digestHex, type Digest } from '../digest/digest.js';
import type { Store } from '../store/store.js';

/** The private state folder this module owns. */
export const REGISTRY_SOURCES_STATE = 'registry-sources';
const KEEP = 16;

/** Repositories (`registry/repository`) the blob is known to live in, most recent first. */
export function blobSources(store: Store, digest: Digest): string[] {
  const bytes = store.readState(`${REGISTRY_SOURCES_STATE}/${digestHex(digest)}`);
  if (!bytes) return [];
  try {
    const list = JSON.parse(bytes.toString('utf8')) as unknown;
    return Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

/** Records that the blobs live in `registry/repository`. */
export function rememberBlobSources(
  store: Store,
  digests: Iterable<Digest>,
  registry: string,
  repository: string,
): void {
  const where = `${registry}/${repository}`;
  for (const digest of new Set(digests)) {
    const list = blobSources(store, digest);
    if (list[0] === where) continue;
    const next = [where, ...list.filter((x) => x !== where)].slice(0, KEEP);
    store.writeState(`${REGISTRY_SOURCES_STATE}/${digestHex(digest)}`, JSON.stringify(next));
  }
}
