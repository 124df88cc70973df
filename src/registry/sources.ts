/**
 * Where blobs were seen, the state this module owns (`layerkit/registry-sources/<hex>.json`,
 * format version 1: `{ version, repositories }`): for each blob, the registry repositories it was
 * pulled from or pushed to, most recent first, so that a push to another repository of the same
 * registry can mount the blob instead of uploading it. Files from before versions
 * (`registry-sources/<hex>`, a bare JSON list) are still read, and replaced on the next write.
 *
 * A hint, not a record: a damaged file reads as no sources (the push uploads instead of mounting),
 * gc sweeps the files of blobs that are gone, and the files are written without an fsync.
 */
import { digestHex, isDigest, type Digest } from '../digest/digest.js';
import { ErrorCodes, LayerkitError } from '../errors.js';
import type { GcRoot } from '../store/gc.js';
import { defineState, readJsonFile } from '../store/state.js';
import type { Store } from '../store/store.js';

/** The private state folder this module owns. */
export const REGISTRY_SOURCES_STATE = 'registry-sources';
const KEEP = 16;

/** One file: the repositories (`registry/repository`) a blob is known to live in. */
interface BlobSourcesFile {
  repositories: string[];
}

const isRepositoryList = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** @internal Registry sources, owned here. */
export const REGISTRY_SOURCES = defineState<BlobSourcesFile>({
  folder: REGISTRY_SOURCES_STATE,
  version: 1,
  what: 'registry sources of a blob',
  fix: 'remove it (a push then uploads that blob instead of mounting it)',
  durable: false,
  check: (v) =>
    isRepositoryList((v as Partial<BlobSourcesFile>).repositories) ? undefined : 'is not a list of repositories',
});

/** The path of a file of the unversioned format (a JSON list, no extension). */
function legacyPath(store: Store, hex: string): string {
  return store.statePath(REGISTRY_SOURCES_STATE, hex);
}

/** Repositories (`registry/repository`) the blob is known to live in, most recent first. */
export function blobSources(store: Store, digest: Digest): string[] {
  const hex = digestHex(digest);
  try {
    const current = REGISTRY_SOURCES.read(store, hex);
    if (current !== undefined) return current.repositories;
    const legacy = readJsonFile(store.fs, legacyPath(store, hex), REGISTRY_SOURCES);
    return isRepositoryList(legacy) ? legacy : [];
  } catch (err) {
    // A damaged hint is no hint; a newer layerkit's file (ERR_UNSUPPORTED) is not ours to read.
    if (err instanceof LayerkitError && err.code === ErrorCodes.ERR_STORE_CORRUPT) return [];
    throw err;
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
    const repositories = [where, ...list.filter((x) => x !== where)].slice(0, KEEP);
    const hex = digestHex(digest);
    REGISTRY_SOURCES.write(store, hex, { repositories });
    store.fs.rmSync(legacyPath(store, hex), { force: true });
  }
}

/** @internal Registry sources in gc: the files of blobs that are gone are swept (they keep nothing alive). */
export const registrySourcesGcRoot: GcRoot = {
  name: 'registry sources',
  sweep(store, live, dryRun) {
    const removed: string[] = [];
    let files: string[];
    try {
      files = store.fs.readdirSync(store.statePath(REGISTRY_SOURCES_STATE)) as string[];
    } catch {
      return { removed, freedBytes: 0 };
    }
    let freedBytes = 0;
    for (const file of files) {
      const digest = `sha256:${file.replace(/\.json$/, '')}`;
      if (!isDigest(digest) || live.blobs.has(digest)) continue;
      const path = store.statePath(REGISTRY_SOURCES_STATE, file);
      removed.push(digest);
      freedBytes += store.fs.statSync(path).size as number;
      if (!dryRun) store.fs.rmSync(path, { force: true });
    }
    return { removed, freedBytes };
  },
};
