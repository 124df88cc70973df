/**
 * The data behind `layerkit history` and `layerkit explain`: an image's layers with what each
 * added, modified and deleted, the space its layers waste, its history matched to the last
 * build's steps, the cache hits and misses of that build and its stage graph. Everything here is
 * plain JSON-safe data, so `--json` prints it as it is and the text and HTML renderers only
 * format it.
 *
 * Paths in a report are absolute (`/etc/passwd`), as users read them; layer indexes are
 * positions in the manifest, bottom = 0 (the same layer may appear twice).
 */
import type { MissReason } from '../builder/cache.js';
import type { BuildWarning } from '../builder/events.js';
import type { Digest } from '../digest/digest.js';
import type { EntryType } from '../tar/entry.js';

/** Whether a history entry's step came from the cache in the last build. */
export type CacheStatus = 'hit' | 'miss' | 'config' | 'base';

/** One entry of an image's history, with its layer and what the last build did for it. */
export interface HistoryRow {
  /** Position in `config.history` (oldest = 0); absent for a layer the history does not describe. */
  historyIndex?: number;
  /** ISO time the entry was created, as the config says. */
  created?: string;
  /** What made the entry (`RUN /bin/sh -c make # buildkit`); `''` when unknown. */
  createdBy: string;
  comment: string;
  /** True for entries that made no layer (ENV, CMD, ...). */
  emptyLayer: boolean;
  /** The layer's position (bottom = 0), for entries that made a layer. */
  layer?: number;
  diffId?: Digest;
  /** Bytes of file data in the layer (uncompressed; 0 for an empty-layer entry). */
  size: number;
  /**
   * From the last build of this image: `hit` (the step's layer came from the cache), `miss` (it
   * was built), `config` (a metadata step, which never looks the cache up), `base` (the entry came
   * with the base image). Absent when the store has no record of a build of this image.
   */
  cache?: CacheStatus;
  /** A hit's source when it was not this store: `from registry REF` (`--cache-from`). */
  cacheSource?: string;
  /** The build step the entry was matched to. */
  step?: BuildStepRef;
}

/** A step of the last build, as history rows and layers refer to it. */
export interface BuildStepRef {
  stage: string;
  /** BuildKit's N of `[stage N/M]`; absent for a step BuildKit shows no vertex for (ENV, CMD...). */
  step?: number;
  /** BuildKit's M. */
  total: number;
  /** The instruction's position in its stage (negative: an ONBUILD trigger of the base). */
  index: number;
  /** How progress and `build --explain` name it: `[builder 2/5]`, `[2/5]` (one stage), `[builder]` (no vertex). */
  prefix: string;
  instruction: string;
  line: number;
}

/** How a path stopped being visible. */
export type DeleteCause = 'whiteout' | 'opaque' | 'replaced';

/** One path a layer added, modified or deleted. */
export interface FileChange {
  /** Absolute path (`/app/main.js`). */
  path: string;
  type: EntryType;
  /** Bytes of file data (files only; 0 otherwise). For a deleted path: the size it had. */
  size: number;
  /** Symlink or hardlink target. */
  linkTarget?: string;
  /**
   * Modified entries: what differs from the entry below: `type`, `content`, `mode`, `owner`,
   * `link`. Empty means an identical copy (only the mtime can differ): pure waste for a file.
   */
  differs?: string[];
  /** Modified files: the size the entry below had. */
  sizeBefore?: number;
  /** Deleted entries: a whiteout of the path or a parent, an opaque parent, or a parent replaced by a non-directory. */
  cause?: DeleteCause;
  /** Deleted entries: the path whose whiteout, opaque marker or replacement removed this one. */
  by?: string;
  /** Modified and deleted entries: the layer the entry below came from (-1: a directory no layer described). */
  from?: number;
}

/** What happened to one stored copy of a file. */
export type CopyFate = 'final' | 'overwritten' | 'deleted' | 'hidden' | 'replaced';

/** One stored copy of a file: a regular-file entry of one layer. */
export interface FileCopy {
  layer: number;
  size: number;
  /**
   * `final`: some path of the final tree reads these bytes (the path itself, or a hardlink made
   * on it); otherwise why it is invisible: `overwritten` by an upper layer's entry at the same
   * path, `deleted` by a whiteout, `hidden` by an opaque directory, `replaced` because a parent
   * became a non-directory.
   */
  fate: CopyFate;
  /** The layer that overwrote, deleted, hid or replaced it. */
  by?: number;
}

/** A path with at least one stored copy no final path reads. */
export interface WastedPath {
  path: string;
  /** Every stored copy of the path, bottom first. */
  copies: FileCopy[];
  /** Σ sizes of all copies. */
  totalBytes: number;
  /** Σ sizes of the copies that are not `final`. */
  reclaimableBytes: number;
  /** True when the path exists in the final tree. */
  inFinal: boolean;
}

