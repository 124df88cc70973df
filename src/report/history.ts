/**
 * `layerkit history`: an image's history entries with the size of the layer each made and, when
 * the store recorded the build that made the image, whether each step came from the cache.
 */
import { loadBuildRecord, type BuildRecord } from '../builder/build-record.js';
import type { StepRecord } from '../builder/events.js';
import { vertexLabel } from '../builder/step-numbers.js';
import { cacheHitText } from '../builder/remote-cache.js';
import { throwIfAborted } from '../errors.js';
import { resolveImage, type Image, type ImageLike } from '../image/image.js';
import { indexImageLayers } from '../layer/layer-store.js';
import type { LayerReader } from '../layer/types.js';
import type { History } from '../oci/types.js';
import type { Digest } from '../digest/digest.js';
import type { Store } from '../store/store.js';
import { stagesOfBuild } from './stage-graph.js';
import { alignHistory, matchHistoryToBuild, type HistoryMatch } from './match-history.js';
import type { BuildStepRef, CacheStatus, HistoryRow } from './types.js';

/** An image given to a report: a ref name, digest or digest prefix, a descriptor, or a loaded image. */
export type ReportImage = ImageLike;

/** Loads `image` unless it already is a loaded image. */
export async function resolveReportImage(store: Store, image: ReportImage): Promise<Image> {
  return resolveImage({ store, image });
}

/** Bytes of file data in a layer (uncompressed; hardlinks store none). */
export function layerDataSize(layer: LayerReader): number {
  let n = 0;
  for (const e of layer.entries()) if (e.type === 'file') n += e.size;
  return n;
}

/** The cache status of a step that made a history entry. */
export function cacheStatusOf(step: StepRecord): CacheStatus {
  return step.status === 'cached' ? 'hit' : step.metadata ? 'config' : 'miss';
}

/** The reference a report keeps to a step; `single` when the Dockerfile has one stage (no stage name in the prefix). */
export function stepRef(step: StepRecord, single: boolean): BuildStepRef {
  const prefix = vertexLabel({ ...step, step: step.step, instruction: '' }, single).trimEnd();
  return {
    stage: step.stage,
    ...(step.step !== undefined ? { step: step.step } : {}),
    total: step.total,
    index: step.index,
    prefix,
    instruction: step.instruction,
    line: step.line,
  };
}

/** Options for {@link historyRows}. */
export interface HistoryRowsOptions {
  /** `config.history`. */
  history: readonly History[];
  /** The image's diffIDs, bottom first. */
  diffIds: readonly Digest[];
  /** Bytes of file data per layer, bottom first. */
  layerSizes: readonly number[];
  /** The last build of the image, when there is one. */
  record?: BuildRecord | undefined;
  /** Stage bases known from the Dockerfile (see `matchHistoryToBuild`). */
  knownBases?: ReadonlyMap<string, string | null> | undefined;
}

/**
 * The history rows of an image, oldest first, each with its layer and size; with a build record,
 * each row made by a step of that build has the step and its cache status, and the rows below
 * the build's own steps are `base`. Matching is `matchHistoryToBuild`'s: by layer diffID for
 * layer entries and by instruction keyword for empty-layer entries, newest first.
 */
export function historyRows({ history, diffIds, layerSizes, record, knownBases }: HistoryRowsOptions): {
  rows: HistoryRow[];
  match: HistoryMatch | undefined;
} {
  const entries = alignHistory(history, diffIds.length);
  const match = record ? matchHistoryToBuild({ entries, diffIds, record, knownBases }) : undefined;
  const rows = entries.map((a, i): HistoryRow => {
    const row: HistoryRow = {
      createdBy: a.entry?.created_by ?? '',
      comment: a.entry === undefined ? 'no history entry for this layer' : (a.entry.comment ?? ''),
      emptyLayer: a.layer === undefined,
      size: a.layer === undefined ? 0 : (layerSizes[a.layer] ?? 0),
    };
    if (a.historyIndex !== undefined) row.historyIndex = a.historyIndex;
    if (a.entry?.created !== undefined) row.created = a.entry.created;
    if (a.layer !== undefined) {
      row.layer = a.layer;
      row.diffId = diffIds[a.layer]!;
    }
    if (match) {
      const step = match.steps[i];
      if (step) {
        row.step = stepRef(step, record !== undefined && record.stages.length === 1);
        row.cache = cacheStatusOf(step);
        const source = cacheHitText(step.cacheSource);
        if (source) row.cacheSource = source;
      } else if (i < match.baseCount) {
        row.cache = 'base';
      }
    }
    return row;
  });
  return { rows, match };
}

/** Options for {@link readImageHistory}. */
export interface ReadImageHistoryOptions {
  store: Store;
  image: ReportImage;
  signal?: AbortSignal | undefined;
}

/** What {@link readImageHistory} returns. */
export interface ImageHistory {
  image: Image;
  /** Oldest first (`formatHistoryTable` prints newest first, as `docker history` does). */
  rows: HistoryRow[];
  /** True when the store has a record of the build that made this image. */
  hasBuildRecord: boolean;
}

/**
 * Reads an image's history with layer sizes (from the layer indexes, built where missing) and
 * the last build's cache results.
 * @example const { rows } = await readImageHistory({ store, image: 'app:1' });
 */
export async function readImageHistory({ store, image, signal }: ReadImageHistoryOptions): Promise<ImageHistory> {
  throwIfAborted(signal);
  const loaded = await resolveReportImage(store, image);
  const { indexes } = await indexImageLayers({ store, image: loaded, signal });
  const record = loadBuildRecord({ store, digest: loaded.descriptor.digest });
  const knownBases = record ? stagesOfBuild(record)?.bases : undefined;
  const { rows } = historyRows({
    history: loaded.config.history ?? [],
    diffIds: loaded.diffIds,
    layerSizes: indexes.map(layerDataSize),
    record,
    knownBases,
  });
  return { image: loaded, rows, hasBuildRecord: record !== undefined };
}
