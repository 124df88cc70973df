/**
 * `analyzeImage`: everything `layerkit explain` shows, as data. One pass applies the layers
 * bottom up (what each adds, modifies and deletes), one flatten gives the final tree, and the
 * two together give the wasted space; the history is matched to the last build's steps, whose
 * cache results and stage graph come with it.
 */
import { loadBuildRecord, type BuildRecord } from '../builder/build-record.js';
import { cacheHitText } from '../builder/remote-cache.js';
import type { Digest } from '../digest/digest.js';
import { throwIfAborted } from '../errors.js';
import { formatPlatform } from '../image/platform.js';
import { flattenLayers, resolveFileData } from '../layer/flatten.js';
import { indexImageLayers } from '../layer/layer-store.js';
import type { LayerReader } from '../layer/types.js';
import type { History } from '../oci/types.js';
import type { Store } from '../store/store.js';
import { historyRows, layerDataSize, resolveReportImage, stepRef, type ReportImage } from './history.js';
import { analyzeLayerChanges } from './layer-changes.js';
import { buildStageGraph, stagesOfBuild, type DockerfileStages } from './stage-graph.js';
import type { BuildAnalysis, BuildStepReport, ImageAnalysis, LayerAnalysis } from './types.js';
import { analyzeWaste } from './waste.js';

/** Options for {@link analyzeLayers}. */
export interface AnalyzeLayersOptions {
  /** What the report says about the image itself. */
  image: ImageAnalysis['image'];
  /** The layers, bottom first. */
  layers: readonly LayerReader[];
  /** Each layer's blob descriptor, bottom first. */
  descriptors: ReadonlyArray<{ digest: Digest; mediaType: string; size: number }>;
  /** `config.history`. */
  history: readonly History[];
  /** The last build of the image. */
  record?: BuildRecord | undefined;
  /** The build's stage graph, when known (see `stagesOfBuild`). */
  dockerfile?: DockerfileStages | undefined;
  signal?: AbortSignal | undefined;
}

/** The analysis of a stack of layers (the pure part of {@link analyzeImage}; tests give it in-memory layers). */
export function analyzeLayers(options: AnalyzeLayersOptions): ImageAnalysis {
  const { layers, descriptors, record, dockerfile, signal } = options;
  const changes = analyzeLayerChanges({ layers, signal });
  throwIfAborted(signal);
  const flat = flattenLayers(layers);
  const waste = analyzeWaste({ layers, changes, flat });
  const diffIds = layers.map((l) => l.diffId);
  const sizes = layers.map(layerDataSize);
  const { rows, match } = historyRows({
    history: options.history,
    diffIds,
    layerSizes: sizes,
    record,
    knownBases: dockerfile?.bases,
  });

  const wasted = layers.map(() => 0);
  for (const p of waste.paths) for (const c of p.copies) if (c.fate !== 'final') wasted[c.layer]! += c.size;
  const firstAt = new Map<Digest, number>();
  const result: LayerAnalysis[] = layers.map((layer, k) => {
    const d = descriptors[k]!;
    const row = rows.find((r) => r.layer === k);
    const la: LayerAnalysis = {
      index: k,
      digest: d.digest,
      diffId: layer.diffId,
      mediaType: d.mediaType,
      compressedSize: d.size,
      size: sizes[k]!,
      entries: [...layer.entries()].length,
      createdBy: row?.createdBy ?? '',
      added: changes.layers[k]!.added,
      modified: changes.layers[k]!.modified,
      deleted: changes.layers[k]!.deleted,
      wastedBytes: wasted[k]!,
    };
    const first = firstAt.get(layer.diffId);
    if (first !== undefined) la.duplicateOf = first;
    else firstAt.set(layer.diffId, k);
    if (row?.created !== undefined) la.created = row.created;
    if (row?.cache !== undefined) la.cache = row.cache;
    if (row?.step !== undefined) la.step = row.step;
    return la;
  });

  let files = 0;
  let entries = 0;
  for (const [path, fe] of flat) {
    if (path === '') continue;
    entries++;
    if ((fe.entry.type === 'file' || fe.entry.type === 'hardlink') && resolveFileData(layers, flat, path) !== undefined)
      files++;
  }
  const analysis: ImageAnalysis = {
    image: options.image,
    layers: result,
    history: rows,
    waste,
    final: { entries, files, bytes: waste.finalBytes },
    compressedSize: descriptors.reduce((n, d) => n + d.size, 0),
  };
  if (record) analysis.build = buildAnalysis(record, rows, dockerfile, match?.bases);
  return analysis;
}

