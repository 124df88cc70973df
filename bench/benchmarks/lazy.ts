/**
 * Issue 11, beyond the peers: reading one small file of an eStargz image on a local registry
 * (distribution 2.8, loopback, tmpfs) with a lazy mount, against copying the whole image with
 * `skopeo copy docker://… oci:…` and against layerkit's own pull + mount + read, interleaved; and
 * the bytes the lazy read moved (footer, TOC, one chunk per layer touched) against the image's.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { lazyRangeCache } from '../../src/registry/lazy-cache.js';
import { type LazyImageFS, mountImage } from '../../src/registry/lazy-mount.js';
import { pullImage } from '../../src/registry/pull.js';
import { openStore, type Store } from '../../src/store/store.js';
import type { LayerEntryInput } from '../../src/tar/layer-writer.js';
import { judge, measureInterleaved, MiB, timeChild, type Benchmark } from '../harness.js';
import { pushGeneratedImage, registryEnv as env, withLocalRegistry } from '../local-registry.js';

/** The lazy-mount benchmark. */
export const lazyBenchmark: Benchmark = {
  name: 'lazy',
  title: 'read one file of a remote eStargz image: lazy mount vs a full copy (loopback, tmpfs)',
  run: (ctx) =>
    withLocalRegistry(async (host) => {
      const layers = 4;
      const fileBytes = Math.max(MiB, Math.round(8 * MiB * ctx.scale));
      const filesPerLayer = 4;
      const src = await openStore({ root: join(ctx.workDir, 'src') });
      ctx.log(`lazy: making ${layers} eStargz layers of ${filesPerLayer} × ${Math.round(fileBytes / MiB)} MiB`);
      const layerEntries: LayerEntryInput[][] = [];
      for (let i = 0; i < layers; i++) {
        const entries: LayerEntryInput[] = [
          { header: { path: `l${i}`, type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: 0 } },
        ];
        for (let f = 0; f < filesPerLayer; f++) {
          entries.push({
            header: { path: `l${i}/f${f}`, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0 },
            data: randomBytes(fileBytes),
          });
        }
        if (i === layers - 1) {
          entries.push({
            header: { path: `l${i}/small`, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0 },
            data: Buffer.from('the one file we read\n'),
          });
        }
        layerEntries.push(entries);
      }
      const ref = `${host}/bench/lazy:1`;
      const { blobBytes: total } = await pushGeneratedImage({
        store: src,
        layers: layerEntries,
        tag: 'lazy:1',
        ref,
        compression: 'estargz',
      });
      const path = `/l${layers - 1}/small`;

      ctx.log('lazy: timing lazy read, layerkit pull + read, skopeo copy, interleaved');
      const skopeoDir = join(ctx.workDir, 'skopeo');
      const pullDir = join(ctx.workDir, 'pull');
      let target: Store | undefined;
      let moved = 0;
      const timings = await measureInterleaved(ctx.runs, {
        lazy: {
          setup: async () => {
            lazyRangeCache.clear();
            target = await openStore({ memory: true });
          },
          fn: async () => {
            const t0 = performance.now();
            const fs = (await mountImage({ store: target!, image: ref, lazy: true, env })) as LazyImageFS;
            await fs.readFile(path);
            const seconds = (performance.now() - t0) / 1000;
            moved = fs.bytesFetched;
            await fs.close();
            return seconds;
          },
        },
        pull: {
          setup: async () => {
            rmSync(pullDir, { recursive: true, force: true });
            target = await openStore({ root: pullDir });
          },
          fn: async () => {
            const t0 = performance.now();
            await pullImage({ store: target!, ref, env });
            const fs = await mountImage({ store: target!, image: ref, readOnly: true });
            await fs.readFile(path);
            return (performance.now() - t0) / 1000;
          },
        },
        skopeo: {
          setup: () => rmSync(skopeoDir, { recursive: true, force: true }),
          fn: () =>
            timeChild({
              argv: ['skopeo', 'copy', '-q', '--src-tls-verify=false', `docker://${ref}`, `oci:${skopeoDir}:t`],
              env,
            }),
        },
      });
      const details = { layers, filesPerLayer, fileBytes, blobBytes: total, lazyBytes: moved };
      const lazyMs = timings.lazy.median * 1000;
      return {
        name: 'lazy',
        title: lazyBenchmark.title,
        rows: [
          judge({
            label: `read one small file of a ${Math.round(total / MiB)} MiB eStargz image (lazy mount)`,
            ours: { value: lazyMs, unit: 'ms' },
            peer: { value: timings.skopeo.median * 1000, unit: 'ms' },
            peerName: 'skopeo copy docker:// oci: (the whole image)',
            ratio: timings.skopeo.median / timings.lazy.median,
            target: { kind: 'min-ratio', value: 10, text: '≥ 10× faster than copying the image' },
            details,
          }),
          judge({
            label: 'the same read after a full pull (layerkit pull + mount + read)',
            ours: { value: lazyMs, unit: 'ms' },
            peer: { value: timings.pull.median * 1000, unit: 'ms' },
            peerName: 'layerkit pull + mountImage + readFile',
            ratio: timings.pull.median / timings.lazy.median,
            target: { kind: 'none', text: 'informational' },
            details,
          }),
          judge({
            label: 'bytes the lazy read moved (footer + TOC per layer, one chunk)',
            ours: { value: moved / 1024, unit: 'KiB' },
            target: { kind: 'max', value: 64, text: '≤ 64 KiB ("a few KiB, not the image")' },
            details,
          }),
        ],
        notes: [
          `Image: ${layers} eStargz layers (gzip level 1) of ${filesPerLayer} random files of ${Math.round(fileBytes / MiB)} MiB, ${Math.round(total / MiB)} MiB of blobs; the file read is ${path} (21 bytes) in the top layer.`,
          "The lazy mount starts from an empty per-process cache each run: the manifest (one GET by tag), then the config while every layer's footer is asked for (Range GETs), then each TOC, then one chunk for the read.",
        ],
      };
    }),
};
