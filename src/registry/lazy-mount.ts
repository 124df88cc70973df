/**
 * `mountImage`, the one entry point for mounting an image: from the store (the union module's
 * mount), or straight from a registry with `lazy: true`. A lazy mount fetches the manifest and
 * the config, then for each eStargz layer its footer and TOC (two Range requests), and afterwards
 * only the chunks of the files that are read, each verified; layers that are not eStargz are
 * pulled whole into the store and verified, as a pull would. The view is read-only and has the
 * same API as a local mount; its async methods fetch what a read needs, the sync ones read what
 * is already fetched.
 */
import type { ImageFS } from '../union/mount-image.js';
import { mountImage as mountStoredImage, type MountImageOptions } from '../union/mount-image.js';
import type { Platform } from '../oci/types.js';
import type { Store } from '../store/store.js';
import type { RegistryOptions } from './client.js';
import { type LazyImageFS, mountLazy } from './lazy-open.js';

export type { MountImageOptions } from '../union/mount-image.js';
export { LazyImageFS } from './lazy-open.js';

/** Options for a lazy {@link mountImage}: an image on a registry, read by ranges. */
export interface LazyMountImageOptions extends RegistryOptions {
  store: Store;
  /** The image on its registry: `127.0.0.1:5000/app:1`, `name@sha256:...`. */
  image: string;
  lazy: true;
  /** For an index: which platform (default: the host's). */
  platform?: Platform | string | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * Mounts an image as a union view: from the store, or with `lazy: true` from a registry (see
 * {@link LazyImageFS}).
 * @example const fs = await mountImage({ store, image: '127.0.0.1:5000/app:1', lazy: true });
 * @throws for a lazy mount: `ERR_REGISTRY`, `ERR_REGISTRY_AUTH`, `ERR_NOT_FOUND`, `EINTEGRITY`
 *   (a TOC or chunk that does not match its digest, naming the blob), `ERR_LAYER_FORMAT`,
 *   `ERR_UNSAFE_PATH` (a hostile TOC).
 */
export async function mountImage(options: LazyMountImageOptions): Promise<LazyImageFS>;
export async function mountImage(options: MountImageOptions): Promise<ImageFS>;
export async function mountImage(options: MountImageOptions | LazyMountImageOptions): Promise<ImageFS> {
  if ('lazy' in options && options.lazy === true) return mountLazy(options);
  return mountStoredImage(options as MountImageOptions);
}
