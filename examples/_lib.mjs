// Shared helpers for the examples: a scratch store, a copy of a context to edit, and printing.
// Examples import layerkit by its package name, so they run against the built package (npm run build).
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as layerkit from 'layerkit';

export { layerkit };

const root = dirname(fileURLToPath(import.meta.url));
/** The repository's example image (two layers, a whiteout and an opaque dir). */
export const HELLO_IMAGE = join(root, '..', 'fixtures', 'images', 'hello.oci.tar');

/** A scratch folder (on tmpfs when there is one), removed at exit. */
export function scratch(name) {
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const dir = mkdtempSync(join(base, `layerkit-example-${name}-`));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * A folder that outlives the lesson (emptied when the lesson starts), for a store the commands
 * a lesson suggests can still open: `$LAYERKIT_LESSONS` or the temp folder's `layerkit-lessons/NAME`.
 */
export function keptFolder(name) {
  const dir = join(process.env.LAYERKIT_LESSONS ?? join(tmpdir(), 'layerkit-lessons'), name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * Prints a command for the reader to run, as `  $ layerkit ...`: every such line must work when
 * copied (tests/examples runs each one).
 */
export const suggest = (command) => console.log(`  $ ${command}`);

/** Copies an example's context folder into a scratch folder, so the example can edit it. */
export function copyContext(exampleDir, name, into) {
  const target = join(into, name);
  cpSync(join(exampleDir, name), target, { recursive: true });
  return target;
}

/** A store in a scratch folder with the example image imported as `hello`. */
export async function storeWithHello(dir) {
  const store = await layerkit.openStore({ root: join(dir, 'store'), durable: false });
  await layerkit.importImage({ store, source: HELLO_IMAGE, tags: ['hello'] });
  return store;
}

export const heading = (text) => console.log(`\n== ${text} ==`);
export const say = (text = '') => console.log(text);
/** A byte count as the CLI and docker print it (decimal units: `512 B`, `1.99 MB`): one formatter everywhere. */
export const bytes = (n) => layerkit.formatSize(n, ' ');

/** Prints a build's filesystem and metadata steps, one line each, with the miss reason. */
export function printSteps(result, { onlyStage } = {}) {
  for (const s of result.steps) {
    if (onlyStage && s.stage !== onlyStage) continue;
    const status =
      s.status === 'cached' ? 'CACHED' : s.status === 'skipped' ? 'skipped' : s.metadata ? 'config' : 'built';
    const why = s.status === 'built' && !s.metadata && s.reason ? `  <- ${s.reason}` : '';
    const text = s.instruction.split('\n')[0];
    const shown = text.length > 44 ? `${text.slice(0, 41)}...` : text.padEnd(44);
    // BuildKit's numbering, as every screen shows it: `[stage N/M]`, FROM an image is 1; ENV, CMD
    // and the like have no number (BuildKit shows no step for them).
    const where = layerkit.vertexLabel({ ...s, instruction: '' }, result.stages.length === 1).trimEnd();
    console.log(`  ${where.padEnd(14)} ${shown} ${status}${why}`);
  }
}

/** Counts of a build's filesystem steps by status. */
export function tally(result) {
  const fsSteps = result.steps.filter((s) => !s.metadata);
  return {
    cached: fsSteps.filter((s) => s.status === 'cached').length,
    built: fsSteps.filter((s) => s.status === 'built').length,
  };
}
