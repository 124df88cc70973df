/**
 * The snapshotter's slow path, loaded only when a layer is extracted for the first time: the
 * layer's tar read through its index and written out as an overlay lower (whiteouts as character
 * devices 0/0, opaque directories as the `trusted.overlay.opaque` xattr). A container whose
 * layers are all extracted never loads the tar reader, the layer index or the unpacker.
 */
import nodeFs from 'node:fs';
import { join } from 'node:path';
import type { Digest } from '../digest/digest.js';
import { makeWhiteout, markOpaqueDir } from '../container/kernel-upper.js';
import { unpackRootfs } from '../image/unpack.js';
import { flattenLayers } from '../layer/flatten.js';
import { openLayerIndex } from '../layer/layer-store.js';
import type { Descriptor } from '../oci/types.js';
import type { Store } from '../store/store.js';

/** Options for {@link extractLayer}. */
export interface ExtractLayerOptions {
  store: Store;
  descriptor: Descriptor;
  diffId: Digest;
  /** The folder to write (it must not exist; made here). */
  dir: string;
  signal?: AbortSignal | undefined;
}

/** Extracts one layer into `dir` as the kernel's overlay wants a lower; returns the folders it marked opaque. */
export async function extractLayer({ store, descriptor, diffId, dir, signal }: ExtractLayerOptions): Promise<string[]> {
  const index = await openLayerIndex({ store, descriptor, diffId, signal });
  unpackRootfs({
    flat: { layers: [index], entries: flattenLayers([index]) },
    dir,
    keepOwners: true,
    signal,
  });
  for (const path of index.whiteouts()) {
    const target = join(dir, path);
    nodeFs.mkdirSync(join(target, '..'), { recursive: true });
    makeWhiteout(target);
  }
  const opaque: string[] = [];
  for (const path of index.opaqueDirs()) {
    const target = path === '' ? dir : join(dir, path);
    nodeFs.mkdirSync(target, { recursive: true });
    markOpaqueDir(target);
    opaque.push(path);
  }
  return opaque;
}

/** The folders a layer marks opaque (relative, '' for its root), from its index: what {@link extractLayer} marks. */
export async function layerOpaqueDirs({
  store,
  descriptor,
  diffId,
  signal,
}: Omit<ExtractLayerOptions, 'dir'>): Promise<string[]> {
  return [...(await openLayerIndex({ store, descriptor, diffId, signal })).opaqueDirs()];
}
