/**
 * `build()`: a Dockerfile and a context folder in, an image in the store out, with one cached
 * layer per filesystem step and an explanation for every cache miss.
 *
 * prepare (pure: parse, meta ARGs, plan) → open the context → run the planned stages under one
 * lease → the target's config and layers written as an image and tagged → the build record.
 */
import { localFs } from '#platform';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { expandInstruction, instructionText } from '../dockerfile/index.js';
import { ErrorCodes, LayerkitError, throwIfAborted } from '../errors.js';
import type { Image } from '../image/image.js';
import { formatPlatform } from '../image/platform.js';
import { UNTAGGED_ROOT } from '../image/images.js';
import { convertToEstargz } from '../image/estargz-convert.js';
import { writeImage } from '../image/write-image.js';
import { normalizeReference } from '../oci/reference.js';
import type { ImageConfig } from '../oci/types.js';
import { autoExecutor } from './executors/auto.js';
import { saveBuildRecord } from './build-record.js';
import { contextHashes } from './context-hashes-state.js';
import { type BuildOutput, writeBuildOutput } from './build-output.js';
import { type NamedContext, openNamedContexts } from './named-contexts.js';
import { fetchRemoteContext, parseRemoteContext, redactUrl } from './remote-context.js';
import { type BuildRun, inheritedCreated } from './build-run.js';
import { dockerfileId } from './cache.js';
import { closeRemoteCache, exportBuildCache, INLINE_CACHE_KEY, inlineCache } from './remote-cache.js';
import { FingerprintCache } from './content-digest.js';
import { type BuildContext, type ContextFs, type ContextSource, openContext } from './context.js';
import type { BuildEvent, StageFrom, StepRecord } from './events.js';
import { fromCountsInTotal, plannedSteps, type StepCounter } from './step-numbers.js';
import { stageId, stageReference, type StagePlan } from './plan.js';
import { type BuildPreparation, prepareBuild } from './prepare.js';
import { baseState, runInstructions } from './stage-runner.js';
import type { StageState } from './state.js';
import type { BuildOptions, BuildResult, BuildStage } from './types.js';

/**
 * Builds a Dockerfile into the store.
 * @example const { image, steps } = await build({ store, context: './app', tags: ['app:1'] });
 */
export async function build(options: BuildOptions): Promise<BuildResult> {
  throwIfAborted(options.signal);
  // A folder in an injected filesystem ({ fs, dir }) is read through that filesystem.
  if (typeof options.context !== 'string') return buildIn(options, { id: options.context.dir, remote: false });
  // A git or HTTP(S) URL as the context, as `docker build URL`: fetched for this build, then removed.
  const remote = parseRemoteContext(options.context);
  if (remote === undefined) return buildIn(options, { id: options.context, remote: false });
  checkOutputs(options.output);
  const fetched = await fetchRemoteContext({
    source: remote,
    what: 'the build context',
    plainFile: 'Dockerfile',
    signal: options.signal,
    proxy: { env: options.registry?.env, proxy: options.registry?.proxy },
  });
  try {
    return await buildIn({ ...options, context: fetched.dir }, { id: redactUrl(options.context), remote: true });
  } finally {
    fetched.cleanup();
  }
}

/** What names the context in records and cache positions, and whether it was fetched. */
interface ContextWhere {
  id: string;
  remote: boolean;
}

async function buildIn(options: BuildOptions, where: ContextWhere): Promise<BuildResult> {
  const clock = options.clock ?? Date.now;
  const started = clock();
  const { store, signal } = options;
  throwIfAborted(signal);
  if (options.network !== undefined && !['default', 'none', 'host'].includes(options.network))
    throw new LayerkitError(
      ErrorCodes.ERR_USAGE,
      `build: network ${JSON.stringify(options.network)} is not one of default, none, host`,
      { network: options.network },
    );
  // Every name is checked before the first step, so a bad -t fails at once rather than after the build.
  for (const tag of options.tags ?? []) normalizeReference(tag);
  const outputs = checkOutputs(options.output);
  const dockerfileName = options.dockerfile ?? 'Dockerfile';
  const source = contextSource(options.context);
  const prep = prepareBuild({
    text: options.dockerfileText ?? (await readDockerfile(source, dockerfileName)),
    file: dockerfileName,
    buildArgs: options.buildArgs,
    target: options.target,
    platform: options.platform,
  });
  const emit = (e: BuildEvent): void => options.onEvent?.(e);
  for (const warning of prep.warnings) emit({ type: 'warning', warning });
  emit({
    type: 'build',
    stages: prep.plans.map((p) => ({ stage: p.id, index: p.stage.index, reachable: p.reachable, total: p.total })),
    target: prep.plans[prep.target]!.id,
    dockerfile: prep.file,
  });
  const context = await openContext({
    dir: source.dir,
    fs: source.fs,
    dockerfile: isAbsolute(dockerfileName) ? relative(source.dir, dockerfileName) : dockerfileName,
    signal,
  });
  const named = await openNamedContexts({
    contexts: options.buildContexts,
    store,
    signal,
    proxy: { env: options.registry?.env, proxy: options.registry?.proxy },
  });
  try {
    return await runBuild(options, { prep, context, where, named: named.contexts, outputs, clock, started, emit });
  } finally {
    named.close();
  }
}

