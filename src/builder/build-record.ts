/**
 * The record of the last build of each image: every step (cached, built or skipped, with its
 * miss explanation and its complete, unclipped output), the stages and the target. Kept in the
 * store so `layerkit history` and `layerkit explain` can show what happened later.
 */
import { digestHex, type Digest } from '../digest/digest.js';
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

const DIR = 'builds';

/** Saves the record of a build (replacing an earlier one for the same image). */
export function saveBuildRecord(store: Store, record: BuildRecord): void {
  store.writeState(`${DIR}/${digestHex(record.digest)}.json`, JSON.stringify(record));
}

/** The record of the last build that produced `digest`, if any. */
export function loadBuildRecord({ store, digest }: { store: Store; digest: Digest }): BuildRecord | undefined {
  const bytes = store.readState(`${DIR}/${digestHex(digest)}.json`);
  if (!bytes) return undefined;
  try {
    return JSON.parse(bytes.toString('utf8')) as BuildRecord;
  } catch {
    return undefined;
  }
}
