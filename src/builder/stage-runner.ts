/**
 * Runs one stage: its base (scratch, an image in the store, or an earlier stage), ONBUILD
 * triggers of the base, then each instruction. Filesystem steps (RUN, COPY, ADD, WORKDIR) go
 * through the cache; metadata steps only change the config and history.
 */
import type { Descriptor } from '../oci/types.js';
import type { Image } from '../image/image.js';
import { loadImage } from '../image/image.js';
import { parsePlatform } from '../image/platform.js';
import { addLayer } from '../image/add-layer.js';
import { openLayerIndex, indexImageLayers } from '../layer/layer-store.js';
import { mountImage, type ImageFS } from '../container/mount.js';
import { scratchConfig } from '../container/commit.js';
import {
  instructionText,
  parseDockerfile,
  toInstruction,
  expandInstruction,
  type Instruction,
  type Stage,
} from '../dockerfile/index.js';
import { ErrorCodes, LayerkitError, isLayerkitError, throwIfAborted } from '../errors.js';
import type { ImageConfig } from '../oci/types.js';
import type { Lease, Store } from '../store/store.js';
import {
  cacheKey,
  explainMiss,
  lastComponents,
  lookupRecord,
  recordBlobMissing,
  saveRecord,
  savePosition,
  recordLastUsed,
  touchRecord,
  type KeyComponents,
  type MissReason,
} from './cache.js';
import type { FingerprintCache } from './content-digest.js';
import type { BuildContext } from './context.js';
import type { BuildEvent, StepRecord } from './events.js';
import type { Executor } from './executor.js';
import { DEFAULT_PATH, envToMap, type StageState } from './state.js';
import { applyMetadata, METADATA_KEYWORDS } from './steps/metadata.js';
import { runCopy } from './steps/copy-step.js';
import { runRun } from './steps/run.js';
import type { BuildSecret } from './steps/run-mounts.js';
import { runWorkdir } from './steps/workdir.js';

/** Everything a stage needs from the build. */
export interface BuildRun {
  store: Store;
  lease: Lease;
  file: string;
  dockerfileId: string;
  escapeToken: '\\' | '`';
  context: BuildContext;
  buildArgs: ReadonlyMap<string, string>;
  metaArgs: ReadonlyMap<string, string | undefined>;
  noCache: boolean;
  executor: Executor;
  /** Entitlements the build was given (`network.host`, `security.insecure`). */
  allow: ReadonlySet<string>;
  /** Secrets for `RUN --mount=type=secret`. */
  secrets: Readonly<Record<string, BuildSecret>> | undefined;
  sourceDateEpoch: number | undefined;
  platform: string;
  fingerprints: FingerprintCache;
  stages: readonly Stage[];
  /** Finished stages by index. */
  built: Map<number, StageState>;
  signal: AbortSignal | undefined;
  emit: (e: BuildEvent) => void;
  steps: StepRecord[];
  warnings: string[];
}