/** The build once its inputs are open: the stages under one lease, the outputs, the record. */
async function runBuild(
  options: BuildOptions,
  inputs: {
    prep: BuildPreparation;
    context: BuildContext;
    where: ContextWhere;
    named: Map<string, NamedContext>;
    outputs: BuildOutput[];
    clock: () => number;
    started: number;
    emit: (e: BuildEvent) => void;
  },
): Promise<BuildResult> {
  const { prep, context, where, named: namedContexts, outputs, clock, started, emit } = inputs;
  const { store, signal } = options;
  const hashes = contextHashes(store, context);
  const journal: BuildRun['journal'] = { built: new Map(), steps: [], warnings: [...prep.warnings] };
  const result = await store.withLease(async (lease) => {
    const run: BuildRun = {
      options: {
        file: prep.file,
        dockerfileId: dockerfileId(where.remote ? where.id : context.dir, prep.file),
        escapeToken: prep.escapeToken,
        stages: prep.stages.stages,
        buildArgs: prep.buildArgs,
        metaArgs: prep.metaArgs,
        noCache: options.noCache === true,
        allow: new Set(options.allow ?? []),
        network: options.network ?? 'default',
        pull: options.pull ?? 'missing',
        registry: options.registry ?? {},
        cacheFrom: options.cacheFrom ?? [],
        cacheTo: options.cacheTo ?? [],
        secrets: options.secrets,
        sourceDateEpoch: options.sourceDateEpoch,
        platform: formatPlatform(prep.platform),
      },
      services: {
        store,
        lease,
        context,
        namedContexts,
        executor: options.executor ?? autoExecutor({ memory: store.memory }),
        fingerprints: new FingerprintCache(),
        clock,
        signal,
        emit,
      },
      journal,
    };
    let stages: BuildStage[];
    let image: Image;
    try {
      stages = await runStages(prep, run);
      const final = run.journal.built.get(prep.target)!;
      image = await writeTarget(run, final, options.tags ?? [], options.labels, options.compression);
      for (const exported of await exportBuildCache(run, final))
        emit({
          type: 'cache-export',
          exporter: exported.exporter,
          ref: exported.ref,
          records: exported.records,
          bytesUploaded: exported.bytes,
        });
    } finally {
      await closeRemoteCache(run);
    }
    const written: Array<{ type: BuildOutput['type']; warnings: string[] }> = [];
    for (const output of outputs) {
      const { warnings } = await writeBuildOutput({
        store,
        image,
        output,
        names: options.tags,
        sourceDateEpoch: options.sourceDateEpoch,
        signal,
      });
      written.push({ type: output.type, warnings });
    }
    return {
      image,
      stages,
      target: prep.plans[prep.target]!.id,
      ...(written.length > 0 ? { output: written[0]!, outputs: written } : {}),
    };
  });
  // A fetched context is gone after the build: its file hashes are not worth keeping.
  if (!where.remote) hashes.save(clock());
  const durationMs = clock() - started;
  const { steps, warnings } = journal;
  saveBuildRecord({
    store,
    record: {
      digest: result.image.descriptor.digest,
      dockerfile: prep.file,
      context: where.remote ? where.id : context.dir,
      target: result.target,
      tags: options.tags ?? [],
      stages: result.stages,
      steps,
      warnings,
      finished: new Date(clock()).toISOString(),
      durationMs,
    },
  });
  emit({ type: 'result', digest: result.image.descriptor.digest, tags: options.tags ?? [], durationMs });
  const read = localInputs(options, context, where);
  return { ...result, steps, warnings, ...(read ? { inputs: read } : {}), durationMs };
}

