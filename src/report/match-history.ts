/**
 * Lining an image's history up with its layers, and with the steps of the build that made it.
 *
 * Layers: like `docker history` and BuildKit's exporter, each history entry that is not
 * `empty_layer` takes the next layer, bottom first; layers left over get a row of their own.
 *
 * Steps: see {@link matchHistoryToBuild}.
 */
import type { BuildRecord } from '../builder/build-record.js';
import type { StepRecord } from '../builder/events.js';
import type { Digest } from '../digest/digest.js';
import type { History } from '../oci/types.js';

/** One history entry (or a layer the history does not describe), with its layer position. */
export interface AlignedEntry {
  entry: History | undefined;
  /** Position in `config.history`; undefined for a layer without an entry. */
  historyIndex: number | undefined;
  /** The layer this entry made; undefined for empty-layer entries. */
  layer: number | undefined;
}

/** Pairs history entries with layers (non-empty entries take layers in order). */
export function alignHistory(history: readonly History[], layerCount: number): AlignedEntry[] {
  const out: AlignedEntry[] = [];
  let next = 0;
  history.forEach((entry, i) => {
    const takesLayer = entry.empty_layer !== true && next < layerCount;
    out.push({ entry, historyIndex: i, layer: takesLayer ? next++ : undefined });
  });
  for (; next < layerCount; next++) out.push({ entry: undefined, historyIndex: undefined, layer: next });
  return out;
}

/** What {@link matchHistoryToBuild} found. */
export interface HistoryMatch {
  /** Per aligned entry: the step that made it, if any. */
  steps: Array<StepRecord | undefined>;
  /** Entries `[0, baseCount)` came with the base image (not made by any stage of the build). */
  baseCount: number;
  /** Stage → the earlier stage it was found to start FROM (the target's chain only). */
  bases: Map<string, string>;
}

/** Options for {@link matchHistoryToBuild}. */
export interface MatchHistoryOptions {
  entries: readonly AlignedEntry[];
  /** The image's diffIDs, bottom first. */
  diffIds: readonly Digest[];
  record: BuildRecord;
  /** Stage bases already known (from the Dockerfile): stage → earlier stage id, or `null` for an image. */
  knownBases?: ReadonlyMap<string, string | null> | undefined;
}

/** True for a step that leaves a history entry: a layer step with a layer, or a metadata step other than ONBUILD. */
export function makesHistory(step: StepRecord): boolean {
  if (step.status === 'skipped') return false;
  return step.metadata ? !/^onbuild\b/i.test(step.instruction) : step.diffId !== undefined;
}

const keyword = (text: string | undefined): string => (text ?? '').trimStart().split(/\s/, 1)[0]!.toUpperCase();

/**
 * Finds which step of the last build made each history entry, walking from the newest entry
 * down. The target stage's steps (those that leave an entry: layer steps, and metadata steps
 * other than ONBUILD; in the order they ran, ONBUILD triggers of the base first) are matched
 * from the last one backwards: a layer entry matches a layer step with the same diffID, an
 * empty-layer entry matches a metadata step with the same instruction keyword (`ENV`, `CMD`...).
 * The first mismatch ends the stage. The entries below belong to the stage's base: when the
 * Dockerfile says (`knownBases`) it is an earlier stage, that stage's steps are matched the same
 * way; when it is unknown, the latest earlier built stage whose whole sequence of steps matches
 * the entries just below is taken as the base (two stages that made the same layers are
 * indistinguishable, and equivalent for this purpose). When no stage matches, the rest came
 * with the base image.
 */
export function matchHistoryToBuild({ entries, diffIds, record, knownBases }: MatchHistoryOptions): HistoryMatch {
  const steps: Array<StepRecord | undefined> = entries.map(() => undefined);
  const bases = new Map<string, string>();
  const byStage = new Map<string, StepRecord[]>();
  for (const s of record.steps) {
    if (!makesHistory(s)) continue;
    let list = byStage.get(s.stage);
    if (list === undefined) byStage.set(s.stage, (list = []));
    list.push(s);
  }
  const matches = (step: StepRecord, at: AlignedEntry): boolean => {
    if (at.entry === undefined) return false;
    if (at.layer !== undefined) return !step.metadata && step.diffId !== undefined && step.diffId === diffIds[at.layer];
    if (at.entry.empty_layer !== true) return false;
    return step.metadata && keyword(step.instruction) === keyword(at.entry.created_by);
  };
  /** How many of `seq`'s steps match the entries ending at `top`, from the last step down. */
  const matchRun = (seq: readonly StepRecord[], top: number): number => {
    let n = 0;
    while (n < seq.length && top - n >= 0 && matches(seq[seq.length - 1 - n]!, entries[top - n]!)) n++;
    return n;
  };
  const stageIndex = new Map(record.stages.map((s) => [s.stage, s.index]));
  const used = new Set<string>();
  let top = entries.length - 1;
  let current: string | undefined = record.target;
  let first = true;
  while (current !== undefined) {
    used.add(current);
    const seq = byStage.get(current) ?? [];
    const n = matchRun(seq, top);
    if (!first && n < seq.length) break;
    for (let i = 0; i < n; i++) steps[top - i] = seq[seq.length - 1 - i];
    top -= n;
    first = false;
    if (n < seq.length) break;
    let next: string | undefined;
    if (knownBases?.has(current)) {
      next = knownBases.get(current) ?? undefined;
    } else {
      const below = stageIndex.get(current) ?? Number.MAX_SAFE_INTEGER;
      const candidates = record.stages
        .filter((s) => s.status === 'built' && s.index < below && !used.has(s.stage))
        .sort((a, b) => b.index - a.index);
      for (const c of candidates) {
        const cs = byStage.get(c.stage) ?? [];
        if (cs.length > 0 && matchRun(cs, top) === cs.length) {
          next = c.stage;
          break;
        }
      }
    }
    if (next !== undefined) bases.set(current, next);
    current = next !== undefined && !used.has(next) ? next : undefined;
  }
  return { steps, baseCount: top + 1, bases };
}
