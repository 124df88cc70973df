/**
 * The playground in Chromium, side by side with Node in one run (issue 13's performance targets):
 *
 * 1. What the page loads (index.html, style.css, main.js and the worker, which holds layerkit's
 *    browser build), gzipped at level 6 as a server would send it: at most 300 KB.
 * 2. Page ready: from the start of navigation until the worker says layerkit is loaded and the
 *    store is open with the base image in it (the page's own `performance.now()`): at most 1.5 s.
 * 3. A fully cached rebuild of the playground's default Dockerfile: under 50 ms in the page.
 * 4. A cold build of it (a fresh store, so no cache; JIT warm): under 500 ms in the page.
 * 5. The same build in the page at most 3× its time in Node.
 *
 * Both sides run the same code (playground/src/engine.ts: build, analyse, render the explain page)
 * on the same files; in the page it runs in the playground's worker and is timed from the page
 * around the message round trip; in Node it runs in-process on the sources. Interleaved runs,
 * medians. Skipped with a note when chromium or playwright-core is missing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as layerkit from '../../src/index.js';
import { buildPlayground, layerkitBrowserBuild } from '../../playground/build.js';
import { openPlayground, type BuildRequest, type Playground } from '../../playground/src/engine.js';
import { DEFAULT_PRESET } from '../../playground/src/presets.js';
import { servePlayground } from '../../playground/serve.js';
import { missingToolMessage } from '../../tests/helpers/tools.js';
import { judge, median, type BenchContext, type Benchmark, type BenchResult, type Row } from '../harness.js';

const CHROMIUM = '/usr/bin/chromium';
const KB = 1000;

/** Timings in ms, measured in the page: fresh-store cold builds and fully cached rebuilds, interleaved. */
interface PageTimings {
  cold: number[];
  cached: number[];
}

/**
 * Runs in the page (as source text: a function serialised from here would carry the helpers tsx
 * adds): drives the playground's worker directly and times each build's round trip, after a reset
 * (a cold build on a fresh store) and again (fully cached). One warm-up round, then `runs`.
 */
const TIME_IN_PAGE = `async ({ request, runs }) => {
  const worker = new Worker('worker.js', { type: 'module' });
  const next = (type) =>
    new Promise((resolve, reject) => {
      const on = (e) => {
        if (e.data.type === 'error') reject(new Error(e.data.error.message));
        if (e.data.type !== type) return;
        worker.removeEventListener('message', on);
        resolve();
      };
      worker.addEventListener('message', on);
    });
  let id = 0;
  const build = async () => {
    const t0 = performance.now();
    const done = next('done');
    worker.postMessage({ type: 'build', id: ++id, request });
    await done;
    return performance.now() - t0;
  };
  await next('ready');
  const out = { cold: [], cached: [] };
  for (let i = 0; i <= runs; i++) {
    const ready = next('ready');
    worker.postMessage({ type: 'reset' });
    await ready;
    const cold = await build();
    const cached = await build();
    if (i > 0) {
      out.cold.push(cold);
      out.cached.push(cached);
    }
  }
  worker.terminate();
  return out;
}`;

async function timeInNode(request: BuildRequest, runs: number): Promise<PageTimings> {
  const out: PageTimings = { cold: [], cached: [] };
  for (let i = 0; i <= runs; i++) {
    const playground: Playground = await openPlayground({ layerkit });
    let t0 = performance.now();
    await playground.build(request);
    const cold = performance.now() - t0;
    t0 = performance.now();
    await playground.build(request);
    const cached = performance.now() - t0;
    if (i > 0) {
      out.cold.push(cold);
      out.cached.push(cached);
    }
  }
  return out;
}

