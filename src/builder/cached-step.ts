/**
 * The cache protocol every filesystem step (RUN, COPY, ADD, WORKDIR) shares. It lives apart from
 * the stage runner, which dispatches to the steps, so the steps never import their caller.
 */
import { mountImage, type ImageFS } from '../union/mount-image.js';
import type { Digest } from '../digest/digest.js';
import { addLayer } from '../image/add-layer.js';
import { openLayerIndex } from '../layer/layer-store.js';
import type { Descriptor } from '../oci/types.js';
import { createdTime, type BuildRun } from './build-run.js';
import {
  cacheKey,
  explainMiss,
  type KeyComponents,
  lastComponents,
  lookupRecord,
  type MissReason,
  recordBlobMissing,
  recordLastUsed,
  savePosition,
  saveRecord,
  touchRecord,
} from './cache.js';
import type { StepRecord } from './events.js';
import { lookupRemote, noteCacheEntry, remotePosition } from './remote-cache.js';
import type { StageState } from './state.js';

/** What a filesystem step gets. */
export interface FsStepContext {
  run: BuildRun;
  state: StageState;
  record: StepRecord;
  position: { dockerfileId: string; stage: string; step: number };
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
 * Computes the key, reuses a record whose blob is present, otherwise runs the step on a union
 * view, writes its diff as a layer and records it, with the explanation of the miss.
 */
export async function cachedLayerStep(ctx: FsStepContext, o: CachedStepOptions): Promise<void> {
  const { run, state, record } = ctx;
  const { store, lease, signal, clock } = run.services;
  const { sourceDateEpoch, noCache } = run.options;
  // The epoch clamps every mtime of the layer, so a layer made under another epoch (or none) is another result.
  const components: KeyComponents = sourceDateEpoch !== undefined ? { ...o.components, sourceDateEpoch } : o.components;
  const key = cacheKey(components);
  record.key = key;
  let hit = noCache ? undefined : lookupRecord(store, key);
  const position = remotePosition(run, ctx.position.stage, ctx.position.step);
  // A local miss asks the remote caches, by the key computed here.
  const remote =
    hit || noCache || run.options.cacheFrom.length === 0 ? undefined : await lookupRemote(run, key, position);
  if (remote?.hit) {
    const { entry } = remote;
    hit = { key, layer: entry.layer, diffId: entry.diffId, created: entry.created, durationMs: entry.durationMs };
    saveRecord(store, hit);
    record.cacheSource = remote.source;
  }
  let layer: Descriptor;
  let diffId: Digest;
  let created: string;
  let durationMs: number;
  if (hit) {
    // Last use is kept to the minute (as relatime keeps atimes): a rebuild loop rewrites nothing.
    const now = clock();
    if (now - recordLastUsed(hit) > 60_000) touchRecord(store, hit, now);
    record.status = 'cached';
    record.cacheSource ??= { kind: 'local' };
    layer = hit.layer;
    diffId = hit.diffId;
    created = hit.created;
    durationMs = hit.durationMs;
    lease.add(layer.digest);
  } else {
    const before =
      lastComponents(store, ctx.position) ?? (remote?.hit === false ? explainable(remote.explainFrom) : undefined);
    const reasons: MissReason[] = noCache
      ? [{ kind: 'no-cache', message: '--no-cache was given' }]
      : [
          ...(remote?.hit === false ? remote.reasons : []),
          ...(recordBlobMissing(store, key)
            ? [
                {
                  kind: 'blob-missing',
                  message: "the cached layer's blob is gone from the store (gc or damage); rebuilt",
                } as const,
              ]
            : explainMiss(before, components)),
        ];
    record.explanation = reasons;
    record.reason = reasons.map((r) => r.message).join('; ');
    const started = clock();
    const fsClock = sourceDateEpoch !== undefined ? () => sourceDateEpoch * 1000 : clock;
    const fs = await mountImage({ store, image: o.link ? [] : state.layers.map((l) => l.index), clock: fsClock });
    await o.execute(fs);
    const added = await addLayer({
      store,
      entries: fs.diff().map(({ header, data }) => ({ header: { ...header }, ...(data ? { data: data() } : {}) })),
      sourceDateEpoch,
      lease,
      signal,
    });
    layer = added.descriptor;
    diffId = added.diffId;
    const finished = clock();
    created = new Date(finished).toISOString();
    durationMs = finished - started;
    saveRecord(store, { key, layer, diffId, created, durationMs });
  }
  noteCacheEntry(run, { key, layer, diffId, created, durationMs, position, components, createdBy: o.createdBy });
  savePosition(store, ctx.position, components);
  const index = await openLayerIndex({ store, descriptor: layer, diffId, signal });
  state.layers.push({ descriptor: layer, diffId, index, cacheKey: key });
  state.key = key;
  record.layer = layer;
  record.diffId = diffId;
  // The layer's own creation time (a cache hit keeps the first build's), as BuildKit's history has it.
  state.history.push({
    created: sourceDateEpoch !== undefined ? createdTime(run) : created,
    created_by: o.createdBy,
    comment: 'buildkit.dockerfile.v0',
  });
}

/** A remote record's components, when they look like key components (they only explain; they never make a key). */
function explainable(c: Record<string, unknown> | undefined): KeyComponents | undefined {
  return c && typeof c['parent'] === 'string' && typeof c['instruction'] === 'string'
    ? (c as unknown as KeyComponents)
    : undefined;
}
