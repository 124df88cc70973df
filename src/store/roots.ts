/**
 * Store roots, the state this module owns (`layerkit/roots/<kind>/<name>.json`): named sets of
 * digests (and diffIDs) that gc keeps, recorded by owners whose state is not a blob graph of its
 * own (untagged imports, containers, build-cache records, cache mounts). Format version 1:
 * `{ version, digests, diffIds }` (files from before versions lack `version` and read the same).
 */
import type { Digest } from '../digest/digest.js';
import { LayerkitError } from '../errors.js';
import { canonicalJson } from '../oci/canonical-json.js';
import { checkFormatVersion, corruptFile, readJsonFile, type JsonFileMeaning } from './state.js';
import type { Store } from './store.js';

/** The folder of roots. */
export const ROOTS_FOLDER = 'roots';

/** One recorded root. */
export interface StoreRoot {
  kind: string;
  name: string;
  digests: Digest[];
  diffIds: Digest[];
}

/** The format version of a root file. */
const FORMAT = 1;

const MEANING: JsonFileMeaning = {
  what: 'gc root',
  fix: "gc cannot tell what it keeps: restore it, or remove it if what it kept may go, then run 'layerkit verify'",
};

function encodeName(name: string): string {
  return encodeURIComponent(name).replace(/\./g, '%2E');
}

/**
 * Records a root (replacing one of the same kind and name). `durable: false` skips the fsync for
 * a root whose loss costs only a cache miss (a build-cache record's); it is still written atomically.
 */
export function setRoot(
  store: Store,
  kind: string,
  name: string,
  root: { digests?: Digest[]; diffIds?: Digest[] },
  options: { durable?: boolean } = {},
): void {
  store.writeState(
    `${ROOTS_FOLDER}/${kind}/${encodeName(name)}.json`,
    canonicalJson({ version: FORMAT, digests: root.digests ?? [], diffIds: root.diffIds ?? [] }),
    options,
  );
}

/** Removes a root (no error when missing). */
export function removeRoot(store: Store, kind: string, name: string): void {
  store.removeState(`${ROOTS_FOLDER}/${kind}/${encodeName(name)}.json`);
}

/** Every root, and the files that are damaged (each an `ERR_STORE_CORRUPT`). */
export function readRoots(store: Store): { roots: StoreRoot[]; damaged: LayerkitError[] } {
  const roots: StoreRoot[] = [];
  const damaged: LayerkitError[] = [];
  for (const kind of store.listState(ROOTS_FOLDER)) {
    for (const file of store.listState(`${ROOTS_FOLDER}/${kind}`)) {
      if (!file.endsWith('.json')) continue;
      const path = store.statePath(ROOTS_FOLDER, kind, file);
      try {
        const value = readJsonFile(store.fs, path, MEANING) as
          | { version?: unknown; digests?: unknown; diffIds?: unknown }
          | undefined;
        if (value === undefined) continue;
        checkFormatVersion(path, MEANING.what, value?.version, FORMAT);
        if (typeof value !== 'object' || value === null || !isList(value.digests) || !isList(value.diffIds ?? []))
          throw corruptFile(path, MEANING, 'is not a root ({ digests, diffIds })');
        roots.push({
          kind,
          name: decodeURIComponent(file.replace(/\.json$/, '')),
          digests: value.digests as Digest[],
          diffIds: (value.diffIds ?? []) as Digest[],
        });
      } catch (err) {
        if (!(err instanceof LayerkitError)) throw err;
        damaged.push(err);
      }
    }
  }
  return { roots, damaged };
}

function isList(v: unknown): boolean {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

/** The names of the roots of one kind (without reading them). */
export function rootNames(store: Store, kind: string): string[] {
  return store
    .listState(`${ROOTS_FOLDER}/${kind}`)
    .filter((f) => f.endsWith('.json'))
    .map((f) => decodeURIComponent(f.slice(0, -'.json'.length)));
}
