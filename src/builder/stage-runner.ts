/**
 * Runs one stage: its base (scratch, an image in the store, or an earlier stage), ONBUILD
 * triggers of the base, then each instruction. Filesystem steps (RUN, COPY, ADD, WORKDIR) go
 * through the cache; metadata steps only change the config and history.
 */
import type { Image } from '../image/image.js';
import { parsePlatform } from '../image/platform.js';
import { indexImageLayers } from '../layer/layer-store.js';
import {
  instructionText,
  parseDockerfile,
  toInstruction,
  expandInstruction,
  type Instruction,
  type Stage,
} from '../dockerfile/index.js';
import { ErrorCodes, errorLocation, isLayerkitError, locatedError, throwIfAborted } from '../errors.js';
import { locateStepError, stepError } from './step-error.js';
import type { ImageConfig } from '../oci/types.js';
import { inheritedCreated, type BuildRun } from './build-run.js';
import { contextBaseState } from './context-base.js';
import { loadBuildImage } from './base-image.js';
import type { FsStepContext } from './cached-step.js';
import type { StepRecord } from './events.js';
import { countsInTotal, isRootWorkdir, type StepCounter } from './step-numbers.js';
import { DEFAULT_PATH, envToMap, scratchStageConfig, type StageState } from './state.js';
import { applyMetadata, METADATA_KEYWORDS } from './steps/metadata.js';
import { runCopy } from './steps/copy-step.js';
import { runRun } from './steps/run.js';
import { runWorkdir } from './steps/workdir.js';

const LEGACY_KEYS = ['container', 'container_config', 'docker_version', 'id', 'parent'];

/** The state a stage starts from. */
export async function baseState(
  run: BuildRun,
  stage: Stage,
  id: string,
  fromImage: string,
  fromStage: number | undefined,
  platformText: string | undefined,
): Promise<StageState> {
  if (fromStage !== undefined) {
    const parent = run.journal.built.get(fromStage)!;
    return {
      id,
      index: stage.index,
      layers: [...parent.layers],
      config: structuredClone(parent.config),
      history: [...parent.history],
      env: new Map(parent.env),
      args: [...parent.args],
      key: parent.key,
      cmdSet: false,
    };
  }
  // A --build-context of that name: a folder is the stage's one layer; docker-image:// names the image.
  const named = run.services.namedContexts.get(fromImage.toLowerCase());
  if (named?.kind === 'dir')
    return contextBaseState({
      run,
      id,
      index: stage.index,
      name: fromImage,
      context: named.context,
      platform: platformText ?? run.options.platform,
    });
  if (named?.kind === 'image') fromImage = named.ref;
  // FROM picks the image for `--platform`, else for the target platform (not the host's).
  const platform = parsePlatform(platformText ?? run.options.platform);
  if (fromImage.toLowerCase() === 'scratch') {
    const config = scratchStageConfig(platform);
    return {
      id,
      index: stage.index,
      layers: [],
      config,
      history: [],
      env: envToMap(config.config.Env),
      args: [],
      key: 'scratch',
      cmdSet: false,
    };
  }
  let image: Image;
  try {
    image = await loadBuildImage(run, fromImage, { stage: id, index: 0 }, platform);
  } catch (err) {
    if (isLayerkitError(err, ErrorCodes.ERR_BUILD_BASE_NOT_FOUND)) {
      throw locatedError(
        ErrorCodes.ERR_BUILD_BASE_NOT_FOUND,
        `FROM ${fromImage}: ${err.message}`,
        { file: run.options.file, line: stage.from.range.start.line },
        err.data,
        { cause: err.cause },
      );
    }
    throw err;
  }
  const { indexes } = await indexImageLayers({ store: run.services.store, image, signal: run.services.signal });
  const config = JSON.parse(image.configBytes.toString('utf8')) as ImageConfig;
  for (const k of LEGACY_KEYS) delete config[k];
  config.config ??= {};
  if (!(config.config.Env ?? []).some((e) => e.startsWith('PATH=')))
    config.config.Env = [...(config.config.Env ?? []), DEFAULT_PATH];
  return {
    id,
    index: stage.index,
    layers: image.layers.map((descriptor, i) => ({ descriptor, diffId: image.diffIds[i]!, index: indexes[i]! })),
    config,
    history: [...(config.history ?? [])],
    env: envToMap(config.config.Env),
    args: [],
    key: `image:${image.descriptor.digest}`,
    cmdSet: false,
  };
}

