/**
 * Issue 11's registry targets, against Debian's docker-registry (distribution 2.8) on loopback,
 * plain HTTP, data on tmpfs: pulling an image of 8 gzip layers (1 GiB at scale 1) into an empty
 * store vs `skopeo copy docker://… oci:…` (target ≥ 1.5×), pushing it to a new repository vs
 * `skopeo copy oci:… docker://…` (≥ 1.5×), each both in-process and as whole processes of the
 * built CLI (`node dist/cli.cjs pull|push`, what `npx layerkit` runs), re-pull and re-push of the
 * unchanged image (no blob bytes moved), and the peak RSS of the CLI's pull (< 300 MiB).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { pullImage } from '../../src/registry/pull.js';
import { pushImage } from '../../src/registry/push.js';
import { REGISTRY_SOURCES_STATE } from '../../src/registry/sources.js';
import { openStore, type Store } from '../../src/store/store.js';
import { startTestbed } from '../../tests/helpers/registry-testbed.js';
import {
  CLI,
  cliEnv,
  ensureBuilt,
  judge,
  measureInterleaved,
  median,
  MiB,
  type Benchmark,
  type Row,
} from '../harness.js';
import { pushGeneratedImage, registryEnv as env, withLocalRegistry } from '../local-registry.js';
import { processCpuSeconds, selfCpuSeconds, timeChildCpu } from './registry-cpu.js';

const RSS_REPORT = fileURLToPath(new URL('../rss-report.cjs', import.meta.url));
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
  title: 'pull and push through a local registry vs skopeo copy, in-process and as CLI processes (loopback, tmpfs)',
  run: (ctx) =>
    withLocalRegistry(async (host, bed) => {
      ensureBuilt(ctx);
      const layerBytes = Math.max(4 * MiB, Math.round(128 * MiB * ctx.scale));
      const layers = 8;
      const srcDir = join(ctx.workDir, 'src');
      const src = await openStore({ root: srcDir });
      ctx.log(`registry: making ${layers} layers of ${Math.round(layerBytes / MiB)} MiB`);
      const ref = `${host}/bench/img:1`;
      const { blobBytes: total } = await pushGeneratedImage({
        store: src,
        tag: 'bench:1',
        ref,
        layers: Array.from({ length: layers }, (_, i) => [
          {
            header: { path: `layer${i}.bin`, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0, size: layerBytes },
            data: randomFile(layerBytes),
          },
        ]),
      });
      const mib = total / MiB;
      // The built CLI as a user runs it (its code cache filled by the warm-up run), with no
      // credential files; a preload reports its peak RSS at exit (bench/rss-report.cjs).
      const rssFile = join(ctx.workDir, 'rss');
      const cliRunEnv = cliEnv(ctx, true, { HOME: '/nonexistent-home', LAYERKIT_BENCH_RSS_FILE: rssFile });
      const cli = (...args: string[]) => [process.execPath, '--require', RSS_REPORT, CLI, ...args];
      const cliRss = () => Number(readFileSync(rssFile, 'utf8')) / 1024;

      ctx.log('registry: timing pulls (skopeo, layerkit in-process, the layerkit CLI), interleaved');
      let target: Store | undefined;
      const pullDir = join(ctx.workDir, 'pull');
      const skopeoDir = join(ctx.workDir, 'skopeo');
      let rss = 0;
      // CPU seconds per run (the warm-up's first): the client's, and the registry's meanwhile.
      const cpu = {
        skopeoPull: [] as Cpu[],
        oursPull: [] as Cpu[],
        cliPull: [] as Cpu[],
        skopeoPush: [] as Cpu[],
        oursPush: [] as Cpu[],
        cliPush: [] as Cpu[],
      };
      /** A child process, timed, its CPU and the registry's (pid) added to `into`. */
      const child = async (argv: string[], childEnv: NodeJS.ProcessEnv, pid: number, into: Cpu[]) => {
        const r0 = processCpuSeconds(pid);
        const run = await timeChildCpu({ argv, env: childEnv });
        into.push({ client: run.cpu, registry: processCpuSeconds(pid) - r0 });
        return run.seconds;
      };
      /** An in-process call, timed, this process's CPU and the registry's (pid) added to `into`. */
      const inProcess = async (fn: () => Promise<unknown>, pid: number, into: Cpu[]) => {
        const r0 = processCpuSeconds(pid);
        const c0 = selfCpuSeconds();
        const t0 = performance.now();
        await fn();
        const seconds = (performance.now() - t0) / 1000;
        into.push({ client: selfCpuSeconds() - c0, registry: processCpuSeconds(pid) - r0 });
        return seconds;
      };
      const registryPid = bed.plain!.process.pid!;
      const pulls = await measureInterleaved(ctx.runs, {
        skopeo: {
          setup: () => rmSync(skopeoDir, { recursive: true, force: true }),
          fn: () =>
            child(
              ['skopeo', 'copy', '-q', '--src-tls-verify=false', `docker://${ref}`, `oci:${skopeoDir}:t`],
              env,
              registryPid,
              cpu.skopeoPull,
            ),
        },
        ours: {
          setup: async () => {
            rmSync(pullDir, { recursive: true, force: true });
            target = await openStore({ root: pullDir });
          },
          fn: () => inProcess(() => pullImage({ store: target!, ref, env }), registryPid, cpu.oursPull),
        },
        cli: {
          setup: () => rmSync(pullDir, { recursive: true, force: true }),
          fn: async () => {
            const seconds = await child(cli('--store', pullDir, 'pull', ref), cliRunEnv, registryPid, cpu.cliPull);
            rss = Math.max(rss, cliRss());
            return seconds;
          },
        },
      });
      // The store now holds the image: pulling again must move nothing.
      const again = await openStore({ root: pullDir });
      const t0 = performance.now();
      const repull = await pullImage({ store: again, ref, env });
      const repullMs = performance.now() - t0;

      ctx.log('registry: timing pushes, each to a fresh empty registry (skopeo, in-process, CLI), interleaved');
      // An empty registry per push: no side can skip or mount a blob (skopeo remembers where it
      // saw blobs in its own cache, layerkit in the store's registry-sources state, removed), so
      // every byte is uploaded.
      let fresh: Awaited<ReturnType<typeof startTestbed>> | undefined;
      const freshRegistry = async () => {
        await fresh?.stop();
        fresh = await startTestbed({ plain: true });
        src.removeState(REGISTRY_SOURCES_STATE);
      };
      const freshPid = () => fresh!.plain!.process.pid!;
      const freshRef = () => `${fresh!.plain!.host}/bench/img:1`;
      const pushes = await measureInterleaved(ctx.runs, {
        skopeo: {
          setup: freshRegistry,
          fn: () =>
            child(
              ['skopeo', 'copy', '-q', '--dest-tls-verify=false', `oci:${srcDir}:bench:1`, `docker://${freshRef()}`],
              env,
              freshPid(),
              cpu.skopeoPush,
            ),
        },
        ours: {
          setup: freshRegistry,
          fn: () =>
            inProcess(
              () => pushImage({ store: src, image: 'bench:1', ref: freshRef(), env }),
              freshPid(),
              cpu.oursPush,
            ),
        },
        cli: {
          setup: freshRegistry,
          fn: () => child(cli('--store', srcDir, 'push', 'bench:1', freshRef()), cliRunEnv, freshPid(), cpu.cliPush),
        },
      }).finally(() => fresh?.stop());
      const t1 = performance.now();
      const repush = await pushImage({ store: src, image: 'bench:1', ref, env });
      const repushMs = performance.now() - t1;

      const details = { layers, layerBytes, blobBytes: total };
      // The warm-up run is each list's first.
      const cpuOf = (runs: Cpu[], key: keyof Cpu) => median(runs.slice(1).map((r) => r[key]));
      const both = (runs: Cpu[]) => cpuOf(runs, 'client') + cpuOf(runs, 'registry');
      const cpuRows = (what: string, c: { ours: Cpu[]; cli: Cpu[]; peer: Cpu[] }): Row[] => [
        judge({
          label: `${what}: CPU seconds of the CLI process (user + system, all threads)`,
          ours: { value: cpuOf(c.cli, 'client'), unit: 's' },
          peer: { value: cpuOf(c.peer, 'client'), unit: 's' },
          peerName: 'skopeo',
          ratio: cpuOf(c.peer, 'client') / cpuOf(c.cli, 'client'),
          target: { kind: 'none', text: 'informational' },
          details: { cli: c.cli.slice(1), peer: c.peer.slice(1) },
        }),
        judge({
          label: `${what}: CPU seconds in-process (the bench process, all threads)`,
          ours: { value: cpuOf(c.ours, 'client'), unit: 's' },
          peer: { value: cpuOf(c.peer, 'client'), unit: 's' },
          peerName: 'skopeo',
          ratio: cpuOf(c.peer, 'client') / cpuOf(c.ours, 'client'),
          target: { kind: 'none', text: 'informational' },
          details: { ours: c.ours.slice(1) },
        }),
        judge({
          label: `${what}: CPU seconds of the registry meanwhile (CLI runs)`,
          ours: { value: cpuOf(c.cli, 'registry'), unit: 's' },
          peer: { value: cpuOf(c.peer, 'registry'), unit: 's' },
          peerName: 'during skopeo',
          target: { kind: 'none', text: 'informational' },
        }),
        judge({
          label: `${what}: CLI + registry CPU ÷ ${cores} cores (the least wall time possible)`,
          ours: { value: both(c.cli) / cores, unit: 's' },
          peer: { value: both(c.peer) / cores, unit: 's' },
          peerName: 'skopeo',
          ratio: both(c.peer) / both(c.cli),
          target: { kind: 'none', text: 'informational' },
        }),
      ];
      const speedRow = (label: string, peerName: string, ours: number[], peer: number[]): Row => {
        const [o, p] = [median(ours), median(peer)];
        return judge({
          label,
          ours: { value: mib / o, unit: 'MiB/s' },
          peer: { value: mib / p, unit: 'MiB/s' },
          peerName,
          ratio: p / o,
          target: { kind: 'min-ratio', value: 1.5, text: '≥ 1.5× skopeo' },
          details: { ...details, oursSeconds: ours, peerSeconds: peer },
        });
      };
      const size = `${layers} layers, ${Math.round(mib)} MiB`;
      const pullPeer = 'skopeo copy docker:// oci:';
      const pushPeer = 'skopeo copy oci: docker://';
      const rows: Row[] = [
        speedRow(`pull ${size}, into an empty store: CLI process`, pullPeer, pulls.cli.runs, pulls.skopeo.runs),
        speedRow('the same pull in-process (pullImage)', pullPeer, pulls.ours.runs, pulls.skopeo.runs),
        ...cpuRows('pull', { ours: cpu.oursPull, cli: cpu.cliPull, peer: cpu.skopeoPull }),
        judge({
          label: 'peak RSS of the CLI pull process',
          ours: { value: rss, unit: 'MiB' },
          target: { kind: 'max', value: 300, text: '< 300 MiB' },
        }),
        speedRow(`push ${size}, to an empty registry: CLI process`, pushPeer, pushes.cli.runs, pushes.skopeo.runs),
        speedRow('the same push in-process (pushImage)', pushPeer, pushes.ours.runs, pushes.skopeo.runs),
        ...cpuRows('push', { ours: cpu.oursPush, cli: cpu.cliPush, peer: cpu.skopeoPush }),
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
      const f = (s: number) => `${(s * 1000).toFixed(0)} ms`;
      return {
        name: 'registry',
        title: registryBenchmark.title,
        rows,
        notes: [
          `image: ${layers} layers, each one file of ${Math.round(layerBytes / MiB)} MiB of random bytes, gzip -1; ${Math.round(mib)} MiB of blobs`,
          'registry: docker-registry 2.8 (Debian), plain HTTP on 127.0.0.1, filesystem storage on tmpfs, started by the benchmark',
          `CLI process: \`node dist/cli.cjs --store DIR pull REF\` and \`push IMAGE REF\`, the built package as \`npx layerkit\` runs it (progress as plain lines, stderr piped), with its code cache and without NODE_EXTRA_CA_CERTS (bench/harness.ts cliEnv); a preload of a few lines (bench/rss-report.cjs) records its peak RSS at exit. Beyond the in-process call it pays Node's start, loading the CLI and opening the store: ${f(median(pulls.cli.runs) - median(pulls.ours.runs))} (pull) and ${f(median(pushes.cli.runs) - median(pushes.ours.runs))} (push) here`,
          'pull: layerkit downloads 4 blobs in parallel and verifies each digest while writing (layers are indexed on first use, not by the pull); skopeo copies the blobs into an OCI layout (digest check only); both fsync each blob before renaming it into place (skopeo: 9 fsyncs under strace), on tmpfs a no-op for both',
          'blob GETs: layerkit reads them into one reused buffer per connection (src/registry/http1.ts), not through undici streams',
          `CPU: user + system seconds from /proc (10 ms ticks); a CLI process and skopeo through sh's cutime/cstime, in-process every thread of the bench process; the registry's is what it used during that run. On ${cores} cores shared with the registry, a transfer takes at least (client + registry CPU) / ${cores}`,
          'push: each run into a fresh, empty registry, so every blob is uploaded by all three; skopeo reads the same store as an OCI layout',
          `median of ${ctx.runs} runs after one warm-up each, interleaved`,
        ],
      };
    }),
};