/** {@link BuildResult.inputs}: what the build read of a context on the local filesystem. */
function localInputs(options: BuildOptions, context: BuildContext, where: ContextWhere): string[] | undefined {
  if (where.remote || typeof options.context !== 'string') return undefined;
  const at = (path: string): string => (path === '' ? context.dir : `${context.dir}/${path}`);
  // The folder as named too, not only its real path: a symlink on the way, retargeted, names another folder.
  const paths = [resolve(options.context), ...[...context.walked(), ...context.ignoreCandidates].map(at)];
  if (options.dockerfileText === undefined) {
    const name = options.dockerfile ?? 'Dockerfile';
    paths.push(isAbsolute(name) ? name : join(options.context, name));
  }
  return [...new Set(paths)];
}

/** The outputs as a list, checked before the first step: at most one stream, no destination twice. */
function checkOutputs(output: BuildOptions['output']): BuildOutput[] {
  const outputs = output === undefined ? [] : Array.isArray(output) ? output : [output];
  if (outputs.filter((o) => typeof o.dest !== 'string').length > 1)
    throw new LayerkitError(ErrorCodes.ERR_USAGE, 'build: only one output may be written to a stream', {});
  const seen = new Set<string>();
  for (const o of outputs) {
    if (typeof o.dest !== 'string') continue;
    if (seen.has(o.dest))
      throw new LayerkitError(ErrorCodes.ERR_USAGE, `build: two outputs write to ${o.dest}`, { path: o.dest });
    seen.add(o.dest);
  }
  return outputs;
}

/** The context's folder and the filesystem it is in (Node's own for a path). */
function contextSource(context: ContextSource): { dir: string; fs: ContextFs | undefined } {
  return typeof context === 'string' ? { dir: context, fs: undefined } : { dir: context.dir, fs: context.fs };
}

/** Reads the Dockerfile through the context's filesystem: a path relative to the context, or an absolute one. */
/**
 * A whole file of a context filesystem: through Node's callback `readFile` when the fs has one
 * (node:fs, memfs), else its promises API. Touching `fs.promises` on node:fs loads fs/promises,
 * about 2 ms of a fully cached build that reads nothing else through it.
 */
function readWholeFile(fs: ContextFs, path: string): Promise<Uint8Array | string> {
  const withCallback = fs as ContextFs & {
    readFile?: (path: string, callback: (err: Error | null, data: Uint8Array) => void) => void;
  };
  if (typeof withCallback.readFile !== 'function') return fs.promises.readFile(path);
  const readFile = withCallback.readFile;
  return new Promise((resolve, reject) => {
    readFile.call(fs, path, (err, data) => (err ? reject(err) : resolve(data)));
  });
}