function buildAnalysis(
  record: BuildRecord,
  rows: ImageAnalysis['history'],
  dockerfile: DockerfileStages | undefined,
  inferred: ReadonlyMap<string, string> | undefined,
): BuildAnalysis {
  const layerOf = new Map<string, number>();
  for (const r of rows)
    if (r.step && r.layer !== undefined) layerOf.set(`${r.step.stage}\u0000${r.step.index}`, r.layer);
  const steps = record.steps.map((s): BuildStepReport => {
    const report: BuildStepReport = {
      ...stepRef(s, record.stages.length === 1),
      status: s.status,
      metadata: s.metadata,
      durationMs: s.durationMs,
      reasons: (s.explanation ?? []).map((r) =>
        r.kind === 'files' ? { ...r, files: r.files.map((f) => ({ ...f })) } : { ...r },
      ),
    };
    if (report.reasons.length === 0 && s.status === 'built' && !s.metadata && s.reason)
      report.reasons.push({ kind: 'other', message: s.reason });
    const source = cacheHitText(s.cacheSource);
    if (source) report.cacheSource = source;
    const layer = layerOf.get(`${s.stage}\u0000${s.index}`);
    if (layer !== undefined) report.layer = layer;
    return report;
  });
  const graph = buildStageGraph({ record, dockerfile, inferredBases: inferred });
  return {
    dockerfile: record.dockerfile,
    context: record.context,
    target: record.target,
    finished: record.finished,
    durationMs: record.durationMs,
    graphSource: !dockerfile
      ? 'inferred'
      : record.stages.length > 0 && record.stages.every((s) => s.base !== undefined)
        ? 'record'
        : 'dockerfile',
    steps,
    stages: graph.stages,
    edges: graph.edges,
    summary: {
      cached: steps.filter((s) => s.status === 'cached').length,
      missed: steps.filter((s) => s.status === 'built' && !s.metadata).length,
      config: steps.filter((s) => s.status !== 'skipped' && s.metadata).length,
      skipped: steps.filter((s) => s.status === 'skipped').length,
      stagesSkipped: record.stages.filter((s) => s.status === 'skipped').length,
    },
    warnings: [...record.warnings],
  };
}

/** Options for {@link analyzeImage}. */
export interface AnalyzeImageOptions {
  store: Store;
  /** A ref name, digest or digest prefix, a descriptor, or a loaded image. */
  image: ReportImage;
  signal?: AbortSignal | undefined;
}

/**
 * Analyses an image in the store: layers (each with the files it added, modified and deleted),
 * wasted space (see `analyzeWaste` for the exact definition), history matched to the last build,
 * that build's cache hits and misses with their reasons, and its stage graph.
 * @example
 * const analysis = await analyzeImage({ store, image: 'app:1' });
 * console.log(`${(analysis.waste.efficiency * 100).toFixed(1)}% efficient`);
 */
export async function analyzeImage({ store, image, signal }: AnalyzeImageOptions): Promise<ImageAnalysis> {
  throwIfAborted(signal);
  const loaded = await resolveReportImage(store, image);
  const { indexes } = await indexImageLayers({ store, image: loaded, signal });
  const record = loadBuildRecord({ store, digest: loaded.descriptor.digest });
  const info: ImageAnalysis['image'] = {
    names: loaded.names,
    digest: loaded.descriptor.digest,
    id: loaded.manifest.config.digest,
    platform: formatPlatform({
      os: loaded.config.os,
      architecture: loaded.config.architecture,
      ...(loaded.config.variant ? { variant: loaded.config.variant } : {}),
    }),
  };
  if (loaded.config.created !== undefined) info.created = loaded.config.created;
  return analyzeLayers({
    image: info,
    layers: indexes,
    descriptors: loaded.layers,
    history: loaded.config.history ?? [],
    record,
    dockerfile: record ? stagesOfBuild(record) : undefined,
    signal,
  });
}