/** How much of what the layers store the final tree can see. */
export interface WasteAnalysis {
  /** Σ bytes of every regular-file entry of every layer position (the same layer twice counts twice). */
  storedBytes: number;
  /** Σ bytes of the stored copies some final path reads, each copy once (hardlinks share one). */
  finalBytes: number;
  /** `storedBytes − finalBytes`: the bytes of copies no final path reads. */
  reclaimableBytes: number;
  /** `finalBytes / storedBytes` (1 when nothing is stored). */
  efficiency: number;
  /** Paths with reclaimable bytes, most reclaimable first (then by path). */
  paths: WastedPath[];
}

/** One layer of the image. */
export interface LayerAnalysis {
  /** Position in the manifest, bottom = 0. */
  index: number;
  digest: Digest;
  diffId: Digest;
  mediaType: string;
  /** The blob's size as stored (compressed when the blob is). */
  compressedSize: number;
  /** Bytes of file data in the layer (uncompressed): what `docker history` calls its size. */
  size: number;
  /** Number of entries (whiteout markers not counted). */
  entries: number;
  /** The first position holding the same diffID, when this layer repeats an earlier one. */
  duplicateOf?: number;
  /** The history entry that describes this layer. */
  createdBy: string;
  created?: string;
  /** From the last build (see {@link HistoryRow.cache}). */
  cache?: CacheStatus;
  step?: BuildStepRef;
  /** Paths new to the tree (not present in the tree the lower layers make). */
  added: FileChange[];
  /** Paths present below and written again (directories only when an attribute changed). */
  modified: FileChange[];
  /** Paths present below that this layer removed: whiteouts, opaque directories, replaced parents. */
  deleted: FileChange[];
  /** Bytes of this layer's file copies that no final path reads. */
  wastedBytes: number;
}

/** Why a step missed: a cache miss reason, or `other` (a record with only the one-line reason). */
export type BuildStepReason = MissReason | { kind: 'other'; message: string };

/** One step of the last build, for the cache section. */
export interface BuildStepReport extends BuildStepRef {
  status: 'cached' | 'built' | 'skipped';
  /** True for config-only instructions (no layer, no cache lookup). */
  metadata: boolean;
  durationMs: number;
  /** Why a built filesystem step missed the cache, one entry per reason. */
  reasons: BuildStepReason[];
  /** A cached step whose hit came from a registry: `from registry REF` (`--cache-from`). */
  cacheSource?: string;
  /** The layer position in this image the step made or reused, when it is part of the image. */
  layer?: number;
}

/** One stage of the last build. */
export interface StageNode {
  stage: string;
  index: number;
  status: 'built' | 'skipped';
  /** True for the stage that became the image. */
  target: boolean;
  /** What the stage starts FROM: an earlier stage, an image, or unknown (the Dockerfile is gone or changed since the build). */
  base?: { stage: string } | { image: string };
  /** Stages (or images) its `COPY --from` steps read. */
  copyFrom: string[];
  counts: { cached: number; built: number; config: number; skipped: number };
}

/** An edge of the stage graph: `to` depends on `from`. */
export interface StageEdge {
  from: string;
  to: string;
  kind: 'from' | 'copy';
}

/** The last build of the image. */
export interface BuildAnalysis {
  dockerfile: string;
  context: string;
  target: string;
  finished: string;
  durationMs: number;
  /**
   * Where the stage bases come from: the build record (`record`: as the build resolved them),
   * the Dockerfile (`dockerfile`: records of older builds lack them), or the image (`inferred`).
   */
  graphSource: 'record' | 'dockerfile' | 'inferred';
  steps: BuildStepReport[];
  stages: StageNode[];
  edges: StageEdge[];
  summary: { cached: number; missed: number; config: number; skipped: number; stagesSkipped: number };
  /** Dockerfile lint warnings of the last build (strings in records written by layerkit 0.1). */
  warnings: Array<BuildWarning | string>;
}

/** Everything `layerkit explain` shows about an image. */
export interface ImageAnalysis {
  image: {
    names: string[];
    /** The manifest's digest. */
    digest: Digest;
    /** The config's digest (the image ID). */
    id: Digest;
    created?: string;
    platform: string;
  };
  /** Layers, bottom first. */
  layers: LayerAnalysis[];
  /** The image's history in image order (oldest first), each entry with its layer and build step. */
  history: HistoryRow[];
  waste: WasteAnalysis;
  /** The final tree: entries, regular files, and bytes of file data (each hardlinked file once). */
  final: { entries: number; files: number; bytes: number };
  /** Σ blob sizes as stored. */
  compressedSize: number;
  /** The last build of this image, when the store recorded one. */
  build?: BuildAnalysis;
}
