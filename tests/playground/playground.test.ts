/**
 * The playground page in a real browser (Debian's chromium driven by playwright-core), used the way
 * a person uses it: open a lesson preset, Build, edit a file, Rebuild, and read from the page which
 * steps missed and why; add and delete files, pick the base image, build a multi-stage preset and
 * read the explain report it shows. The page is built from layerkit's browser build and served from
 * 127.0.0.1; every request is routed, and none may leave the page's origin. No console errors.
 * Screenshots go to test-artifacts/playground/ (the path is printed).
 *
 * Skips with a message when playwright-core (a devDependency) or chromium is missing.
 */
import { chromiumSkip, launchHeadlessChromium } from '../helpers/chromium.js';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect } from 'vitest';
import { test, it } from '../helpers/fixtures.js';
import { buildPlayground, layerkitBrowserBuild } from '../../playground/build.js';
import { lessonPresets } from '../../playground/lessons.js';
import { servePlayground } from '../../playground/serve.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ARTIFACTS = join(ROOT, 'test-artifacts', 'playground');

const skip = chromiumSkip;

describe.skipIf(skip !== undefined)(`the playground in chromium${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let tmp: string;
  let server: { url: string; close: () => Promise<void> };
  let context: import('playwright-core').BrowserContext;
  let page: import('playwright-core').Page;
  const requests: string[] = [];
  const elsewhere: string[] = [];
  const consoleErrors: string[] = [];
  let builds = 0;

  /** Presses a button and waits until the page shows that build's end. */
  const press = async (button: 'build' | 'rebuild' | 'export-a' | 'build-b' | 'rebuild-b') => {
    builds++;
    await page.locator(`#${button}`).click();
    await page.locator(`body[data-built="${builds}"]`).waitFor({ timeout: 60_000 });
  };
  /** The progress rows as the page shows them: label, status, miss reasons. */
  const rows = async () =>
    page.locator('#progress li.step').evaluateAll((lis) =>
      lis.map((li) => ({
        label: li.querySelector('.label')?.textContent?.trim() ?? '',
        instruction: li.querySelector('.instruction')?.textContent ?? '',
        status: li.querySelector('.status')?.textContent ?? '',
        source: li.querySelector('.source')?.textContent?.trim() ?? '',
        reasons: [...li.querySelectorAll('.reasons li')].map((r) => r.textContent ?? ''),
      })),
    );
  const row = async (start: string) => {
    const found = (await rows()).filter((r) => r.instruction.startsWith(start));
    expect(found, `one progress row for ${start}`).toHaveLength(1);
    return found[0]!;
  };
  /** Opens a file of the tree and types at its end, as a person would. */
  const appendToFile = async (path: string, text: string) => {
    await page.locator(`#tree li[data-path="${path}"] button`).click();
    await expect(page.locator('#editing').textContent()).resolves.toBe(path);
    await page.locator('#editor').focus();
    await page.keyboard.press('Control+End');
    await page.keyboard.type(text);
  };
  const shot = async (name: string) => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const path = join(ARTIFACTS, `${name}.png`);
    await page.screenshot({ path, fullPage: true });
    process.stdout.write(`playground screenshot: ${path}\n`);
    expect(existsSync(path)).toBe(true);
  };

  test.beforeAll(async ({ fileTmp }) => {
    tmp = fileTmp;
    const layerkit = await layerkitBrowserBuild({ scratch: join(tmp, 'layerkit') });
    const site = await buildPlayground({ outDir: join(tmp, 'site'), layerkit });
    server = await servePlayground({ dir: site });
    const origin = new URL(server.url).origin;
    context = await launchHeadlessChromium({
      profileDir: join(tmp, 'chromium-profile'),
      viewport: { width: 1400, height: 1000 },
    });
    // Every request is routed: the page's own origin goes through, anything else is recorded and refused.
    await context.route('**/*', (route) => {
      const u = route.request().url();
      requests.push(u);
      if (new URL(u).origin === origin || u.startsWith('data:')) return route.continue();
      elsewhere.push(u);
      return route.abort();
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    page.on('worker', (w) => w.on('console', (m) => m.type() === 'error' && consoleErrors.push(`worker: ${m.text()}`)));
    await page.goto(server.url, { waitUntil: 'load' });
    await page.locator('body[data-ready]').waitFor({ timeout: 60_000 });
  }, 240_000);

  afterAll(async () => {
    await context?.close();
    await server?.close();
  });

  it('loads layerkit in a worker and opens the default preset', async () => {
    await expect(page.locator('#status').textContent()).resolves.toMatch(/^ready: .* in \d+ ms$/);
    await expect(page.locator('#lesson-title').textContent()).resolves.toBe('Playground: three stages');
    await expect(page.locator('#editor').inputValue()).resolves.toContain('FROM busybox AS builder');
    // Line numbers follow the text.
    const lines = (await page.locator('#editor').inputValue()).split('\n').length;
    await expect(page.locator('#gutter').textContent()).resolves.toBe(
      Array.from({ length: lines }, (_, i) => i + 1).join('\n'),
    );
  });

  it('offers every lesson of examples/ as a preset', async () => {
    const lessons = lessonPresets(join(ROOT, 'examples'));
    const folders = readdirSync(join(ROOT, 'examples')).filter((d) => existsSync(join(ROOT, 'examples', d, 'run.mjs')));
    expect(lessons.map((l) => l.id).sort()).toEqual(folders.sort());
    // A lesson about what a page cannot run says so, and says what stays in the Node lesson.
    const container = lessons.find((l) => l.id === 'a-container-is-a-process')!;
    expect(container.task).toMatch(/runc/);
    expect(container.files.map((f) => f.path)).toContain('heap.sh'); // the lesson's own script, not a copy
    const shared = lessons.find((l) => l.id === 'shared-build-cache')!;
    expect(shared.files.find((f) => f.path === 'Dockerfile')!.text).toContain('COPY --from=build /app /app');
    const options = await page
      .locator('#preset option')
      .evaluateAll((os) => os.map((o) => (o as unknown as { value: string }).value));
    expect(options).toEqual(['playground', ...lessons.map((l) => l.id)]);
  });

  it('layer caching: after an edit, the miss names the file and the unchanged steps are CACHED', async () => {
    await page.locator('#preset').selectOption('layer-caching');
    await expect(page.locator('#lesson-task').textContent()).resolves.toContain('src/index.js');
    await expect(page.locator('#dockerfile').inputValue()).resolves.toBe('Dockerfile.naive');
    await press('build');
    for (const r of await rows()) {
      if (r.status === 'DONE' && r.reasons.length > 0)
        expect(r.reasons).toEqual(['miss: no earlier build of this step']);
    }
    await expect(row('WORKDIR /app').then((r) => r.status)).resolves.toBe('DONE');

    await press('rebuild');
    for (const r of await rows())
      expect(r.status, r.instruction).toBe(r.instruction.startsWith('FROM') ? 'DONE' : 'CACHED');

    await appendToFile('src/index.js', 'console.log("edited in the page");\n');
    await press('rebuild');
    const workdir = await row('WORKDIR /app');
    expect(workdir.status).toBe('CACHED');
    // BuildKit's numbering: FROM is 1 of 4.
    await expect(row('FROM hello').then((r) => r.label)).resolves.toBe('[stage-0 1/4]');
    expect(workdir.label).toBe('[stage-0 2/4]');
    const copy = await row('COPY . .');
    expect(copy.status).toBe('DONE');
    expect(copy.reasons.join('\n')).toMatch(/src\/index\.js modified: content/);
    const install = await row('RUN mkdir -p node_modules');
    expect(install.status).toBe('DONE');
    expect(install.reasons.join('\n')).toContain('parent layer changed');
    // The report in the page says the same.
    const report = page.frameLocator('#report');
    await expect(report.locator('#cache .reasons li').first().textContent()).resolves.toContain('src/index.js');
    await expect(report.locator('#cache .badge.hit').count()).resolves.toBeGreaterThan(0);
    await shot('layer-caching-after-edit');
  });

  it('the ordered Dockerfile keeps the install cached when a source file changes', async () => {
    await page.locator('#dockerfile').selectOption('Dockerfile.ordered');
    await press('rebuild');
    await appendToFile('src/index.js', '// one more\n');
    await press('rebuild');
    await expect(row('RUN mkdir -p node_modules').then((r) => r.status)).resolves.toBe('CACHED');
    await expect(row('COPY package.json ./').then((r) => r.status)).resolves.toBe('CACHED');
    const copy = await row('COPY src/ ./src/');
    expect(copy.status).toBe('DONE');
    expect(copy.reasons.join('\n')).toContain('src/index.js modified');
  });

  it('adding and deleting files: the miss says added, then removed; .dockerignore keeps a file out', async () => {
    await page.locator('#new-path').fill('src/util.js');
    await page.locator('#add-form button').click();
    await expect(page.locator('#editing').textContent()).resolves.toBe('src/util.js');
    await page.locator('#editor').focus();
    await page.keyboard.type('export const x = 1;\n');
    await press('rebuild');
    await expect(row('COPY src/ ./src/').then((r) => r.reasons.join('\n'))).resolves.toContain('src/util.js added');

    // Deleted again: the files are what they were two builds ago, and so is the key: a hit.
    await page.locator('#delete-file').click();
    await expect(page.locator('#tree li[data-path="src/util.js"]').count()).resolves.toBe(0);
    await press('rebuild');
    await expect(row('COPY src/ ./src/').then((r) => r.status)).resolves.toBe('CACHED');
    // A file the step always had, deleted (and another added): a miss that says both.
    await page.locator('#new-path').fill('src/main.js');
    await page.locator('#add-form button').click();
    await page.keyboard.type('console.log("main");\n');
    await page.locator('#tree li[data-path="src/index.js"] button').click();
    await page.locator('#delete-file').click();
    await press('rebuild');
    const reasons = await row('COPY src/ ./src/').then((r) => r.reasons);
    expect(reasons).toEqual(expect.arrayContaining(['miss: src/index.js removed', 'miss: src/main.js added']));

    // Ignored: a new log file under src/ changes nothing.
    await appendToFile('.dockerignore', 'src/*.log\n');
    await page.locator('#new-path').fill('src/debug.log');
    await page.locator('#add-form button').click();
    await page.keyboard.type('noise');
    await press('rebuild');
    await expect(row('COPY src/ ./src/').then((r) => r.status)).resolves.toBe('CACHED');
  });

  it('the base image choice rewrites the FROM of the Dockerfile, and the next step misses on it', async () => {
    await page.locator('#tree li[data-path="Dockerfile.ordered"] button').click();
    await expect(page.locator('#base').inputValue()).resolves.toBe('hello');
    await page.locator('#base').selectOption('scratch');
    await expect(page.locator('#editor').inputValue()).resolves.toMatch(/^(#.*\n)*FROM scratch\n/);
    await press('rebuild');
    const workdir = await row('WORKDIR /app');
    expect(workdir.status).toBe('DONE');
    expect(workdir.reasons.join('\n')).toMatch(/base image changed/);
    // busybox is the image the lessons call hello: the same layers, so the cache holds.
    await page.locator('#base').selectOption('busybox');
    await expect(page.locator('#editor').inputValue()).resolves.toMatch(/^(#.*\n)*FROM busybox\n/);
    await press('rebuild');
    await expect(row('WORKDIR /app').then((r) => r.status)).resolves.toBe('CACHED');
  });

  it('the default preset: a skipped stage, whiteouts, an opaque directory and wasted bytes, drawn', async () => {
    await page.locator('#preset').selectOption('playground');
    await press('build');
    const skipped = page.locator('#progress li.skipped');
    await expect(skipped.first().textContent()).resolves.toContain('[test]');
    const report = page.frameLocator('#report');
    await expect(report.locator('svg.stages g.stage.skipped').getAttribute('data-stage')).resolves.toBe('test');
    await expect(report.locator('svg.stack a.bar').count()).resolves.toBe(6);
    await expect(report.locator('table.waste tbody tr').first().textContent()).resolves.toContain('/app/data.txt');
    await expect(report.locator('.col.deleted li[data-path="/app/data.txt"]').textContent()).resolves.toContain(
      'whiteout',
    );
    await expect(report.locator('.col.deleted li[data-path="/var/cache/.keep"]').textContent()).resolves.toContain(
      'opaque /var/cache',
    );
    await shot('default-preset');
  });

  it('the image config panel: what a container starts with, and ENTRYPOINT against CMD', async () => {
    const field = (name: string) => page.locator(`#config tr[data-field="${name}"] td`).textContent();
    await expect(field('Cmd')).resolves.toBe('["sh","-c","cat /app/app.js"]');
    await expect(field('Entrypoint')).resolves.toBe('(not set)');
    await expect(field('WorkingDir')).resolves.toBe('/app');
    await expect(field('User')).resolves.toBe('1000');
    await expect(field('ExposedPorts')).resolves.toBe('8080/tcp');
    await expect(field('Env')).resolves.toContain('NODE_ENV=production');
    await expect(page.locator('#run-line').textContent()).resolves.toBe(
      'docker run IMAGE runs: sh -c "cat /app/app.js" (in /app, as user 1000)',
    );
    // The image ID shown is the config digest the report names.
    const id = await page.locator('#image-id').textContent();
    expect(id).toMatch(/^[0-9a-f]{12}$/);
    await expect(page.frameLocator('#report').locator('body').textContent()).resolves.toContain(id!);
    // An ENTRYPOINT after the stage's own CMD keeps that CMD as its arguments (as BuildKit does).
    await appendToFile('Dockerfile', 'ENTRYPOINT ["echo"]\n');
    await press('rebuild');
    await expect(field('Entrypoint')).resolves.toBe('["echo"]');
    await expect(field('Cmd')).resolves.toBe('["sh","-c","cat /app/app.js"]');
    await expect(page.locator('#run-line').textContent()).resolves.toMatch(/^docker run IMAGE runs: echo sh -c /);
    await shot('image-config');
  });

  it('downloads the built image as an OCI archive', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#download').click()]);
    expect(download.suggestedFilename()).toBe('playground.oci.tar');
    const file = join(tmp, 'playground.oci.tar');
    await download.saveAs(file);
    const names = execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).split('\n');
    expect(names).toEqual(expect.arrayContaining(['oci-layout', 'index.json']));
    const index = JSON.parse(execFileSync('tar', ['-xOf', file, 'index.json'], { encoding: 'utf8' }));
    expect(index.manifests[0].annotations['org.opencontainers.image.ref.name']).toMatch(/playground/);
    // Six layers, as the report drew them, plus the config and the manifest.
    expect(names.filter((n) => n.startsWith('blobs/sha256/') && n.length > 20)).toHaveLength(8);
  });

  it('the copy-on-write lesson: a copied-up file, a whiteout, an opaque directory and the bytes it hides', async () => {
    await page.locator('#preset').selectOption('copy-on-write');
    await press('build');
    const report = page.frameLocator('#report');
    await expect(report.locator('.col.modified li[data-path="/data/config"]').count()).resolves.toBeGreaterThan(0);
    await expect(report.locator('.col.deleted li[data-path="/data/notes"]').first().textContent()).resolves.toContain(
      'whiteout',
    );
    await expect(report.locator('.col.deleted').allTextContents()).resolves.toEqual(
      expect.arrayContaining([expect.stringContaining('opaque /data/old')]),
    );
    await expect(report.locator('table.waste tbody').textContent()).resolves.toContain('/data/old/log');
    await shot('copy-on-write');
  });

  it('shared build cache: machine B, an empty store, reuses every step from the folder A exported', async () => {
    await page.locator('#preset').selectOption('shared-build-cache');
    await expect(page.locator('#lesson-task').textContent()).resolves.toContain('B: empty store, build');
    await press('export-a');
    await expect(page.locator('#progress-head').textContent()).resolves.toMatch(/FINISHED on machine A/);
    await expect(page.locator('#progress li.exported').textContent()).resolves.toMatch(
      /^exported cache to \/cache: [1-9]\d* records, [1-9]\d* bytes written$/,
    );
    await expect(page.locator('#folder').textContent()).resolves.toMatch(/index\.json, oci-layout.* [1-9]\d* blobs/);
    const imageA = await page.locator('#image-id').textContent();

    await press('build-b');
    await expect(page.locator('#progress-head').textContent()).resolves.toMatch(
      /FINISHED on machine B: \d+ cached, 0 built/,
    );
    const steps = (await rows()).filter((r) => !r.instruction.startsWith('FROM'));
    expect(steps.length).toBeGreaterThanOrEqual(5);
    for (const r of steps)
      expect([r.instruction, r.status, r.source]).toEqual([r.instruction, 'CACHED', 'from cache folder /cache']);
    // Nothing was built on B, yet it made A's image: the same config digest.
    await expect(page.locator('#image-id').textContent()).resolves.toBe(imageA);

    // An edit on B: only what depends on src/ misses, and the miss names the file.
    await appendToFile('src/main.txt', 'main v2\n');
    await press('rebuild-b');
    const install = await row('RUN i=0');
    expect([install.status, install.source]).toEqual(['CACHED', '']);
    const copy = await row('COPY src/ /src/');
    expect(copy.status).toBe('DONE');
    expect(copy.reasons.join('\n')).toContain('src/main.txt modified');
    await expect(row('RUN cat /src/main.txt').then((r) => r.status)).resolves.toBe('DONE');
    await shot('shared-build-cache');
  });

  it('a Dockerfile error shows as an error line with its code', async () => {
    await page.locator('#tree li[data-path="Dockerfile"] button').click();
    await page.locator('#editor').fill('FROM busybox\nCOPY missing.txt /\n');
    await press('rebuild');
    await expect(page.locator('#progress li.error').textContent()).resolves.toMatch(
      /^error\[ERR_[A-Z_]+\]: .*missing\.txt/,
    );
  });

  it('every lesson preset builds in the page, each of its Dockerfiles', async () => {
    for (const lesson of lessonPresets(join(ROOT, 'examples'))) {
      await page.locator('#preset').selectOption(lesson.id);
      const dockerfiles = await page
        .locator('#dockerfile option')
        .evaluateAll((os) => os.map((o) => (o as unknown as { value: string }).value));
      expect(dockerfiles).toContain(lesson.dockerfile);
      for (const dockerfile of dockerfiles) {
        await page.locator('#dockerfile').selectOption(dockerfile);
        await press('build');
        await expect(
          page.locator('#progress li.error').allTextContents(),
          `${lesson.id} ${dockerfile}`,
        ).resolves.toEqual([]);
        await expect(page.locator('#progress-head').textContent()).resolves.toMatch(/FINISHED/);
      }
    }
  });

  it('logs no console errors, and no request leaves the page’s origin', async () => {
    expect(consoleErrors).toEqual([]);
    expect(elsewhere).toEqual([]);
    expect(requests.length).toBeGreaterThan(0);
  });
});
