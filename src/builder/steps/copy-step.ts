/**
 * COPY and ADD as build steps: pick the source tree (the context, an earlier stage or an image
 * for `--from`), plan the copy (which also fingerprints every input), then go through the cache.
 * The key has the canonical expanded instruction and the inputs' content digest, never mtimes,
 * and for `--link` no parent (the copy never reads earlier layers).
 */
import type { AddInstruction, CopyInstruction } from '../../dockerfile/index.js';
import { ErrorCodes, isLayerkitError } from '../../errors.js';
import { stepError } from '../step-error.js';
import { flattenImage } from '../../image/listing.js';
import { loadBuildImage } from '../base-image.js';
import { flattenLayers } from '../../layer/flatten.js';
import { mountImage } from '../../union/mount-image.js';
import { resolveUser } from '../../shell/users.js';
import { parseChmod } from '../chmod.js';
import { stageReference } from '../plan.js';
import { contextSource, flatSource, type SourceTree } from '../sources.js';
import { cachedLayerStep, type FsStepContext } from '../cached-step.js';
import { applyCopy, planCopy } from './copy.js';

/** Runs a COPY or ADD instruction. */
export async function runCopy(ctx: FsStepContext, instruction: CopyInstruction | AddInstruction): Promise<void> {
  const { run, state } = ctx;
  const keyword = instruction.keyword.toUpperCase();
  for (const s of instruction.sources) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s) || s.startsWith('git@')) {
      throw stepError(
        ErrorCodes.ERR_UNSUPPORTED,
        instruction.keyword === 'copy'
          ? "source can't be a URL for COPY"
          : `ADD ${s}: layerkit's builder works without the network; download it into the context and ADD it from there`,
        { source: s },
      );
    }
  }
  if (instruction.keyword === 'add' && instruction.checksum !== undefined) {
    throw stepError(
      ErrorCodes.ERR_DOCKERFILE_FLAG,
      `ADD --checksum verifies a download, and layerkit's builder adds local files only; remove --checksum`,
      { checksum: instruction.checksum },
    );
  }
  let tree: SourceTree = contextSource(run.services.context);
  if (instruction.keyword === 'copy' && instruction.from !== undefined) tree = await fromTree(ctx, instruction.from);
  const view = await mountImage({ store: run.services.store, image: state.layers.map((l) => l.index), readOnly: true });
  const plan = planCopy({
    tree,
    sources: instruction.sources,
    contents: instruction.heredocSources.map((h) => ({ name: h.name, data: Buffer.from(h.content) })),
    dest: instruction.dest,
    workdir: state.config.config?.WorkingDir || '/',
    excludes: instruction.excludes,
    isDirectory: (p) => {
      try {
        return !instruction.link && view.statSync(p).isDirectory();
      } catch {
        return false;
      }
    },
    cache: run.services.fingerprints,
    now: run.options.sourceDateEpoch ?? Math.floor(ctx.run.services.clock() / 1000),
    what: keyword,
    unpackArchives: instruction.keyword === 'add' && instruction.unpack !== false,
    parents: instruction.keyword === 'copy' && instruction.parents,
  });
  const chmod = instruction.chmod !== undefined ? parseChmod(instruction.chmod) : undefined;
  // Names resolve through the stage's /etc/passwd and /etc/group, before the cache lookup: the ids are part of the key.
  const resolved =
    instruction.chown !== undefined ? await resolveUser({ fs: view, user: instruction.chown }) : undefined;
  const owner = resolved ? { uid: resolved.uid, gid: resolved.gid } : undefined;
  const shown: string[] = [];
  if (instruction.keyword === 'copy' && instruction.parents) shown.push('--parents');
  if (instruction.chown !== undefined) shown.push(`--chown=${instruction.chown}`);
  if (instruction.chmod !== undefined) shown.push(`--chmod=${instruction.chmod}`);
  const args = [...instruction.sources, ...instruction.heredocSources.map((h) => `<<${h.name}`), instruction.dest];
  // Every flag that changes the result is in the key (history shows fewer, as BuildKit's does).
  const keyFlags = [
    ...(instruction.keyword === 'copy' && instruction.from !== undefined ? [`--from=${instruction.from}`] : []),
    ...shown,
    ...(instruction.link ? ['--link'] : []),
    ...(instruction.keyword === 'add' && instruction.unpack !== undefined ? [`--unpack=${instruction.unpack}`] : []),
    ...instruction.excludes.map((e) => `--exclude=${e}`),
  ];
  const canonical = [keyword, ...keyFlags, ...args].join(' ');
  await cachedLayerStep(ctx, {
    components: {
      parent: instruction.link ? 'link' : state.key,
      instruction: canonical,
      // A relative destination lands under WORKDIR, which `WORKDIR /` changes without a layer.
      ...(instruction.dest.startsWith('/') ? {} : { workdir: state.config.config?.WorkingDir || '/' }),
      ...(owner ? { owner: `${owner.uid}:${owner.gid}` } : {}),
      inputs: plan.inputs,
    },
    createdBy: `${[keyword, ...shown, ...args].join(' ')} # buildkit`,
    link: instruction.link,
    execute: async (fs) => {
      await applyCopy(fs, plan, { owner, chmod });
    },
  });
}

/** The tree `COPY --from=X` (and `RUN --mount=from=X`) reads: an earlier stage, a named context, or an image in the store. */
export async function fromTree(
  { run, state, record }: FsStepContext,
  from: string,
  flag = 'COPY --from',
): Promise<SourceTree> {
  if (from.includes('$')) {
    throw stepError(
      ErrorCodes.ERR_DOCKERFILE_FLAG,
      `${flag}=${from}: variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround`,
      { from },
    );
  }
  const index = stageReference(run.options.stages, from, state.index);
  if (index !== undefined) {
    const source = run.journal.built.get(index);
    if (!source)
      throw stepError(ErrorCodes.ERR_BUILD_STAGE, `stage ${from} has not been built`, {
        stage: from,
      });
    const layers = source.layers.map((l) => l.index);
    return flatSource({ layers, entries: flattenLayers(layers) }, `stage "${from}"`);
  }
  const named = run.services.namedContexts.get(from.toLowerCase());
  if (named?.kind === 'dir') return { ...contextSource(named.context), label: `build context ${from}` };
  const ref = named?.kind === 'image' ? named.ref : from;
  const image = await loadBuildImage(run, ref, { stage: record.stage, index: record.index }).catch((err: unknown) => {
    if (!isLayerkitError(err, ErrorCodes.ERR_BUILD_BASE_NOT_FOUND)) throw err;
    throw stepError(
      ErrorCodes.ERR_BUILD_BASE_NOT_FOUND,
      named
        ? `${flag}=${from}: the build context ${from} names ${ref}: ${err.message}`
        : `${flag}=${from}: no stage of that name before this one, and ${err.message}`,
      { ...err.data, image: ref },
      { cause: err.cause },
    );
  });
  return flatSource(
    await flattenImage({ store: run.services.store, image, signal: run.services.signal }),
    `image ${ref}`,
  );
}
