/**
 * `build()`: a Dockerfile and a context folder in, an image in the store out, with one cached
 * layer per filesystem step and an explanation for every cache miss.
 *
 * parse → stages → plan (only what the target reaches) → each stage: base, ONBUILD triggers,
 * instructions → the target's config and layers written as an image and tagged.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { expandInstruction, instructionText, parseDockerfile, toStages } from '../dockerfile/index.js';
import { ErrorCodes, LayerkitError, throwIfAborted } from '../errors.js';
import { digestHex, sha256 } from '../digest/digest.js';
import { BUILD_CACHE_STATE } from '../store/gc.js';
import { formatPlatform, hostPlatform } from '../image/platform.js';
import { writeImage } from '../image/write-image.js';
import type { ImageConfig } from '../oci/types.js';
import { createVirtualShell } from '../shell/executor.js';
import { saveBuildRecord } from './build-record.js';
import { dockerfileId } from './cache.js';
import { FingerprintCache } from './content-digest.js';
import { openContext, type ContextHashes } from './context.js';
import type { BuildEvent, StepRecord } from './events.js';
import { planBuild, stageId, stageReference } from './plan.js';
import { baseState, createdTime, runInstructions, type BuildRun } from './stage-runner.js';
import type { StageState } from './state.js';
import type { BuildOptions, BuildResult, BuildStage } from './types.js';

/** The predefined platform ARGs (global scope), for the target platform. */
function platformArgs(
  platform: { os: string; architecture: string; variant?: string },
  targetStage: string,
): Map<string, string> {
  const p = formatPlatform(platform);
  const host = hostPlatform();
  return new Map([
    ['BUILDPLATFORM', formatPlatform(host)],
    ['BUILDOS', host.os],
    ['BUILDARCH', host.architecture],
    ['BUILDVARIANT', host.variant ?? ''],
    ['TARGETPLATFORM', p],
    ['TARGETOS', platform.os],
    ['TARGETARCH', platform.architecture],
    ['TARGETVARIANT', platform.variant ?? ''],
    ['TARGETSTAGE', targetStage],
  ]);
}

/**
 * Builds a Dockerfile into the store.
 * @example const { image, steps } = await build({ store, context: './app', tags: ['app:1'] });
 */