/** The `created` time for history entries and configs. */
export function createdTime(run: BuildRun): string {
  const ms = run.sourceDateEpoch !== undefined ? run.sourceDateEpoch * 1000 : Date.now();
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

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
    const parent = run.built.get(fromStage)!;
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
  // FROM picks the image for `--platform`, else for the target platform (not the host's).
  const platform = parsePlatform(platformText ?? run.platform);
  if (fromImage.toLowerCase() === 'scratch') {
    const config = scratchConfig();
    config.architecture = platform.architecture;
    config.os = platform.os;
    if (platform.variant !== undefined) config.variant = platform.variant;
    else delete config.variant;
    config.config = { Env: [DEFAULT_PATH], WorkingDir: '/' };
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
    image = await loadImage({ store: run.store, image: fromImage, platform });
  } catch (err) {
    if (isLayerkitError(err, ErrorCodes.ERR_NOT_FOUND)) {
      throw new LayerkitError(
        ErrorCodes.ERR_BUILD_BASE_NOT_FOUND,
        `${run.file}:${stage.from.range.start.line}: FROM ${fromImage}: no such image in the store; layerkit does not pull from registries, so import it first ('layerkit import IMAGE.tar --tag ${fromImage}')`,
        { file: run.file, line: stage.from.range.start.line, image: fromImage },
        { cause: err },
      );
    }
    throw err;
  }
  const { indexes } = await indexImageLayers({ store: run.store, image, signal: run.signal });
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
export async function runInstructions(run: BuildRun, state: StageState, stage: Stage): Promise<void> {
  // ONBUILD triggers of the base run first, then are cleared (grandchildren do not inherit them).
  // A trigger has no line of its own in this Dockerfile: its steps and errors name the FROM line.
  const triggers = state.config.config?.OnBuild ?? [];
  if (triggers.length > 0) {
    delete state.config.config!.OnBuild;
    const fromLine = stage.from.range.start.line;
    for (const [t, text] of triggers.entries()) {
      try {
        const parsed = parseDockerfile(text, { file: run.file });
        for (const node of parsed.nodes)
          await runInstruction(run, state, toInstruction(node, { file: run.file }), -(t + 1), fromLine);
      } catch (err) {
        if (!isLayerkitError(err) || err.code === ErrorCodes.ERR_ABORTED) throw err;
        const reason = err.message.replace(/^[^\n]*?:\d+(:\d+)?: /, '');
        throw new LayerkitError(
          err.code,
          `${run.file}:${fromLine}: ONBUILD trigger ${t + 1} of the base image (${text.split('\n')[0]}): ${reason}`,
          { ...err.data, file: run.file, line: fromLine, trigger: text },
          { cause: err },
        );
      }
    }
  }
  for (const [i, instruction] of stage.instructions.entries()) {
    throwIfAborted(run.signal);
    await runInstruction(run, state, instruction, i + 1);
  }
}

async function runInstruction(
  run: BuildRun,
  state: StageState,
  raw: Instruction,
  step: number,
  atLine?: number,
): Promise<void> {
  const started = Date.now();
  const line = atLine ?? raw.range.start.line;
  const text = instructionText(raw.node);
  const where = `${run.file}:${line}`;
  run.emit({ type: 'step-start', stage: state.id, step, instruction: text, line });
  const expanded = expandInstruction(raw, { env: state.env, escapeToken: run.escapeToken, file: run.file });
  const instruction = expanded.instruction;
  const record: StepRecord = {
    stage: state.id,
    step,
    instruction: text,
    line,
    status: 'built',
    metadata: true,
    durationMs: 0,
  };
  try {
    if (METADATA_KEYWORDS.has(instruction.keyword)) {
      const result = applyMetadata({ state, instruction, buildArgs: run.buildArgs, metaArgs: run.metaArgs, where });
      if (result)
        state.history.push({
          created: createdTime(run),
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
        position: { dockerfileId: run.dockerfileId, stage: state.id, step },
        where,
      };
      if (instruction.keyword === 'run') await runRun(step_, instruction, expanded.mounts ?? []);
      else if (instruction.keyword === 'workdir') await runWorkdir(step_, instruction);
      else if (instruction.keyword === 'copy' || instruction.keyword === 'add') await runCopy(step_, instruction);
      else
        throw new LayerkitError(
          ErrorCodes.ERR_DOCKERFILE_UNKNOWN_INSTRUCTION,
          `${where}: ${instruction.keyword.toUpperCase()} is not allowed here`,
          { file: run.file, line },
        );
    }
  } catch (err) {
    if (
      isLayerkitError(err) &&
      (err.code === ErrorCodes.ERR_BUILD_EXIT_CODE || String(err.message).startsWith(where))
    ) {
      // Already names the place in its message; make sure its data does too.
      if (err.data['line'] !== undefined) throw err;
      throw new LayerkitError(
        err.code,
        err.message,
        { ...err.data, file: run.file, line },
        { cause: err.cause ?? err },
      );
    }
    if (isLayerkitError(err))
      throw new LayerkitError(
        err.code,
        `${where}: ${text.split('\n')[0]}: ${err.message}`,
        { ...err.data, file: run.file, line },
        { cause: err },
      );
    throw new LayerkitError(
      ErrorCodes.ERR_BUILD_STEP,
      `${where}: ${text.split('\n')[0]}: ${(err as Error).message}`,
      { file: run.file, line },
      { cause: err },
    );
  }
  record.durationMs = Date.now() - started;
  run.steps.push(record);
  run.emit({ type: 'step', ...record });
}

/** What a filesystem step gets. */
export interface FsStepContext {
  run: BuildRun;
  state: StageState;
  record: StepRecord;
  position: { dockerfileId: string; stage: string; step: number };
  where: string;
}

/** Options for {@link cachedLayerStep}. */
export interface CachedStepOptions {
  components: KeyComponents;
  /** The history line. */
  createdBy: string;
  /** Runs the step on a writable view of the stage (or of an empty base, for `--link`). */
  execute: (fs: ImageFS) => Promise<void>;
  /** Build the layer on an empty base instead of the stage's layers (`COPY --link`). */
  link?: boolean;
}

/**
 * The cache protocol every filesystem step shares: compute the key, reuse a record whose blob is
 * present, otherwise run the step on a union view, write its diff as a layer and record it, with
 * the explanation of the miss.
 */
export async function cachedLayerStep(ctx: FsStepContext, o: CachedStepOptions): Promise<void> {
  const { run, state, record } = ctx;
  // The epoch clamps every mtime of the layer, so a layer made under another epoch (or none) is another result.
  const components: KeyComponents =
    run.sourceDateEpoch !== undefined ? { ...o.components, sourceDateEpoch: run.sourceDateEpoch } : o.components;
  const key = cacheKey(components);
  record.key = key;
  const hit = run.noCache ? undefined : lookupRecord(run.store, key);
  let layer: Descriptor;
  let diffId;
  if (hit) {
    // Last use is kept to the minute (as relatime keeps atimes): a rebuild loop rewrites nothing.
    if (Date.now() - recordLastUsed(hit) > 60_000) touchRecord(run.store, hit);
    record.status = 'cached';
    layer = hit.layer;
    diffId = hit.diffId;
    run.lease.add(layer.digest);
  } else {
    const reasons: MissReason[] = run.noCache
      ? [{ kind: 'no-cache', message: '--no-cache was given' }]
      : recordBlobMissing(run.store, key)
        ? [{ kind: 'blob-missing', message: "the cached layer's blob is gone from the store (gc or damage); rebuilt" }]
        : explainMiss(lastComponents(run.store, ctx.position), components);
    record.explanation = reasons;
    record.reason = reasons.map((r) => r.message).join('; ');
    const started = Date.now();
    const clock = run.sourceDateEpoch !== undefined ? () => run.sourceDateEpoch! * 1000 : Date.now;
    const fs = await mountImage({ store: run.store, image: o.link ? [] : state.layers.map((l) => l.index), clock });
    await o.execute(fs);
    const added = await addLayer({
      store: run.store,
      entries: fs.diff().map(({ header, data }) => ({ header: { ...header }, ...(data ? { data: data() } : {}) })),
      sourceDateEpoch: run.sourceDateEpoch,
      lease: run.lease,
      signal: run.signal,
    });
    layer = added.descriptor;
    diffId = added.diffId;
    saveRecord(run.store, { key, layer, diffId, created: new Date().toISOString(), durationMs: Date.now() - started });
  }
  savePosition(run.store, ctx.position, components);
  const index = await openLayerIndex({ store: run.store, descriptor: layer, diffId, signal: run.signal });
  state.layers.push({ descriptor: layer, diffId, index });
  state.key = key;
  record.layer = layer;
  record.diffId = diffId;
  state.history.push({ created: createdTime(run), created_by: o.createdBy, comment: 'buildkit.dockerfile.v0' });
}
