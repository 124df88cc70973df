/**
 * BuildKit's step numbers: the `N/M` of `[stage N/M]`. A stage's M counts its FROM when FROM
 * names an image (not `scratch`, not an earlier stage), its ADD, COPY, RUN and WORKDIR
 * instructions, and the ONBUILD triggers of its base. N counts the vertices BuildKit shows, in
 * order: the FROM of an image is 1; metadata instructions (ENV, LABEL, CMD…), a WORKDIR that
 * resolves to `/`, and a FROM of `scratch`, of an earlier stage or of a named context get no
 * vertex and no number, so N can stop short of M, as in BuildKit.
 */
import type { Stage } from '../dockerfile/index.js';

const NUMBERED = new Set(['add', 'copy', 'run', 'workdir']);

/** True for the keywords BuildKit counts in a stage's total (ADD, COPY, RUN, WORKDIR). */
export function countsInTotal(keyword: string): boolean {
  return NUMBERED.has(keyword.toLowerCase());
}

/** Options for {@link stageTotal}. */
export interface StageTotalOptions {
  stage: Stage;
  /** True when FROM names an image or a named context (not `scratch`, not an earlier stage). */
  fromCounts: boolean;
  /** How many ONBUILD triggers the base image brings (0 before it is loaded). */
  triggers?: number | undefined;
}

/** A stage's M, as BuildKit computes it before the build runs. */
export function stageTotal({ stage, fromCounts, triggers = 0 }: StageTotalOptions): number {
  let total = (fromCounts ? 1 : 0) + triggers;
  for (const ins of stage.instructions) if (countsInTotal(ins.keyword)) total++;
  return total;
}

/** True when a FROM of this name counts in the total: not `scratch`, not an earlier stage. */
export function fromCountsInTotal(fromImage: string, fromStage: number | undefined): boolean {
  return fromStage === undefined && fromImage.toLowerCase() !== 'scratch';
}

/** Options for {@link stepPrefix}. */
export interface StepPrefixOptions {
  /** The stage id; left out (as BuildKit does) when the Dockerfile has a single stage. */
  stage: string | undefined;
  step: number;
  total: number;
}

/**
 * BuildKit's prefix, `[builder 2/5]`: N padded with spaces to the width of M (`[ 2/12]`), no
 * stage name for a Dockerfile of one stage.
 */
export function stepPrefix({ stage, step, total }: StepPrefixOptions): string {
  const n = String(step).padStart(String(total).length);
  return `[${stage !== undefined && stage !== '' ? `${stage} ` : ''}${n}/${total}]`;
}

/** A stage's numbering while it runs: the last N given, and M. */
export interface StepCounter {
  last: number;
  total: number;
}

/**
 * The N each instruction of a stage that does not run would get, in order (undefined for an
 * instruction with no vertex). `fromNumbered` is true when FROM names an image. Without the
 * stage's environment, only a literal `WORKDIR /` is known to resolve to `/`.
 */
export function plannedSteps(stage: Stage, fromNumbered: boolean): Array<number | undefined> {
  let last = fromNumbered ? 1 : 0;
  return stage.instructions.map((ins) => {
    if (!countsInTotal(ins.keyword)) return undefined;
    if (ins.keyword === 'workdir' && isRootWorkdir(ins.path, '/')) return undefined;
    return ++last;
  });
}

/** True when a WORKDIR of `path` after `current` is `/` (no layer, no vertex, as BuildKit). */
export function isRootWorkdir(path: string, current: string): boolean {
  if (path === '') return true;
  const joined = path.startsWith('/') ? path : `${current || '/'}/${path}`;
  const parts: string[] = [];
  for (const p of joined.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') parts.pop();
    else parts.push(p);
  }
  return parts.length === 0;
}

/** What names a vertex: a step (with BuildKit's N/M), a named context used as a base, or a skipped stage. */
export interface VertexName {
  stage: string;
  /** BuildKit's N (a step or an image FROM); undefined for a named context or a skipped stage. */
  step?: number | undefined;
  /** The stage's M. */
  total?: number | undefined;
  /** The instruction's position: negative for an ONBUILD trigger of the base. */
  index?: number | undefined;
  /** A named context used as the base (`[context NAME] ...`). */
  context?: string | undefined;
  instruction: string;
}

/**
 * A vertex's name as BuildKit prints it: `[builder 2/5] COPY . /app`, `[2/5] ...` in a
 * Dockerfile of one stage (`single`), `[app 2/5] ONBUILD RUN ...` for a trigger of the base,
 * `[context NAME] load from client`, or `[stage] note` for a skipped stage.
 */
export function vertexLabel(v: VertexName, single: boolean): string {
  if (v.context !== undefined) return `[context ${v.context}] ${v.instruction}`;
  if (v.step === undefined || v.total === undefined) return `[${v.stage}] ${v.instruction}`;
  const prefix = stepPrefix({ stage: single ? undefined : v.stage, step: v.step, total: v.total });
  return `${prefix} ${v.index !== undefined && v.index < 0 ? 'ONBUILD ' : ''}${v.instruction}`;
}
