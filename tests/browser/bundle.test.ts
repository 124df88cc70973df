/**
 * The browser build in a real browser (Debian's chromium driven by playwright-core): the bundle is
 * built as the package's browser build is (scripts/browser-build.ts), served from 127.0.0.1, and
 * a page runs tests/browser/scenario.js with it: a 3-stage build from an injected context fs into
 * an in-memory store, a cached rebuild, and a rebuild after an edit. Node runs the same scenario
 * from the sources; diffIDs, config digests and the steps' outcomes and reasons must be equal.
 * Compressed layer digests may differ (fflate in the page, zlib in Node: docs/browser.md).
 *
 * In the page, every layer blob is checked with the browser's own DecompressionStream and
 * WebCrypto; the image is exported as an OCI archive into a Blob, and `podman load` must load
 * those bytes as the same image. No request may leave the page's origin.
 *
 * Skips with a message when playwright-core (a devDependency) or chromium is missing; the podman
 * check skips alone when podman is.
 */
import { chromiumSkip, launchHeadlessChromium } from '../helpers/chromium.js';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect } from 'vitest';
import { test, it } from '../helpers/fixtures.js';
import * as lk from '../../src/index.js';
import { type BrowserBuild, buildBrowser } from '../../scripts/browser-build.js';
import { hasTool, missingToolMessage } from '../helpers/tools.js';
import { runScenario, type ScenarioSummary } from './scenario.js';

/** What a page loads for `import … from 'layerkit'` (index.js and its chunks, each gzipped): at most this many bytes. */
const BUDGET_GZIP = 300_000;

const skip = chromiumSkip;

/** What page.js leaves in `window.outcome`. */
interface PageOutcome {
  results: ScenarioSummary[];
  timings: number[];
  checks: Array<{ digest: string; sha: string; diffId: string; diff: string }>;
  archive: string;
  unsupported: Array<{ call: string; code: string; message: string }>;
}

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.html': 'text/html' };

function serve(root: string): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    const path = join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    if (!path.startsWith(root) || !existsSync(path)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' });
    res.end(readFileSync(path));
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address() as { port: number };
      resolve({ server, origin: `http://127.0.0.1:${address.port}` });
    });
  });
}

