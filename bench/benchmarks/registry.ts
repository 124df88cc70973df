/**
 * Issue 11's registry targets, against Debian's docker-registry (distribution 2.8) on loopback,
 * plain HTTP, data on tmpfs: pulling an image of 8 gzip layers (1 GiB at scale 1) into an empty
 * store vs `skopeo copy docker://… oci:…` (target ≥ 1.5×), pushing it to a new repository vs
 * `skopeo copy oci:… docker://…` (≥ 1.5×), re-pull and re-push of the unchanged image (no blob
 * bytes moved), and the peak RSS of a pull process (< 300 MiB).
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { addLayer } from '../../src/image/add-layer.js';
import { writeImage } from '../../src/image/write-image.js';
import { pullImage } from '../../src/registry/pull.js';
import { pushImage } from '../../src/registry/push.js';
import { REGISTRY_SOURCES_STATE } from '../../src/registry/sources.js';
import { openStore, type Store } from '../../src/store/store.js';
import { registryTestbedMissing, startTestbed } from '../../tests/helpers/registry-testbed.js';
import { judge, measureInterleaved, median, MiB, runChild, type Benchmark, type Row } from '../harness.js';
import { processCpuSeconds, selfCpuSeconds, timeChildCpu } from './registry-cpu.js';

const CHILD = fileURLToPath(new URL('../registry-child.ts', import.meta.url));
const env = { ...process.env, HOME: '/nonexistent-home' };
const cores = availableParallelism();

/** CPU seconds of one run: the client's and the registry's. */
interface Cpu {
  client: number;
  registry: number;
}

async function* randomFile(size: number): AsyncGenerator<Uint8Array> {
  for (let left = size; left > 0; left -= MiB) yield randomBytes(Math.min(MiB, left));
}