/** Runs every instruction of a stage on `state`. */
export async function runInstructions(
  run: BuildRun,
  state: StageState,
  stage: Stage,
  counter: StepCounter,
): Promise<void> {
  // ONBUILD triggers of the base run first, then are cleared (grandchildren do not inherit them).
  // A trigger has no line of its own in this Dockerfile: its steps and errors name the FROM line.
  const triggers = state.config.config?.OnBuild ?? [];
  if (triggers.length > 0) {
    delete state.config.config!.OnBuild;
    counter.total += triggers.length;
    const fromLine = stage.from.range.start.line;
    for (const [t, text] of triggers.entries()) {
      try {
        const parsed = parseDockerfile(text, { file: run.options.file });
        for (const node of parsed.nodes)
          await runInstruction(
            run,
            state,
            toInstruction(node, { file: run.options.file }),
            counter,
            -(t + 1),
            fromLine,
          );
      } catch (err) {
        if (!isLayerkitError(err) || err.code === ErrorCodes.ERR_ABORTED) throw err;
        const reason = errorLocation(err)?.reason ?? err.message;
        throw locatedError(
          err.code,
          `ONBUILD trigger ${t + 1} of the base image (${text.split('\n')[0]}): ${reason}`,
          { file: run.options.file, line: fromLine },
          { ...err.data, trigger: text },
          { cause: err },
        );
      }
    }
  }
  for (const [i, instruction] of stage.instructions.entries()) {
    throwIfAborted(run.services.signal);
    await runInstruction(run, state, instruction, counter, i + 1);
  }
}

async function runInstruction(
  run: BuildRun,
  state: StageState,
  raw: Instruction,
  counter: StepCounter,
  index: number,
  atLine?: number,
): Promise<void> {
  const started = run.services.clock();
  const line = atLine ?? raw.range.start.line;
  const text = instructionText(raw.node);
  const expanded = expandInstruction(raw, {
    env: state.env,
    escapeToken: run.options.escapeToken,
    file: run.options.file,
  });
  const instruction = expanded.instruction;
  // BuildKit's N: the vertices it shows, in order (no vertex for metadata or a WORKDIR of `/`).
  const numbered =
    countsInTotal(instruction.keyword) &&
    !(instruction.keyword === 'workdir' && isRootWorkdir(instruction.path, state.config.config?.WorkingDir ?? '/'));
  const step = numbered ? ++counter.last : undefined;
  const where = { stage: state.id, ...(step !== undefined ? { step } : {}), total: counter.total, index };
  run.services.emit({ type: 'step-start', ...where, instruction: text, line });
  const record: StepRecord = {
    ...where,
    instruction: text,
    line,
    status: 'built',
    metadata: true,
    durationMs: 0,
  };
  try {
    if (METADATA_KEYWORDS.has(instruction.keyword)) {
      const result = applyMetadata({
        state,
        instruction,
        buildArgs: run.options.buildArgs,
        metaArgs: run.options.metaArgs,
      });
      if (result)
        state.history.push({
          created: inheritedCreated(run, state.history),
          created_by: result.createdBy,
          comment: 'buildkit.dockerfile.v0',
          empty_layer: true,
        });
    } else {
      record.metadata = false;
      const step_: FsStepContext = {
        run,
        state,
        record,
        position: { dockerfileId: run.options.dockerfileId, stage: state.id, step: index },
      };
      if (instruction.keyword === 'run') await runRun(step_, instruction, expanded.mounts ?? []);
      else if (instruction.keyword === 'workdir') await runWorkdir(step_, instruction);
      else if (instruction.keyword === 'copy' || instruction.keyword === 'add') await runCopy(step_, instruction);
      else
        throw stepError(
          ErrorCodes.ERR_DOCKERFILE_UNKNOWN_INSTRUCTION,
          `${instruction.keyword.toUpperCase()} is not allowed here`,
        );
    }
  } catch (err) {
    throw locateStepError(err, { file: run.options.file, line }, text);
  }
  record.durationMs = run.services.clock() - started;
  run.journal.steps.push(record);
  run.services.emit({ type: 'step', ...record });
}