async function run(ctx: BenchContext): Promise<BenchResult> {
  const title = 'the playground in Chromium vs the same code in Node';
  let playwright: typeof import('playwright-core') | undefined;
  try {
    playwright = await import('playwright-core');
  } catch {
    playwright = undefined;
  }
  const missing = !existsSync(CHROMIUM)
    ? missingToolMessage('chromium')
    : playwright === undefined
      ? 'playwright-core is not installed'
      : undefined;
  if (missing !== undefined) return { name: 'browser', title, rows: [], notes: [`skipped: ${missing}`] };

  ctx.log('browser: building layerkit for browsers and the playground');
  const lib = await layerkitBrowserBuild({ scratch: join(ctx.workDir, 'layerkit') });
  const site = await buildPlayground({ outDir: join(ctx.workDir, 'site'), layerkit: lib });
  const files = ['index.html', 'style.css', 'main.js', 'worker.js'];
  const gzipped = files.reduce((n, f) => n + gzipSync(readFileSync(join(site, f)), { level: 6 }).length, 0);
  const raw = files.reduce((n, f) => n + readFileSync(join(site, f)).length, 0);

  const server = await servePlayground({ dir: site });
  const browser = await playwright!.chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
  const runs = Math.max(5, ctx.runs);
  const request: BuildRequest = { files: DEFAULT_PRESET.files, dockerfile: DEFAULT_PRESET.dockerfile };
  try {
    ctx.log('browser: page ready');
    const readyMs: number[] = [];
    for (let i = 0; i <= runs; i++) {
      const page = await browser.newPage();
      await page.goto(server.url);
      const ms = Number(await (await page.waitForSelector('body[data-ready]')).getAttribute('data-ready'));
      if (i > 0) readyMs.push(ms); // the first load also warms the browser's disk cache of nothing: no-store
      await page.close();
    }
    ctx.log('browser: builds in the page and in Node');
    const page = await browser.newPage();
    await page.goto(server.url);
    await page.waitForSelector('body[data-ready]');
    const inPage = (await page.evaluate(`(${TIME_IN_PAGE})(${JSON.stringify({ request, runs })})`)) as PageTimings;
    const inNode = await timeInNode(request, runs);
    await page.close();

    const ms = (values: number[]) => ({ value: median(values), unit: 'ms' });
    const rows: Row[] = [
      judge({
        label: 'bundle the page loads, gzipped',
        ours: { value: gzipped / KB, unit: 'KB' },
        target: { kind: 'max', value: 300, text: '≤ 300 KB' },
        details: { files, rawBytes: raw, gzipBytes: gzipped },
      }),
      judge({
        label: 'page ready (layerkit loaded, store open)',
        ours: ms(readyMs),
        target: { kind: 'max', value: 1500, text: '≤ 1.5 s' },
        details: { runsMs: readyMs },
      }),
      judge({
        label: 'fully cached rebuild of the default Dockerfile, in the page',
        ours: ms(inPage.cached),
        peer: ms(inNode.cached),
        peerName: 'Node',
        ratio: median(inPage.cached) / median(inNode.cached),
        target: { kind: 'max', value: 50, text: '< 50 ms' },
        details: { pageMs: inPage.cached, nodeMs: inNode.cached },
      }),
      judge({
        label: 'cold build of the default Dockerfile, in the page',
        ours: ms(inPage.cold),
        peer: ms(inNode.cold),
        peerName: 'Node',
        ratio: median(inPage.cold) / median(inNode.cold),
        target: { kind: 'max', value: 500, text: '< 500 ms' },
        details: { pageMs: inPage.cold, nodeMs: inNode.cold },
      }),
      judge({
        label: 'the same cold build: page time / Node time',
        ours: ms(inPage.cold),
        peer: ms(inNode.cold),
        peerName: 'Node',
        ratio: median(inPage.cold) / median(inNode.cold),
        target: { kind: 'max-ratio', value: 3, text: '≤ 3× Node' },
      }),
    ];
    return {
      name: 'browser',
      title,
      rows,
      notes: [
        `Chromium ${browser.version()} headless; ${runs} measured runs after one warm-up, medians.`,
        'A build here is what the playground does per click: build the default Dockerfile (3 stages, 10 filesystem steps built, the test stage skipped), analyse the image and render the explain page.',
        'Page figures are timed in the page around the worker round trip; Node runs the same engine in-process on the sources.',
        `Bundle: ${files.join(', ')}, ${Math.round(raw / KB)} KB raw.`,
      ],
    };
  } finally {
    await browser.close();
    await server.close();
  }
}

/** The browser benchmark (`npm run bench -- browser`). */
export const browserBenchmark: Benchmark = {
  name: 'browser',
  title: 'the playground in Chromium vs the same code in Node',
  run,
};
