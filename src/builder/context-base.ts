/**
 * `FROM NAME` where NAME is a folder given with `--build-context`: the stage starts from that
 * folder's files as its one layer (owners 0:0, modes and mtimes kept, .dockerignore applied),
 * with an empty config for the target platform, as BuildKit starts from a local context.
 */
import { addLayer } from '../image/add-layer.js';
import { parsePlatform } from '../image/platform.js';
import { mountImage } from '../union/mount-image.js';
import { createdTime, type BuildRun } from './build-run.js';
import type { BuildContext } from './context.js';
import { contextSource } from './sources.js';
import { envToMap, scratchStageConfig, type StageState } from './state.js';
import { applyCopy, planCopy } from './steps/copy.js';

/** Options for {@link contextBaseState}. */
export interface ContextBaseStateOptions {
  run: BuildRun;
  /** The stage's id and index. */
  id: string;
  index: number;
  /** The name FROM used, for history and messages. */
  name: string;
  context: BuildContext;
  /** `os/arch[/variant]` of the stage. */
  platform: string;
}

/** The state of a stage whose FROM names a folder context. */
export async function contextBaseState(o: ContextBaseStateOptions): Promise<StageState> {
  const { run } = o;
  const { store, lease, signal, fingerprints, clock } = run.services;
  const { sourceDateEpoch } = run.options;
  const view = await mountImage({
    store,
    image: [],
    clock: sourceDateEpoch !== undefined ? () => sourceDateEpoch * 1000 : clock,
  });
  const plan = planCopy({
    tree: { ...contextSource(o.context), label: `build context ${o.name}` },
    sources: ['.'],
    dest: '/',
    workdir: '/',
    excludes: [],
    isDirectory: () => true,
    cache: fingerprints,
    now: sourceDateEpoch ?? Math.floor(clock() / 1000),
    what: `FROM ${o.name}`,
  });
  await applyCopy(view, plan, {});
  const added = await addLayer({
    store,
    entries: view.diff().map(({ header, data }) => ({ header: { ...header }, ...(data ? { data: data() } : {}) })),
    sourceDateEpoch,
    lease,
    signal,
  });
  const platform = parsePlatform(o.platform);
  const config = scratchStageConfig(platform);
  return {
    id: o.id,
    index: o.index,
    layers: [{ descriptor: added.descriptor, diffId: added.diffId, index: added.index }],
    config,
    history: [
      { created: createdTime(run), created_by: `FROM ${o.name} (build context)`, comment: 'buildkit.dockerfile.v0' },
    ],
    env: envToMap(config.config.Env),
    args: [],
    // The layer's diffID is its content: the same folder gives the same key, another folder another.
    key: `context:${added.diffId}`,
    cmdSet: false,
  };
}
