/**
 * Builds the playground into playground/dist/: the page, its script and its build worker, bundled
 * by esbuild against layerkit's browser build (package.json `exports` condition `browser`, from
 * `npm run build`), with the lessons of examples/ turned into presets (lessons.ts).
 *
 * `npm run playground:build` runs `npm run build` first; `node --import tsx playground/build.ts`
 * alone reuses dist/ as it is.
 */
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { buildBrowser } from '../scripts/browser-build.js';
import { REPORT_JS } from '../src/report/html-assets.js';
import { lessonPresets } from './lessons.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..');
/** Where the built page goes. */
export const PLAYGROUND_DIST = join(HERE, 'dist');

/** Builds the page into `outDir` (default playground/dist). Returns the folder. */
export async function buildPlayground({
  outDir = PLAYGROUND_DIST,
  layerkit,
}: {
  outDir?: string;
  /** A browser build of layerkit to bundle instead of the package's own (dist/browser/index.js). */
  layerkit?: string;
} = {}): Promise<string> {
  if (layerkit === undefined && !existsSync(join(ROOT, 'dist', 'browser', 'index.js')))
    throw new Error('layerkit’s browser build is missing (dist/browser/index.js): run `npm run build` first');
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: { main: join(HERE, 'src', 'main.ts'), worker: join(HERE, 'src', 'worker.ts') },
    outdir: outDir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    // `import 'layerkit'` resolves through the package's own exports, to its browser build.
    conditions: ['browser'],
    ...(layerkit !== undefined ? { alias: { layerkit } } : {}),
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
    define: { LESSON_PRESETS: JSON.stringify(lessonPresets(join(ROOT, 'examples'))) },
  });
  // The explain report runs inside the page's frame, under the page's policy: allow its one script by hash.
  const hash = `'sha256-${createHash('sha256').update(REPORT_JS).digest('base64')}'`;
  writeFileSync(
    join(outDir, 'index.html'),
    readFileSync(join(HERE, 'index.html'), 'utf8').replace('REPORT_SCRIPT_HASH', hash),
  );
  copyFileSync(join(HERE, 'style.css'), join(outDir, 'style.css'));
  return outDir;
}

/** The newest modification time of a file below `dir`. */
function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile()) t = Math.max(t, statSync(join(e.parentPath, e.name)).mtimeMs);
  return t;
}

/**
 * The path of a browser build of layerkit that matches the sources: dist/browser/index.js when it
 * is newer than every file of src/, else the same build (scripts/browser-build.ts, what `npm run
 * build` runs for dist/browser) made into `scratch`; the repository's dist/ is left alone, as
 * another process may be building it. For the playground's test and bench.
 */
export async function layerkitBrowserBuild({ scratch }: { scratch: string }): Promise<string> {
  const built = join(ROOT, 'dist', 'browser', 'index.js');
  if (existsSync(built) && statSync(built).mtimeMs > newest(join(ROOT, 'src'))) return built;
  await buildBrowser({ outDir: scratch });
  return join(scratch, 'index.js');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = await buildPlayground();
  process.stdout.write(`playground built into ${out}\n`);
}
