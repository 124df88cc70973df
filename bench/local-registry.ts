/**
 * The local registry of the benchmarks that talk to one (registry, lazy, remote-cache): Debian's
 * docker-registry (distribution 2.8) on a free loopback port, plain HTTP, storage on tmpfs, started
 * and stopped by pid through the tests' testbed (tests/helpers/registry-testbed.ts); and the image
 * a benchmark generates, stores and pushes to it.
 */
import { addLayer } from '../src/image/add-layer.js';
import { writeImage } from '../src/image/write-image.js';
import { pushImage } from '../src/registry/push.js';
import type { Store } from '../src/store/store.js';
import type { LayerEntryInput } from '../src/tar/layer-writer.js';
import { registryTestbedMissing, startTestbed, type Testbed } from '../tests/helpers/registry-testbed.js';

/** The environment of in-process registry calls: no credential files of the machine's user. */
export const registryEnv: NodeJS.ProcessEnv = { ...process.env, HOME: '/nonexistent-home' };

/**
 * Starts a plain-HTTP registry, runs `fn` with its `host:port`, and stops it however `fn` ends.
 * Fails with the Debian package to install when the registry's tools are missing.
 */
export async function withLocalRegistry<T>(fn: (host: string, bed: Testbed) => Promise<T>): Promise<T> {
  const missing = registryTestbedMissing();
  if (missing) throw new Error(missing);
  const bed = await startTestbed({ plain: true });
  try {
    return await fn(bed.plain!.host, bed);
  } finally {
    await bed.stop();
  }
}

/** Options for {@link pushGeneratedImage}. */
export interface GeneratedImageOptions {
  store: Store;
  /** Each layer's entries, bottom layer first. */
  layers: readonly LayerEntryInput[][];
  /** The image's name in `store`. */
  tag: string;
  /** Where to push it (`host:port/repo:tag`). */
  ref: string;
  /** Layer compression (gzip level 1 either way). */
  compression?: 'gzip' | 'estargz' | undefined;
}

/**
 * Writes an amd64 image of the given layers (gzip level 1) into `store` under `tag` and pushes
 * it to `ref`. Returns the bytes of its blobs: the layers and the config.
 */
export async function pushGeneratedImage({
  store,
  layers,
  tag,
  ref,
  compression,
}: GeneratedImageOptions): Promise<{ blobBytes: number }> {
  const added = [];
  for (const entries of layers)
    added.push(await addLayer({ store, entries, gzipLevel: 1, ...(compression ? { compression } : {}) }));
  const image = await writeImage({
    store,
    config: {
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: added.map((l) => l.diffId) },
    },
    layers: added.map((l) => l.descriptor),
    tags: [tag],
  });
  await pushImage({ store, image: tag, ref, env: registryEnv });
  return { blobBytes: image.layers.reduce((n, l) => n + l.size, 0) + image.manifest.config.size };
}