/** The registry benchmark. */
export const registryBenchmark: Benchmark = {
  name: 'registry',
  title: 'pull and push through a local registry vs skopeo copy (loopback, tmpfs)',
  async run(ctx) {
    const missing = registryTestbedMissing();
    if (missing) throw new Error(missing);
    const layerBytes = Math.max(4 * MiB, Math.round(128 * MiB * ctx.scale));
    const layers = 8;
    const bed = await startTestbed({ plain: true });
    const host = bed.plain!.host;
    try {
      const srcDir = join(ctx.workDir, 'src');
      const src = await openStore({ root: srcDir });
      ctx.log(`registry: making ${layers} layers of ${Math.round(layerBytes / MiB)} MiB`);
      const added = [];
      for (let i = 0; i < layers; i++) {
        added.push(
          await addLayer({
            store: src,
            gzipLevel: 1,
            entries: [
              {
                header: {
                  path: `layer${i}.bin`,
                  type: 'file',
                  mode: 0o644,
                  uid: 0,
                  gid: 0,
                  mtime: 0,
                  size: layerBytes,
                },
                data: randomFile(layerBytes),
              },
            ],
          }),
        );
      }
      const image = await writeImage({
        store: src,
        config: {
          architecture: 'amd64',
          os: 'linux',
          rootfs: { type: 'layers', diff_ids: added.map((l) => l.diffId) },
        },
        layers: added.map((l) => l.descriptor),
        tags: ['bench:1'],
      });
      const total = image.layers.reduce((n, l) => n + l.size, 0) + image.manifest.config.size;
      const mib = total / MiB;
      const ref = `${host}/bench/img:1`;
      await pushImage({ store: src, image: 'bench:1', ref, env });

      ctx.log('registry: timing pulls (layerkit in-process, layerkit process, skopeo), interleaved');
      let target: Store | undefined;
      const pullDir = join(ctx.workDir, 'pull');
      const skopeoDir = join(ctx.workDir, 'skopeo');
      let rss = 0;
      // CPU seconds per run (the warm-up's first): the client's, and the registry's meanwhile.
      const cpu = { skopeoPull: [] as Cpu[], oursPull: [] as Cpu[], skopeoPush: [] as Cpu[], oursPush: [] as Cpu[] };
      const registryPid = bed.plain!.process.pid!;
      const pulls = await measureInterleaved(ctx.runs, {
        skopeo: {
          setup: () => rmSync(skopeoDir, { recursive: true, force: true }),
          fn: async () => {
            const r0 = processCpuSeconds(registryPid);
            const run = await timeChildCpu({
              argv: ['skopeo', 'copy', '-q', '--src-tls-verify=false', `docker://${ref}`, `oci:${skopeoDir}:t`],
              env,
            });
            cpu.skopeoPull.push({ client: run.cpu, registry: processCpuSeconds(registryPid) - r0 });
            return run.seconds;
          },
        },
        ours: {
          setup: async () => {
            rmSync(pullDir, { recursive: true, force: true });
            target = await openStore({ root: pullDir });
          },
          fn: async () => {
            const r0 = processCpuSeconds(registryPid);
            const c0 = selfCpuSeconds();
            const t0 = performance.now();
            await pullImage({ store: target!, ref, env });
            const seconds = (performance.now() - t0) / 1000;
            cpu.oursPull.push({ client: selfCpuSeconds() - c0, registry: processCpuSeconds(registryPid) - r0 });
            return seconds;
          },
        },
        process: {
          setup: () => rmSync(pullDir, { recursive: true, force: true }),
          fn: async () => {
            const t0 = performance.now();
            const out = await runChild({
              argv: [process.execPath, '--import', 'tsx', CHILD, 'pull', pullDir, ref],
              env,
            });
            rss = Math.max(rss, (JSON.parse(out) as { maxRssKiB: number }).maxRssKiB / 1024);
            return (performance.now() - t0) / 1000;
          },
        },
      });
      // The store now holds the image: pulling again must move nothing.
      const again = await openStore({ root: pullDir });
      const t0 = performance.now();
      const repull = await pullImage({ store: again, ref, env });
      const repullMs = performance.now() - t0;

      ctx.log('registry: timing pushes, each to a fresh empty registry (layerkit, skopeo), interleaved');
      // An empty registry per push: neither side can skip or mount a blob (skopeo remembers
      // where it saw blobs in its own cache), so every byte is uploaded.
      let fresh: Awaited<ReturnType<typeof startTestbed>> | undefined;
      const freshRegistry = async () => {
        await fresh?.stop();
        fresh = await startTestbed({ plain: true });
        src.removeState(REGISTRY_SOURCES_STATE);
      };
      const pushes = await measureInterleaved(ctx.runs, {
        skopeo: {
          setup: freshRegistry,
          fn: async () => {
            const pid = fresh!.plain!.process.pid!;
            const r0 = processCpuSeconds(pid);
            const run = await timeChildCpu({
              argv: [
                'skopeo',
                'copy',
                '-q',
                '--dest-tls-verify=false',
                `oci:${srcDir}:bench:1`,
                `docker://${fresh!.plain!.host}/bench/img:1`,
              ],
              env,
            });
            cpu.skopeoPush.push({ client: run.cpu, registry: processCpuSeconds(pid) - r0 });
            return run.seconds;
          },
        },
        ours: {
          setup: freshRegistry,
          fn: async () => {
            const pid = fresh!.plain!.process.pid!;
            const r0 = processCpuSeconds(pid);
            const c0 = selfCpuSeconds();
            const t0 = performance.now();
            await pushImage({ store: src, image: 'bench:1', ref: `${fresh!.plain!.host}/bench/img:1`, env });
            const seconds = (performance.now() - t0) / 1000;
            cpu.oursPush.push({ client: selfCpuSeconds() - c0, registry: processCpuSeconds(pid) - r0 });
            return seconds;
          },
        },
      });
      await fresh?.stop();
      const t1 = performance.now();
      const repush = await pushImage({ store: src, image: 'bench:1', ref, env });
      const repushMs = performance.now() - t1;

      const details = { layers, layerBytes, blobBytes: total };
      // The warm-up run is each list's first.
      const cpuOf = (runs: Cpu[], key: keyof Cpu) => median(runs.slice(1).map((r) => r[key]));
      const cpuRow = (what: string, ours: Cpu[], peer: Cpu[], peerName: string): Row[] => [
        judge({
          label: `${what}: CPU seconds of the client (user + system, all threads)`,
          ours: { value: cpuOf(ours, 'client'), unit: 's' },
          peer: { value: cpuOf(peer, 'client'), unit: 's' },
          peerName,
          ratio: cpuOf(peer, 'client') / cpuOf(ours, 'client'),
          target: { kind: 'none', text: 'informational' },
          details: { ours: ours.slice(1), peer: peer.slice(1) },
        }),
        judge({
          label: `${what}: CPU seconds of the registry meanwhile`,
          ours: { value: cpuOf(ours, 'registry'), unit: 's' },
          peer: { value: cpuOf(peer, 'registry'), unit: 's' },
          peerName: `during ${peerName}`,
          target: { kind: 'none', text: 'informational' },
        }),
        judge({
          label: `${what}: client + registry CPU ÷ ${cores} cores (the least wall time possible)`,
          ours: { value: (cpuOf(ours, 'client') + cpuOf(ours, 'registry')) / cores, unit: 's' },
          peer: { value: (cpuOf(peer, 'client') + cpuOf(peer, 'registry')) / cores, unit: 's' },
          peerName,
          ratio: (cpuOf(peer, 'client') + cpuOf(peer, 'registry')) / (cpuOf(ours, 'client') + cpuOf(ours, 'registry')),
          target: { kind: 'none', text: 'informational' },
        }),
      ];
      const rows: Row[] = [
        judge({
          label: `pull ${layers} layers, ${Math.round(mib)} MiB, into an empty store (in-process)`,
          ours: { value: mib / pulls.ours.median, unit: 'MiB/s' },
          peer: { value: mib / pulls.skopeo.median, unit: 'MiB/s' },
          peerName: 'skopeo copy docker:// oci:',
          ratio: pulls.skopeo.median / pulls.ours.median,
          target: { kind: 'min-ratio', value: 1.5, text: '≥ 1.5× skopeo' },
          details: { ...details, oursSeconds: pulls.ours.runs, peerSeconds: pulls.skopeo.runs },
        }),
        ...cpuRow('pull', cpu.oursPull, cpu.skopeoPull, 'skopeo'),
        judge({
          label: 'the same pull as a process (node + tsx start-up included)',
          ours: { value: mib / pulls.process.median, unit: 'MiB/s' },
          peer: { value: mib / pulls.skopeo.median, unit: 'MiB/s' },
          peerName: 'skopeo copy docker:// oci:',
          ratio: pulls.skopeo.median / pulls.process.median,
          target: { kind: 'none', text: 'informational' },
          details: { ...details, oursSeconds: pulls.process.runs },
        }),
        judge({
          label: 'peak RSS of that pull process',
          ours: { value: rss, unit: 'MiB' },
          target: { kind: 'max', value: 300, text: '< 300 MiB' },
        }),
        judge({
          label: `push ${layers} layers, ${Math.round(mib)} MiB, to an empty registry (in-process)`,
          ours: { value: mib / pushes.ours.median, unit: 'MiB/s' },
          peer: { value: mib / pushes.skopeo.median, unit: 'MiB/s' },
          peerName: 'skopeo copy oci: docker://',
          ratio: pushes.skopeo.median / pushes.ours.median,
          target: { kind: 'min-ratio', value: 1.5, text: '≥ 1.5× skopeo' },
          details: { ...details, oursSeconds: pushes.ours.runs, peerSeconds: pushes.skopeo.runs },
        }),
        ...cpuRow('push', cpu.oursPush, cpu.skopeoPush, 'skopeo'),
        judge({
          label: 're-pull of the unchanged image: blob bytes moved',
          ours: { value: repull.bytesDownloaded, unit: 'B' },
          target: { kind: 'max', value: 0, text: '0 B' },
          details: { ms: repullMs },
        }),
        judge({
          label: 're-pull of the unchanged image: time',
          ours: { value: repullMs, unit: 'ms' },
          target: { kind: 'none', text: 'informational (HEAD + store checks)' },
        }),
        judge({
          label: 're-push of the unchanged image: blob bytes moved',
          ours: { value: repush.bytesUploaded, unit: 'B' },
          target: { kind: 'max', value: 0, text: '0 B' },
          details: { ms: repushMs },
        }),
        judge({
          label: 're-push of the unchanged image: time',
          ours: { value: repushMs, unit: 'ms' },
          target: { kind: 'none', text: 'informational (a HEAD per blob + the manifest PUT)' },
        }),
      ];
      return {
        name: 'registry',
        title: this.title,
        rows,
        notes: [
          `image: ${layers} layers, each one file of ${Math.round(layerBytes / MiB)} MiB of random bytes, gzip -1; ${Math.round(mib)} MiB of blobs`,
          'registry: docker-registry 2.8 (Debian), plain HTTP on 127.0.0.1, filesystem storage on tmpfs, started by the benchmark',
          'pull: layerkit downloads 4 blobs in parallel and verifies each digest while writing (layers are indexed on first use, not by the pull); skopeo copies the blobs into an OCI layout (digest check only); both fsync each blob before renaming it into place (skopeo: 9 fsyncs under strace), on tmpfs a no-op for both',
          'blob GETs: layerkit reads them into one reused buffer per connection (src/registry/http1.ts), not through undici streams',
          `CPU: user + system seconds from /proc (10 ms ticks); layerkit in-process counts every thread of the bench process (hashing, libuv writes), skopeo its process; the registry's is what it used during that run. On ${cores} cores shared with the registry, a transfer takes at least (client + registry CPU) / ${cores}`,
          'push: each run into a fresh, empty registry, so every blob is uploaded by both; skopeo reads the same store as an OCI layout',
          `median of ${ctx.runs} runs after one warm-up each, interleaved`,
        ],
      };
    } finally {
      await bed.stop();
    }
  },
};
