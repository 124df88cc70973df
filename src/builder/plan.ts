/**
 * The stage graph: which stage each FROM and `COPY --from` names, which stages the target
 * reaches (only those run), and the errors BuildKit gives for unknown targets, references to
 * later stages and cycles.
 */
import { runMountFrom, type Stage, type Stages } from '../dockerfile/index.js';
import { ErrorCodes, LayerkitError, locatedError } from '../errors.js';
import { fromCountsInTotal, stageTotal } from './step-numbers.js';

/** A stage's dependencies on other stages. */
export interface StagePlan {
  stage: Stage;
  /** `builder`, or `stage-N` when unnamed. */
  id: string;
  /** The FROM names an earlier stage (its index), or undefined for an image / scratch. */
  fromStage: number | undefined;
  /** Stages used by `COPY --from` and `RUN --mount from=` (indexes). */
  copyFrom: number[];
  reachable: boolean;
  /** BuildKit's M of `[stage N/M]`, before the base's ONBUILD triggers (see step-numbers.ts). */
  total: number;
}

/** Options for {@link planBuild}. */
export interface PlanBuildOptions {
  stages: Stages;
  /** The target stage name (case-insensitive); default the last stage. */
  target?: string | undefined;
  /** Each stage's FROM image after meta-ARG expansion. */
  fromImages: string[];
  file: string;
}

/** The id a stage is known by in progress output and cache positions. */
export function stageId(stage: Stage): string {
  return stage.name ?? `stage-${stage.index}`;
}

/** Resolves a `--from` / FROM name to an earlier stage index, or undefined for an image. */
export function stageReference(stages: readonly Stage[], name: string, before: number): number | undefined {
  const lower = name.toLowerCase();
  if (/^[0-9]+$/.test(name)) {
    const i = Number(name);
    return i < before ? i : undefined;
  }
  for (let i = before - 1; i >= 0; i--) if (stages[i]!.name === lower) return i;
  return undefined;
}

/** Builds the stage graph and marks what the target reaches. */
export function planBuild({ stages: { stages }, target, fromImages, file }: PlanBuildOptions): {
  plans: StagePlan[];
  target: number;
} {
  let targetIndex = stages.length - 1;
  if (target !== undefined) {
    const lower = target.toLowerCase();
    const found = stages.findIndex((s) => s.name === lower);
    if (found < 0)
      throw new LayerkitError(ErrorCodes.ERR_BUILD_STAGE, `target stage "${target}" could not be found in ${file}`, {
        target,
        file,
        stages: stages.flatMap((s) => (s.name ? [s.name] : [])),
      });
    targetIndex = found;
  }
  const plans: StagePlan[] = stages.map((stage, i) => {
    const copyFrom: number[] = [];
    for (const ins of stage.instructions) {
      const froms =
        ins.keyword === 'copy' && ins.from !== undefined
          ? [ins.from]
          : ins.keyword === 'run'
            ? ins.mounts.flatMap((m) => runMountFrom(m) ?? [])
            : [];
      for (const from of froms) {
        const ref = stageReference(stages, from, i);
        if (ref !== undefined) {
          copyFrom.push(ref);
          continue;
        }
        const later = stages.findIndex((s, j) => j >= i && (s.name === from.toLowerCase() || String(j) === from));
        if (later >= 0) {
          throw locatedError(
            ErrorCodes.ERR_BUILD_STAGE,
            `cannot ${ins.keyword === 'copy' ? 'copy' : 'mount'} from stage "${from}", it needs to be defined before current stage "${stageId(stage)}"`,
            { file, line: ins.range.start.line },
            { stage: from },
          );
        }
      }
    }
    const fromStage = stageReference(stages, fromImages[i]!, i);
    return {
      stage,
      id: stageId(stage),
      fromStage,
      copyFrom,
      reachable: false,
      total: stageTotal({ stage, fromCounts: fromCountsInTotal(fromImages[i]!, fromStage) }),
    };
  });
  // Mark everything the target reaches; a stage on the current path twice is a cycle.
  const visiting = new Set<number>();
  const visit = (i: number): void => {
    if (plans[i]!.reachable) return;
    if (visiting.has(i)) {
      throw locatedError(
        ErrorCodes.ERR_BUILD_STAGE,
        `circular dependency detected on stage: ${plans[i]!.id}`,
        { file, line: stages[i]!.range.start.line },
        { stage: plans[i]!.id },
      );
    }
    visiting.add(i);
    const p = plans[i]!;
    if (p.fromStage !== undefined) visit(p.fromStage);
    for (const d of p.copyFrom) visit(d);
    visiting.delete(i);
    p.reachable = true;
  };
  visit(targetIndex);
  return { plans, target: targetIndex };
}
