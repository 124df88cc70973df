/**
 * Issue 11's remote-cache target, against Debian's docker-registry (distribution 2.8) on loopback,
 * data on tmpfs: machine A builds a two-stage Dockerfile and exports its cache
 * (`--cache-to type=registry,mode=max`); then machine B builds the same context from an empty
 * store, once with `--cache-from` (every step served by A's cache: keys computed, records looked
 * up, layers pulled and verified, the image written) and once without (every step runs). Target:
 * the served build at least 5× faster than the cold one, in-process (`build()`) and as whole CLI
 * processes (`node dist/cli.cjs build`). The RUN steps stand for work a CI build does (an install,
 * a bundle): shell loops in the virtual shell, so the benchmark needs neither root nor a base image.
 * Also: re-exporting the unchanged cache sends no blob bytes.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from '../../src/builder/build.js';
import type { BuildOptions } from '../../src/builder/types.js';
import { createVirtualShell } from '../../src/shell/executor.js';
import { openStore } from '../../src/store/store.js';
import { CLI, ensureBuilt, judge, measureInterleaved, timeChild, type Benchmark, type Row } from '../harness.js';
import { registryEnv, withLocalRegistry } from '../local-registry.js';

const env = { ...registryEnv, NO_COLOR: '1' };

/** A CI-like build: an install step, sources, a bundle step, and a slim final stage. */
const DOCKERFILE = `FROM scratch AS deps
COPY package.txt /package.txt
RUN i=0; while [ $i -lt 40000 ]; do echo "module-$i $(cat /package.txt)"; i=$((i+1)); done > /deps.txt
FROM deps AS bundle
COPY src/ /src/
RUN for f in /src/*.js; do j=0; while [ $j -lt 400 ]; do cat $f; j=$((j+1)); done; done > /bundle.js
FROM scratch
COPY --from=deps /deps.txt /app/deps.txt
COPY --from=bundle /bundle.js /app/bundle.js
`;

/** The remote-cache benchmark. */
export const remoteCacheBenchmark: Benchmark = {
  name: 'remote-cache',
  title: "a build on machine B served by machine A's remote cache vs the same build from an empty cache",
  run: (ctx) =>
    withLocalRegistry(async (host) => {
      ensureBuilt(ctx);
      const context = join(ctx.workDir, 'context');
      mkdirSync(join(context, 'src'), { recursive: true });
      writeFileSync(join(context, 'Dockerfile'), DOCKERFILE);
      writeFileSync(join(context, 'package.txt'), 'left-pad@1.3.0 lodash@4.17.21\n');
      const files = Math.max(10, Math.round(40 * ctx.scale));
      for (let i = 0; i < files; i++)
        writeFileSync(join(context, 'src', `m${i}.js`), `export const m${i} = ${JSON.stringify('x'.repeat(200))};\n`);
      const cache = `${host}/bench/cache`;
      const registry = { env };
      const options = (store: BuildOptions['store']): BuildOptions => ({
        store,
        context,
        executor: createVirtualShell(),
        registry,
      });
      ctx.log('remote-cache: machine A builds and exports its cache');
      const a = await openStore({ root: join(ctx.workDir, 'machine-a') });
      const exportA = async () => {
        let sent = -1;
        await build({
          ...options(a),
          cacheTo: [{ type: 'registry', ref: cache, mode: 'max' }],
          onEvent: (e) => {
            if (e.type === 'cache-export') sent = e.bytesUploaded;
          },
        });
        return sent;
      };
      const firstExport = await exportA();
      const reExport = await exportA();

      const b = join(ctx.workDir, 'machine-b');
      const fresh = () => rmSync(b, { recursive: true, force: true });
      let servedSteps: string[] = [];
      const cli = ['--store', b, 'build', '-q', '--executor', 'shell'];
      ctx.log('remote-cache: timing machine B (cold, served; in-process and CLI), interleaved');
      const t = await measureInterleaved(ctx.runs, {
        cold: {
          setup: fresh,
          fn: async () => {
            await build(options(await openStore({ root: b })));
          },
        },
        served: {
          setup: fresh,
          fn: async () => {
            const r = await build({
              ...options(await openStore({ root: b })),
              cacheFrom: [{ type: 'registry', ref: cache }],
            });
            servedSteps = r.steps.filter((s) => !s.metadata && s.step !== undefined).map((s) => s.status);
          },
        },
        coldCli: {
          setup: fresh,
          fn: () => timeChild({ argv: [process.execPath, CLI, ...cli, context], env }),
        },
        servedCli: {
          setup: fresh,
          fn: () => timeChild({ argv: [process.execPath, CLI, ...cli, '--cache-from', cache, context], env }),
        },
      });
      if (servedSteps.length === 0 || servedSteps.some((s) => s !== 'cached'))
        throw new Error(`the served build did not hit every step: ${servedSteps.join(', ')}`);
      const details = { files, steps: servedSteps.length, firstExportBytes: firstExport };
      const rows: Row[] = [
        judge({
          label: `build on machine B fully served by A's remote cache (${servedSteps.length} steps, in-process)`,
          ours: { value: t.served.median * 1000, unit: 'ms' },
          peer: { value: t.cold.median * 1000, unit: 'ms' },
          peerName: 'the same build from an empty cache',
          ratio: t.cold.median / t.served.median,
          target: { kind: 'min-ratio', value: 5, text: '≥ 5× faster' },
          details: { ...details, oursSeconds: t.served.runs, peerSeconds: t.cold.runs },
        }),
        judge({
          label: 'the same, whole CLI processes (layerkit build --cache-from)',
          ours: { value: t.servedCli.median * 1000, unit: 'ms' },
          peer: { value: t.coldCli.median * 1000, unit: 'ms' },
          peerName: 'layerkit build from an empty cache',
          ratio: t.coldCli.median / t.servedCli.median,
          target: { kind: 'min-ratio', value: 5, text: '≥ 5× faster' },
          details: { ...details, oursSeconds: t.servedCli.runs, peerSeconds: t.coldCli.runs },
        }),
        judge({
          label: 're-export of the unchanged cache: blob bytes sent',
          ours: { value: reExport, unit: 'B' },
          target: { kind: 'max', value: 0, text: '0 B' },
        }),
      ];
      return {
        name: 'remote-cache',
        title: remoteCacheBenchmark.title,
        rows,
        notes: [
          `Dockerfile: 3 stages, 2 RUN steps (shell loops standing for an install and a bundle, virtual shell), ${files} source files; registry: docker-registry on loopback, plain HTTP.`,
          'Served: an empty store with --cache-from (keys computed from the files, records looked up, layers pulled and verified). Cold: an empty store, no cache.',
        ],
      };
    }),
};
