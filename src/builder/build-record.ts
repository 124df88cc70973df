/**
 * The record of the last build of each image: every step (cached, built or skipped, with its
 * miss explanation and its complete, unclipped output), the stages and the target. Kept in the
 * store so `layerkit history` and `layerkit explain` can show what happened later. This module
 * owns that state: `builds/<image digest hex>.json`, format version 1; gc drops the records of
 * images that are gone.
 */
import { digestHex, isDigest, type Digest } from '../digest/digest.js';
import type { GcRoot } from '../store/gc.js';
import { defineState } from '../store/state.js';
import type { Store } from '../store/store.js';
import type { BuildWarning, StepRecord } from './events.js';
import type { BuildStage } from './types.js';

/** What is kept about a build. */
export interface BuildRecord {
  /** The image's manifest digest. */
  digest: Digest;
  dockerfile: string;
  context: string;
  target: string;
  tags: string[];
  /** Each stage with its base and `COPY --from` sources (records written before those were kept lack them). */
  stages: BuildStage[];
  steps: StepRecord[];
  /** Dockerfile lint warnings; records written by layerkit 0.1 hold them as formatted lines. */
  warnings: Array<BuildWarning | string>;
  finished: string;
  durationMs: number;
}

/** @internal Build records, owned here. */
export const BUILD_RECORDS = defineState<BuildRecord>({
  folder: 'builds',
  version: 1,
  what: 'build record',
  fix: "remove it (only 'layerkit history' and 'explain' lose the build's details)",
  check: (v) => (Array.isArray((v as Partial<BuildRecord>).steps) ? undefined : 'is not a build record'),
});

/** Options for {@link saveBuildRecord}. */
export interface SaveBuildRecordOptions {
  store: Store;
  record: BuildRecord;
}

/** Saves the record of a build (replacing an earlier one for the same image). */
export function saveBuildRecord({ store, record }: SaveBuildRecordOptions): void {
  BUILD_RECORDS.write(store, digestHex(record.digest), record);
}

/** Options for {@link loadBuildRecord}. */
export interface LoadBuildRecordOptions {
  store: Store;
  /** The image's manifest digest. */
  digest: Digest;
}

/** The record of the last build that produced `digest`, if any (a damaged one is `ERR_STORE_CORRUPT`). */
export function loadBuildRecord({ store, digest }: LoadBuildRecordOptions): BuildRecord | undefined {
  return BUILD_RECORDS.read(store, digestHex(digest));
}

/** @internal Build records in gc: a damaged one is reported; those of images that are gone are swept. */
export const buildRecordGcRoot: GcRoot = {
  name: 'build records',
  mark: (store) => ({ damaged: BUILD_RECORDS.scan(store).damaged }),
  sweep(store, live, dryRun) {
    const removed: string[] = [];
    for (const name of BUILD_RECORDS.names(store)) {
      const digest = `sha256:${name}`;
      if (!isDigest(digest) || store.blobs.has(digest) || live.blobs.has(digest)) continue;
      removed.push(digest);
      if (!dryRun) BUILD_RECORDS.remove(store, name);
    }
    return { removed, freedBytes: 0 };
  },
};