export async function build(options: BuildOptions): Promise<BuildResult> {
  const started = Date.now();
  const { store, signal } = options;
  throwIfAborted(signal);
  const dockerfileName = options.dockerfile ?? 'Dockerfile';
  const contextDir = options.context;
  const dockerfilePath = isAbsolute(dockerfileName) ? dockerfileName : join(contextDir, dockerfileName);
  const file = isAbsolute(dockerfileName) ? dockerfileName : dockerfileName;
  let text: string;
  if (options.dockerfileText !== undefined) text = options.dockerfileText;
  else {
    try {
      text = readFileSync(dockerfilePath, 'utf8');
    } catch (err) {
      throw new LayerkitError(
        ErrorCodes.ERR_BUILD_CONTEXT,
        `cannot read the Dockerfile ${dockerfilePath}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        { path: dockerfilePath },
        { cause: err },
      );
    }
  }
  const emit = (e: BuildEvent): void => options.onEvent?.(e);
  const parsed = parseDockerfile(text, { file });
  const warnings: string[] = [];
  for (const w of parsed.warnings) {
    const message = `${file}:${w.line}: ${w.message} (${w.rule}: ${w.detail})`;
    warnings.push(message);
    emit({ type: 'warning', message, line: w.line });
  }
  const stages = toStages(parsed);
  const platform = options.platform ?? hostPlatform();
  const buildArgs = new Map(Object.entries(options.buildArgs ?? {}));

  // Meta ARGs: predefined platform args, then the ARGs before the first FROM (build args win).
  const lastStage = stages.stages[stages.stages.length - 1]!;
  const targetName = options.target?.toLowerCase() ?? lastStage.name ?? 'default';
  const metaEnv = platformArgs(platform, targetName);
  for (const [k, v] of buildArgs) if (metaEnv.has(k)) metaEnv.set(k, v);
  const metaArgs = new Map<string, string | undefined>(metaEnv);
  for (const arg of stages.metaArgs) {
    const { instruction } = expandInstruction(arg, { env: metaEnv, escapeToken: parsed.directives.escape, file });
    for (const a of instruction.args) {
      const value = buildArgs.has(a.key) ? buildArgs.get(a.key) : a.value;
      // A bare `ARG X` keeps the value X already has (a predefined platform ARG, an earlier meta ARG), as BuildKit does.
      if (value !== undefined) {
        metaArgs.set(a.key, value);
        metaEnv.set(a.key, value);
      } else if (!metaArgs.has(a.key)) {
        metaArgs.set(a.key, undefined);
      }
    }
  }
  const fromImages = stages.stages.map((s) => {
    const image = expandInstruction(s.from, { env: metaEnv, escapeToken: parsed.directives.escape, file }).instruction
      .image;
    if (image.trim() === '') {
      throw new LayerkitError(
        ErrorCodes.ERR_DOCKERFILE_ARGUMENTS,
        `${file}:${s.from.range.start.line}: base name (${s.from.image}) should not be blank`,
        { file, line: s.from.range.start.line },
      );
    }
    return image;
  });
  const { plans, target } = planBuild({ stages, target: options.target, fromImages, file });
  emit({
    type: 'build',
    stages: plans.map((p) => ({ stage: p.id, index: p.stage.index, reachable: p.reachable })),
    target: plans[target]!.id,
    dockerfile: file,
  });

  const context = openContext({
    dir: contextDir,
    dockerfile: isAbsolute(dockerfileName) ? relative(contextDir, dockerfileName) : dockerfileName,
  });
  // File hashes of the last build of this context, reused while a file's stat is unchanged.
  const hashesState = `${BUILD_CACHE_STATE.contextHashes}/${digestHex(sha256(context.dir))}.json`;
  const earlierHashes = store.readState(hashesState)?.toString('utf8');
  if (earlierHashes !== undefined) {
    try {
      context.seedHashes(JSON.parse(earlierHashes) as ContextHashes);
    } catch {
      // a damaged file only costs the hashing
    }
  }
  const steps: StepRecord[] = [];
  const result = await store.withLease(async (lease) => {
    const run: BuildRun = {
      store,
      lease,
      file,
      dockerfileId: dockerfileId(context.dir, file),
      escapeToken: parsed.directives.escape,
      context,
      buildArgs,
      metaArgs,
      noCache: options.noCache === true,
      executor: options.executor ?? createVirtualShell(),
      secrets: options.secrets,
      allow: new Set(options.allow ?? []),
      sourceDateEpoch: options.sourceDateEpoch,
      platform: formatPlatform(platform),
      fingerprints: new FingerprintCache(),
      stages: stages.stages,
      built: new Map<number, StageState>(),
      signal,
      emit,
      steps,
      warnings,
    };
    const stageResults: BuildResult['stages'] = [];
    const graph = (plan: (typeof plans)[number]): Pick<BuildStage, 'base' | 'copyFrom'> => {
      const base =
        plan.fromStage !== undefined ? { stage: plans[plan.fromStage]!.id } : { image: fromImages[plan.stage.index]! };
      const copyFrom = plan.stage.instructions.flatMap((ins) => {
        if (ins.keyword !== 'copy' || ins.from === undefined) return [];
        const ref = stageReference(stages.stages, ins.from, plan.stage.index);
        return [ref === undefined ? ins.from : plans[ref]!.id];
      });
      return { base, copyFrom: [...new Set(copyFrom)] };
    };
    for (const plan of plans) {
      throwIfAborted(signal);
      if (!plan.reachable) {
        emit({ type: 'stage', stage: plan.id, status: 'skipped' });
        for (const [i, ins] of plan.stage.instructions.entries()) {
          const record: StepRecord = {
            stage: plan.id,
            step: i + 1,
            instruction: instructionText(ins.node),
            line: ins.range.start.line,
            status: 'skipped',
            metadata: false,
            durationMs: 0,
          };
          steps.push(record);
          emit({ type: 'step', ...record });
        }
        stageResults.push({ stage: plan.id, index: plan.stage.index, status: 'skipped', ...graph(plan) });
        continue;
      }
      emit({ type: 'stage', stage: plan.id, status: 'started', base: fromImages[plan.stage.index]! });
      const platformFlag =
        plan.stage.from.platform !== undefined
          ? expandInstruction(plan.stage.from, { env: metaEnv, escapeToken: parsed.directives.escape, file })
              .instruction.platform
          : undefined;
      const state = await baseState(
        run,
        plan.stage,
        stageId(plan.stage),
        fromImages[plan.stage.index]!,
        plan.fromStage,
        platformFlag,
      );
      await runInstructions(run, state, plan.stage);
      run.built.set(plan.stage.index, state);
      stageResults.push({ stage: plan.id, index: plan.stage.index, status: 'built', ...graph(plan) });
      emit({ type: 'stage', stage: plan.id, status: 'done' });
    }
    const final = run.built.get(target)!;
    const created = createdTime(run);
    const config: ImageConfig = {
      ...final.config,
      created,
      rootfs: { type: 'layers', diff_ids: final.layers.map((l) => l.diffId) },
      history: final.history,
    };
    const image = await writeImage({
      store,
      config,
      layers: final.layers.map((l) => l.descriptor),
      tags: options.tags ?? [],
      lease,
    });
    return { image, stages: stageResults, target: plans[target]!.id };
  });
  const knownHashes = JSON.stringify(context.knownHashes());
  if (knownHashes !== earlierHashes) store.writeState(hashesState, knownHashes);
  const durationMs = Date.now() - started;
  saveBuildRecord(store, {
    digest: result.image.descriptor.digest,
    dockerfile: file,
    context: context.dir,
    target: result.target,
    tags: options.tags ?? [],
    stages: result.stages,
    steps,
    warnings,
    finished: new Date().toISOString(),
    durationMs,
  });
  emit({ type: 'result', digest: result.image.descriptor.digest, tags: options.tags ?? [], durationMs });
  return { ...result, steps, warnings, durationMs };
}
