/**
 * The HTML explain report in a real headless browser (Debian's chromium driven by
 * playwright-core): it renders, its key parts are there and drawn to scale, its script works, it
 * logs no console error and requests nothing but its own file. Saves a screenshot to
 * test-artifacts/explain.png for a human to look at.
 *
 * Skips with a message when playwright-core (a devDependency) or chromium is missing.
 */
import { chromiumSkip, launchHeadlessChromium } from '../helpers/chromium.js';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect } from 'vitest';
import { test, it } from '../helpers/fixtures.js';
import { analyzeImage, openStore, renderExplainHtml, type ImageAnalysis } from '../../src/index.js';
import { buildDemoImage } from './demo-image.js';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

const skip = chromiumSkip;

describe.skipIf(skip !== undefined)(`explain --html in chromium${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let tmp: string;
  let analysis: ImageAnalysis;
  let url: string;
  let context: import('playwright-core').BrowserContext;
  let page: import('playwright-core').Page;
  const requests: string[] = [];
  const consoleErrors: string[] = [];

  test.beforeAll(async ({ fileTmp }) => {
    tmp = fileTmp;
    const store = await openStore({ memory: true });
    await buildDemoImage({ store, dir: join(tmp, 'ctx') });
    analysis = await analyzeImage({ store, image: 'demo:1' });
    const file = join(tmp, 'explain.html');
    writeFileSync(file, renderExplainHtml(analysis));
    url = pathToFileURL(file).href;
    context = await launchHeadlessChromium({
      profileDir: join(tmp, 'chromium-profile'),
      viewport: { width: 1280, height: 900 },
    });
    // Record every request; let only the page's own file through.
    await context.route('**/*', (route) => {
      const u = route.request().url();
      return u === url || u.startsWith('data:') ? route.continue() : route.abort();
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('request', (r) => requests.push(r.url()));
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    await page.goto(url, { waitUntil: 'load' });
  }, 120_000);

  afterAll(async () => {
    await context?.close();
  });

  it('renders the page with its title and summary', async () => {
    expect(await page.title()).toBe('demo:1 — layerkit explain');
    await expect(page.locator('h1').textContent()).resolves.toBe('demo:1');
    await expect(page.locator('#card-efficiency svg.gauge').count()).resolves.toBe(1);
    const gauge = await page.locator('#card-efficiency svg.gauge text').textContent();
    expect(gauge).toMatch(/^[0-9.]+%$/);
    expect((await page.locator('body').boundingBox())!.height).toBeGreaterThan(2000);
  });

  it('draws one bar per layer, to scale', async () => {
    const bars = page.locator('svg.stack a.bar');
    await expect(bars.count()).resolves.toBe(analysis.layers.length);
    const widths = new Map<number, number>();
    for (const l of analysis.layers) {
      const bar = page.locator(`svg.stack a.bar[data-layer="${l.index}"]`);
      let w = 0;
      for (const sel of ['rect.kept', 'rect.wasted']) {
        const r = bar.locator(sel);
        if ((await r.count()) > 0) w += (await r.boundingBox())!.width;
      }
      widths.set(l.index, w);
    }
    const largest = analysis.layers.reduce((a, b) => (b.size > a.size ? b : a));
    for (const l of analysis.layers) {
      if (l.size / largest.size < 0.05) continue; // tiny layers get a minimum width to stay visible
      expect(widths.get(l.index)! / widths.get(largest.index)!).toBeCloseTo(l.size / largest.size, 2);
    }
    // The layer whose every byte is deleted later is hatched all along.
    const deleted = analysis.layers.find((l) => l.wastedBytes === l.size && l.size > 0)!;
    await expect(page.locator(`svg.stack a.bar[data-layer="${deleted.index}"] rect.wasted`).count()).resolves.toBe(1);
  });

  it('lists each layer’s added, modified and deleted files', async () => {
    await expect(page.locator('details.layer').count()).resolves.toBe(analysis.layers.length);
    for (const l of analysis.layers) {
      for (const kind of ['added', 'modified', 'deleted'] as const) {
        await expect(page.locator(`#layer-${l.index} .col.${kind} li[data-path]`).count()).resolves.toBe(
          l[kind].length,
        );
      }
    }
    await expect(
      page.locator('#layer-5 .col.deleted li[data-path="/srv/www/a.html"]').textContent(),
    ).resolves.toContain('opaque /srv/www');
  });

  it('shows the waste table, the cache section and the stage graph', async () => {
    await expect(page.locator('table.waste tbody tr').count()).resolves.toBe(analysis.waste.paths.length);
    await expect(page.locator('table.waste tbody tr').first().textContent()).resolves.toContain(
      '/var/cache/pkg/index.txt',
    );
    await expect(page.locator('#cache table.steps tbody tr').count()).resolves.toBe(analysis.build!.steps.length);
    await expect(page.locator('#cache .badge.miss').count()).resolves.toBe(5);
    await expect(page.locator('#cache .badge.hit').count()).resolves.toBe(5);
    await expect(page.locator('#cache .reasons li').first().textContent()).resolves.toContain('src/util.js');
    await expect(page.locator('svg.stages g.stage').count()).resolves.toBe(4);
    await expect(page.locator('svg.stages g.stage.skipped').getAttribute('data-stage')).resolves.toBe('test');
    await expect(page.locator('svg.stages g.stage.target').getAttribute('data-stage')).resolves.toBe('stage-3');
    await expect(page.locator('svg.stages path.edge.copy').count()).resolves.toBe(1);
    await expect(page.locator('svg.stages path.edge.from').count()).resolves.toBe(3);
  });

  it('its script filters files and opens the layer a bar points at', async () => {
    // Each click and fill is followed by polling the page until it shows the outcome (or the poll
    // times out): the page reacts in its own tasks (a bar is a link, its layer opens on the
    // `hashchange` that follows the click), which a loaded machine can delay past an immediate read.
    const poll = <T>(read: () => Promise<T>) => expect.poll(read, { timeout: 15_000, interval: 50 });
    const openLayers = () => page.locator('details.layer[open]').count();
    await page.locator('#collapse-all').click();
    await poll(openLayers).toBe(0);
    await page.locator('svg.stack a.bar[data-layer="4"]').click();
    await poll(() => page.locator('#layer-4').getAttribute('open')).toBe('');
    await poll(openLayers).toBe(1);
    await page.locator('#file-filter').fill('bundle');
    await poll(() => page.locator('details.layer:visible').count()).toBe(1);
    await poll(() => page.locator('#layer-4 li[data-path="/app/bundle.js"]').isVisible()).toBe(true);
    await page.locator('#file-filter').fill('');
    await poll(() => page.locator('details.layer:visible').count()).toBe(analysis.layers.length);
    await page.locator('#expand-all').click();
    await poll(openLayers).toBe(analysis.layers.length);
    await page.evaluate('window.scrollTo(0, 0)');
  });

  it('logs no console errors and requests nothing but its own file', async () => {
    expect(consoleErrors).toEqual([]);
    expect([...new Set(requests)]).toEqual([url]);
  });

  it('saves a screenshot to test-artifacts/explain.png', async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const path = join(ARTIFACTS, 'explain.png');
    await page.screenshot({ path, fullPage: true });
    expect(existsSync(path)).toBe(true);
  });
});
