/**
 * Mounting an image from the store as a union view, and committing it back: `mountImage`
 * returns a {@link ImageFS}, the `node:fs/promises`-shaped union view plus `commit()`.
 */
import type { Descriptor } from '../oci/types.js';
import type { Platform } from '../oci/types.js';
import type { Image } from '../image/image.js';
import { resolveImage, type ImageLike } from '../image/image.js';
import { indexImageLayers } from '../layer/layer-store.js';
import type { LayerReader } from '../layer/types.js';
import type { Store } from '../store/store.js';
import { createUnionCore, UnionFS, type CreateUnionFSOptions } from './union-fs.js';
import type { UpperLayer } from './upper-layer.js';
import { commitDiff, type CommitResult } from './commit-diff.js';

/** Options for {@link mountImage}. */
export interface MountImageOptions {
  store: Store;
  /** A ref, digest, descriptor or loaded image; or the layers themselves (bottom first). */
  image: string | Descriptor | Image | readonly LayerReader[];
  /** Writes fail with `EROFS`. */
  readOnly?: boolean | undefined;
  /** Continue an existing writable layer (a container's). */
  upper?: UpperLayer | undefined;
  platform?: Platform | undefined;
  /** Pin the clock for new times (reproducible layers). */
  clock?: (() => number) | undefined;
  signal?: AbortSignal | undefined;
}

/** Options for {@link ImageFS.commit}. */
export interface CommitOptions {
  /** Names for the new image. */
  tags?: string[] | undefined;
  /** Stored as the history entry's comment. */
  message?: string | undefined;
  author?: string | undefined;
  /** The history entry's `created_by`. */
  createdBy?: string | undefined;
  /** Seconds since the epoch: `created` and the clamp of file mtimes. */
  sourceDateEpoch?: number | undefined;
  signal?: AbortSignal | undefined;
}

/** A union view of an image in the store, which can commit its changes as a new image. */
export class ImageFS extends UnionFS {
  readonly store: Store;
  /** The image mounted (undefined when mounted from bare layers). */
  readonly image: Image | undefined;

  /** @internal Use {@link mountImage}. */
  constructor(options: CreateUnionFSOptions & { store: Store; image: Image | undefined }) {
    super(createUnionCore(options));
    this.store = options.store;
    this.image = options.image;
  }

  /**
   * Writes the upper layer as a new layer on the mounted image and stores the new image
   * (history appended). Costs O(changes). The view stays mounted on the old image.
   */
  async commit(options: CommitOptions = {}): Promise<CommitResult> {
    return commitDiff({
      store: this.store,
      base: this.image,
      diff: this.diff(),
      tags: options.tags ?? [],
      createdBy: options.createdBy,
      message: options.message,
      author: options.author,
      sourceDateEpoch: options.sourceDateEpoch,
      signal: options.signal,
    });
  }
}

/** Mounts an image: its layer indexes are loaded from the store (built once when missing). */
export async function mountImage({
  store,
  image,
  readOnly,
  upper,
  platform,
  clock,
  signal,
}: MountImageOptions): Promise<ImageFS> {
  let layers: readonly LayerReader[];
  let loaded: Image | undefined;
  if (Array.isArray(image)) {
    layers = image as readonly LayerReader[];
  } else {
    loaded = await resolveImage({ store, image: image as ImageLike, platform });
    layers = (await indexImageLayers({ store, image: loaded, signal })).indexes;
  }
  return new ImageFS({
    store,
    image: loaded,
    layers,
    ...(readOnly !== undefined ? { readOnly } : {}),
    ...(upper !== undefined ? { upper } : {}),
    ...(clock !== undefined ? { clock } : {}),
  });
}
