/**
 * Committing a union view's changes: the diff becomes one ordinary OCI layer (deterministic:
 * the same changes give the same diffID), appended to the base image with a history entry, as a
 * new image in the store. Costs O(changes): only the upper layer is read.
 */
import type { Digest } from '../digest/digest.js';
import type { Image } from '../image/image.js';
import { addLayer } from '../image/add-layer.js';
import { writeImage } from '../image/write-image.js';
import { hostPlatform } from '../image/platform.js';
import type { History, ImageConfig } from '../oci/types.js';
import type { Lease, Store } from '../store/store.js';
import type { LayerEntryInput } from '../tar/layer-writer.js';
import type { DiffEntry } from './changes.js';

/** Options for {@link commitDiff}. */
export interface CommitDiffOptions {
  store: Store;
  /** The image the changes were made on; undefined for `scratch`. */
  base: Image | undefined;
  /** The layer content (a union view's `diff()`). */
  diff: DiffEntry[];
  /** Names for the new image. */
  tags?: string[] | undefined;
  /** The history entry's `created_by` (default: `layerkit commit`). */
  createdBy?: string | undefined;
  /** The history entry's `comment`. */
  message?: string | undefined;
  author?: string | undefined;
  /** Seconds since the epoch for `created` and the clamp of file times (reproducible output). */
  sourceDateEpoch?: number | undefined;
  /** Config changes to apply (ENV, CMD...). */
  config?: ((config: ImageConfig) => ImageConfig) | undefined;
  lease?: Lease | undefined;
  signal?: AbortSignal | undefined;
}

/** The committed image and its new layer. */
export interface CommitResult {
  image: Image;
  diffId: Digest;
}

/** An empty config for images built on `scratch`. */
export function scratchConfig(): ImageConfig {
  const p = hostPlatform();
  return {
    architecture: p.architecture,
    os: p.os,
    ...(p.variant ? { variant: p.variant } : {}),
    config: {},
    rootfs: { type: 'layers', diff_ids: [] },
    history: [],
  };
}

/** Writes `diff` as a new layer on `base` and stores the new image. */
export async function commitDiff(options: CommitDiffOptions): Promise<CommitResult> {
  const { store, base, diff, sourceDateEpoch, signal } = options;
  const run = async (lease: Lease): Promise<CommitResult> => {
    const entries: LayerEntryInput[] = diff.map(({ header, data }) => ({
      header: { ...header },
      ...(data ? { data: data() } : {}),
    }));
    const layer = await addLayer({ store, entries, sourceDateEpoch, lease, signal });
    const created = new Date(sourceDateEpoch !== undefined ? sourceDateEpoch * 1000 : Date.now())
      .toISOString()
      .replace('.000Z', 'Z');
    const previous: ImageConfig = base
      ? (JSON.parse(base.configBytes.toString('utf8')) as ImageConfig)
      : scratchConfig();
    const history: History = { created, created_by: options.createdBy ?? 'layerkit commit' };
    if (options.author) history.author = options.author;
    if (options.message) history.comment = options.message;
    let config: ImageConfig = {
      ...previous,
      created,
      rootfs: { type: 'layers', diff_ids: [...previous.rootfs.diff_ids, layer.diffId] },
      history: [...(previous.history ?? []), history],
    };
    if (options.author) config.author = options.author;
    if (options.config) config = options.config(config);
    const image = await writeImage({
      store,
      config,
      layers: [...(base?.layers ?? []), layer.descriptor],
      tags: options.tags ?? [],
      lease,
    });
    return { image, diffId: layer.diffId };
  };
  return options.lease ? run(options.lease) : store.withLease(run);
}