async function readDockerfile(source: { dir: string; fs: ContextFs | undefined }, name: string): Promise<string> {
  const path = isAbsolute(name) ? name : join(source.dir, name);
  try {
    const fs = source.fs ?? localFs();
    if (fs === undefined)
      throw new LayerkitError(
        ErrorCodes.ERR_UNSUPPORTED,
        `cannot read the Dockerfile ${path}: there is no filesystem here; pass context: { fs, dir } or dockerfileText`,
        { path, reason: 'no-default-fs' },
      );
    const data = await readWholeFile(fs, path);
    return typeof data === 'string' ? data : new TextDecoder().decode(data);
  } catch (err) {
    if (err instanceof LayerkitError) throw err;
    throw new LayerkitError(
      ErrorCodes.ERR_BUILD_CONTEXT,
      `cannot read the Dockerfile ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      { path, dockerfile: path },
      { cause: err },
    );
  }
}

/** Runs the planned stages in order: the reachable ones are built, the others reported as skipped. */
async function runStages(prep: BuildPreparation, run: BuildRun): Promise<BuildStage[]> {
  const { emit, signal } = run.services;
  const { file, escapeToken } = prep;
  const results: BuildStage[] = [];
  for (const plan of prep.plans) {
    throwIfAborted(signal);
    const index = plan.stage.index;
    const from = stageFrom(prep, plan, run);
    if (!plan.reachable) {
      emit({ type: 'stage', stage: plan.id, status: 'skipped' });
      const planned = plannedSteps(plan.stage, from?.step !== undefined);
      for (const [i, ins] of plan.stage.instructions.entries()) {
        const step = planned[i];
        const record: StepRecord = {
          stage: plan.id,
          ...(step !== undefined ? { step } : {}),
          total: plan.total,
          index: i + 1,
          instruction: instructionText(ins.node),
          line: ins.range.start.line,
          status: 'skipped',
          metadata: false,
          durationMs: 0,
        };
        run.journal.steps.push(record);
        emit({ type: 'step', ...record });
      }
      results.push({ stage: plan.id, index, status: 'skipped', ...stageGraph(prep, plan), total: plan.total });
      continue;
    }
    emit({
      type: 'stage',
      stage: plan.id,
      status: 'started',
      base: prep.fromImages[index]!,
      total: plan.total,
      ...(from ? { from } : {}),
    });
    const platformFlag =
      plan.stage.from.platform !== undefined
        ? expandInstruction(plan.stage.from, { env: prep.metaEnv, escapeToken, file }).instruction.platform
        : undefined;
    const state = await baseState(
      run,
      plan.stage,
      stageId(plan.stage),
      prep.fromImages[index]!,
      plan.fromStage,
      platformFlag,
    );
    const counter: StepCounter = { last: from?.step ?? 0, total: plan.total };
    await runInstructions(run, state, plan.stage, counter);
    run.journal.built.set(index, state);
    results.push({
      stage: plan.id,
      index,
      status: 'built',
      ...stageGraph(prep, plan),
      total: counter.total,
      ...(from ? { from } : {}),
    });
    emit({ type: 'stage', stage: plan.id, status: 'done' });
  }
  return results;
}

/**
 * The vertex BuildKit shows for a stage's FROM: `FROM IMAGE` as step 1, or a named context's
 * unnumbered `[context NAME] ...`; none for `scratch` or an earlier stage.
 */
function stageFrom(prep: BuildPreparation, plan: StagePlan, run: BuildRun): StageFrom | undefined {
  const image = prep.fromImages[plan.stage.index]!;
  if (!fromCountsInTotal(image, plan.fromStage)) return undefined;
  const named = run.services.namedContexts.get(image.toLowerCase());
  if (named !== undefined) return { name: named.vertex, context: image };
  return { step: 1, name: `FROM ${image}` };
}

/** What a stage starts FROM and what its `COPY --from` steps read, as stage ids or image references. */
function stageGraph(prep: BuildPreparation, plan: StagePlan): Pick<BuildStage, 'base' | 'copyFrom'> {
  const { plans, fromImages, stages } = prep;
  const base =
    plan.fromStage !== undefined ? { stage: plans[plan.fromStage]!.id } : { image: fromImages[plan.stage.index]! };
  const copyFrom = plan.stage.instructions.flatMap((ins) => {
    if (ins.keyword !== 'copy' || ins.from === undefined) return [];
    const ref = stageReference(stages.stages, ins.from, plan.stage.index);
    return [ref === undefined ? ins.from : plans[ref]!.id];
  });
  return { base, copyFrom: [...new Set(copyFrom)] };
}

/** Writes the target stage's config (with `--label` labels over the Dockerfile's) and layers as an image, tagged. */
async function writeTarget(
  run: BuildRun,
  final: StageState,
  tags: string[],
  labels: Record<string, string> | undefined,
  compression: 'estargz' | undefined,
): Promise<Image> {
  const withLabels =
    labels && Object.keys(labels).length > 0
      ? { ...final.config, config: { ...final.config.config, Labels: { ...final.config.config?.Labels, ...labels } } }
      : final.config;
  const inline = inlineCache(run, final);
  const { [INLINE_CACHE_KEY]: _inherited, ...own } = withLabels as ImageConfig & Record<string, unknown>;
  const config: ImageConfig = {
    // A base image's inline cache describes its own build, never this one's.
    ...own,
    ...(inline ? { [INLINE_CACHE_KEY]: inline } : {}),
    created: inheritedCreated(run, final.history),
    rootfs: { type: 'layers', diff_ids: final.layers.map((l) => l.diffId) },
    history: final.history,
  };
  const { store, lease } = run.services;
  const layers = final.layers.map((l) => l.descriptor);
  // eStargz: the steps' layers (and their cache records) stay gzip; the image is their conversion,
  // which is deterministic, so a rebuild gives the same image digest.
  const image =
    compression === 'estargz'
      ? await convertToEstargz({ store, image: await writeImage({ store, config, layers, lease }), tags, lease })
      : await writeImage({ store, config, layers, tags, lease });
  // An image built without a name stays known, as an untagged import does: `images` lists it as
  // <none> (dangling), gc keeps it, and `rmi DIGEST` lets it go.
  if (tags.length === 0) store.setRoot(UNTAGGED_ROOT, image.descriptor.digest, { digests: [image.descriptor.digest] });
  return image;
}