describe.skipIf(skip !== undefined)(`the browser build in chromium${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let tmp: string;
  let build: BrowserBuild;
  let server: Server;
  let origin: string;
  let context: import('playwright-core').BrowserContext;
  let outcome: PageOutcome;
  let node: Awaited<ReturnType<typeof runScenario>>;
  const foreign: string[] = [];
  const errors: string[] = [];

  test.beforeAll(async ({ fileTmp }) => {
    tmp = fileTmp;
    const www = join(tmp, 'www');
    build = await buildBrowser({ outDir: join(www, 'dist') });
    for (const f of ['map-fs.js', 'scenario.js', 'page.js']) cpSync(join(import.meta.dirname, f), join(www, f));
    writeFileSync(
      join(www, 'index.html'),
      '<!doctype html><meta charset="utf-8"><title>layerkit</title><script type="module" src="page.js"></script>\n',
    );
    ({ server, origin } = await serve(www));
    context = await launchHeadlessChromium({ profileDir: join(tmp, 'chromium-profile') });
    await context.route('**/*', (route) => {
      const u = route.request().url();
      if (u.startsWith(`${origin}/`)) return route.continue();
      foreign.push(u);
      return route.abort();
    });
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${origin}/index.html`, { waitUntil: 'load' });
    // page.js sets window.outcome when its module has loaded; a module that fails to load logs an error.
    await page
      .waitForFunction('window.outcome !== undefined || document.title === "failed"', null, { timeout: 60_000 })
      .catch(() => {
        throw new Error(`the page's module did not run: ${errors.join('; ')}`);
      });
    const got = (await page.evaluate('window.outcome')) as PageOutcome | { error: string };
    if ('error' in got) throw new Error(`the page failed: ${got.error}`);
    outcome = got;
    node = await runScenario(lk);
  }, 180_000);

  afterAll(async () => {
    await context?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  it(`is at most ${BUDGET_GZIP} bytes gzipped`, () => {
    const gzipped = build.index.reduce((n, f) => n + gzipSync(readFileSync(f)).length, 0);
    expect(gzipped).toBeGreaterThan(50_000); // it is the library, not an empty shell
    expect(gzipped).toBeLessThanOrEqual(BUDGET_GZIP);
  });

  it('bundles no Node stream port and no ssri: a page moves bytes as async iterables', () => {
    const ports = build.inputs.filter((f) =>
      /\/node_modules\/(readable-stream|ssri|minipass|stream-browserify|string_decoder)\//.test(f),
    );
    expect(ports).toEqual([]);
    // node:stream resolves to nothing but the stand-in that throws ERR_UNSUPPORTED (Node-only APIs).
    const streamModules = build.inputs.filter((f) => /^[\w-]+:stream/.test(f));
    expect(streamModules.every((f) => f.startsWith('layerkit-unsupported:'))).toBe(true);
    expect(build.inputs).toContain(resolve('src/tar/writer.ts')); // the check looks at the real module list
  });

  it('bundles no tar-stream and no events port: archives are written by the TarWriter', () => {
    const packages = build.bundled.filter((f) =>
      /\/node_modules\/(tar-stream|streamx|b4a|fast-fifo|text-decoder|events-universal|events)\//.test(f),
    );
    expect(packages).toEqual([]);
    expect(build.bundled).toContain(resolve('src/tar/writer.ts')); // the check looks at the code that is there
    expect(build.bundled.some((f) => f.endsWith('/node_modules/memfs/lib/index.js'))).toBe(true);
    // memfs's FileHandle extends the page's own EventEmitter (tests/browser/events.test.ts).
    expect(build.bundled).toContain(resolve('scripts/browser-events.js'));
  });

  it('builds 3 stages, rebuilds from the cache, and names the edited file in the miss reason', () => {
    const [first, cached, edited] = outcome.results;
    expect(first!.steps.filter((s) => s.status === 'built').length).toBeGreaterThanOrEqual(7);
    expect(new Set(first!.steps.map((s) => s.stage)).size).toBe(3);
    // Every step with a layer is a hit on the rebuild (ENV and CMD only write config).
    const layered = cached!.steps.filter((s) => !/^(ENV|CMD)\b/.test(s.instruction));
    expect(layered.map((s) => s.status)).toEqual(layered.map(() => 'cached'));
    expect(cached!.digest).toBe(first!.digest);
    const copy = edited!.steps.find((s) => s.instruction === 'COPY src/ ./src/');
    expect(copy?.status).toBe('built');
    expect(copy?.reason).toContain('src/index.js');
    expect(edited!.steps.find((s) => s.instruction === 'COPY rootfs/ /')?.status).toBe('cached');
    expect(edited!.diffIds[1]).not.toBe(first!.diffIds[1]);
    expect(errors).toEqual([]);
  });

  it('checks every layer blob with DecompressionStream and WebCrypto', () => {
    expect(outcome.checks.length).toBe(9);
    for (const c of outcome.checks) {
      expect(c.sha).toBe(c.digest);
      expect(c.diff).toBe(c.diffId);
    }
  });

  it("gives the same diffIDs, config digests and step outcomes as Node's", () => {
    for (const [i, page] of outcome.results.entries()) {
      const own = node.results[i]!;
      expect(page.diffIds).toEqual(own.diffIds);
      expect(page.config).toBe(own.config);
      expect(page.steps).toEqual(own.steps);
    }
  });

  it('throws ERR_UNSUPPORTED, naming why, for what a page cannot do', () => {
    for (const u of outcome.unsupported) {
      expect(u.code, u.call).toBe('ERR_UNSUPPORTED');
      expect(u.message, u.call).toMatch(/not supported in a browser|no filesystem/);
    }
    expect(outcome.unsupported.map((u) => u.call)).toEqual([
      'openStore on disk',
      'exportImage to a path',
      'build from a context path',
      'pullImage',
      'linuxExecutor',
      'runContainer',
      'a cache folder with no fs',
    ]);
    expect(outcome.unsupported.find((u) => u.call === 'pullImage')?.message).toMatch(/undici/);
  });

  it('sends no request beyond its own origin', () => {
    expect(foreign).toEqual([]);
  });

  it.skipIf(!hasTool('podman'))(
    `exports an OCI archive into a Blob that podman loads${hasTool('podman') ? '' : ` (skipped: ${missingToolMessage('podman')})`}`,
    () => {
      const dir = join(tmp, 'podman');
      mkdirSync(join(dir, 'tmp'), { recursive: true });
      writeFileSync(
        join(dir, 'storage.conf'),
        `[storage]\ndriver = "vfs"\ngraphroot = "${dir}/root"\nrunroot = "${dir}/run"\n`,
      );
      writeFileSync(join(dir, 'containers.conf'), `[engine]\nevents_logger = "file"\ntmp_dir = "${dir}/tmp"\n`);
      const env = {
        ...process.env,
        CONTAINERS_STORAGE_CONF: join(dir, 'storage.conf'),
        CONTAINERS_CONF: join(dir, 'containers.conf'),
      };
      const archive = join(tmp, 'demo.oci.tar');
      writeFileSync(archive, Buffer.from(outcome.archive, 'base64'));
      const loaded = execFileSync('podman', ['load', '-q', '-i', archive], { env, encoding: 'utf8' });
      expect(loaded).toMatch(/Loaded image/);
      const id = execFileSync('podman', ['image', 'inspect', '--format', '{{.Id}}', 'localhost/demo:1'], {
        env,
        encoding: 'utf8',
      }).trim();
      expect(`sha256:${id}`).toBe(outcome.results[2]!.config);
    },
  );
});
