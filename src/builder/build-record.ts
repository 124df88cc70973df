/**
 * The record of the last build of each image: every step (cached, built or skipped, with its
 * miss explanation and its complete, unclipped output), the stages and the target. Kept in the
 * store so `layerkit history` and `layerkit explain` can show what happened later. This module
 * owns that state: `builds/<image digest hex>.json`, format version 2; gc drops the records of
 * images that are gone.
 *
 * Version 2 (layerkit 0.2) numbers steps as BuildKit does (`step` is N of `[stage N/M]`, `index`
 * the instruction's position). Version 1 records, whose `step` was the position, are converted
 * when they are read: see {@link upgradeBuildRecord}.
 */
import { digestHex, isDigest, type Digest } from '../digest/digest.js';
import type { GcRoot } from '../store/gc.js';
import { defineState } from '../store/state.js';
import type { Store } from '../store/store.js';
import type { BuildWarning, StepRecord } from './events.js';
import { countsInTotal, isRootWorkdir } from './step-numbers.js';
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
export const BUILD_RECORDS = defineState<BuildRecord & { version?: number }>({
  folder: 'builds',
  version: 2,
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
  const value = BUILD_RECORDS.read(store, digestHex(digest));
  if (value === undefined) return undefined;
  const { version, ...record } = value;
  return version === undefined || version < 2 ? upgradeBuildRecord(record) : record;
}

/** A version 1 step: `step` was the instruction's position (0 the FROM, negative an ONBUILD trigger). */
type V1Step = Omit<StepRecord, 'step' | 'total' | 'index'> & { step: number };

/**
 * A version 1 record with BuildKit's numbers (see step-numbers.ts): per stage in the order its
 * steps ran, FROM an image is 1, then each ADD, COPY, RUN and WORKDIR that made a layer (a built
 * or cached step that was not metadata; for a skipped stage, any but a literal `WORKDIR /`).
 * Records of layerkit 0.1 do not say what FROM named: the FROM is taken to be an image.
 */
export function upgradeBuildRecord(record: BuildRecord): BuildRecord {
  const old = record.steps as unknown as V1Step[];
  const byStage = new Map<string, V1Step[]>();
  for (const s of old) byStage.set(s.stage, [...(byStage.get(s.stage) ?? []), s]);
  const numbered = new Map<V1Step, number>();
  const totals = new Map<string, number>();
  const fromNumbered = new Map<string, boolean>();
  for (const [stage, steps] of byStage) {
    const base = record.stages.find((st) => st.stage === stage)?.base;
    const fromImage = base === undefined ? true : 'image' in base && base.image.toLowerCase() !== 'scratch';
    fromNumbered.set(stage, fromImage);
    let last = fromImage ? 1 : 0;
    let total = last;
    for (const s of steps) {
      const keyword = s.instruction.trimStart().split(/\s/, 1)[0]!.toLowerCase();
      if (!countsInTotal(keyword)) continue;
      total++;
      const vertex =
        s.status === 'skipped'
          ? !(keyword === 'workdir' && isRootWorkdir(s.instruction.trim().slice('workdir'.length).trim(), '/'))
          : !s.metadata;
      if (vertex) numbered.set(s, ++last);
    }
    totals.set(stage, total);
  }
  const steps = old.map((s): StepRecord => {
    const { step: index, ...rest } = s;
    const n = numbered.get(s);
    return { ...rest, ...(n !== undefined ? { step: n } : {}), total: totals.get(s.stage) ?? 0, index };
  });
  const stages = record.stages.map((st): BuildStage => {
    const total = totals.get(st.stage) ?? (fromNumbered.get(st.stage) ? 1 : 0);
    const image = st.base !== undefined && 'image' in st.base ? st.base.image : undefined;
    const from =
      st.status === 'built' && fromNumbered.get(st.stage) && image ? { step: 1, name: `FROM ${image}` } : undefined;
    return { ...st, total, ...(from ? { from } : {}) };
  });
  return { ...record, stages, steps };
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
