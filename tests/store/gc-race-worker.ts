/**
 * One process of the gc race test (tests/store/gc-race.test.ts): `ROLE STORE DIR ITERATIONS`.
 * Prints one JSON line per operation: `{ op, tag, ok, code?, rounds }`. Roles: `gc` (gc back to
 * back, with no pause, until DIR/stop exists or it has run MAX_GC_ROUNDS times; it keeps the count
 * of finished rounds in DIR/gc-rounds), `import-good` / `import-bad` (the same layouts, one with a
 * corrupt last layer), `build`, `commit`. A writer's `rounds` is how many gcs finished while its
 * operation ran: a writer that gc starves sees them pile up.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from '../../src/builder/build.js';
import { importImage } from '../../src/image/import.js';
import { gcStore } from '../../src/maintenance/gc-store.js';
import { openStore } from '../../src/store/store.js';
import { mountImage } from '../../src/union/mount-image.js';
import { writeTinyLayout } from '../helpers/tiny-layout.js';

const [role, root, dir, count] = process.argv.slice(2) as [string, string, string, string];
const store = await openStore({ root, durable: false });
const say = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);

/**
 * The OCI layout of iteration `i`: a shared first layer (the same bytes in the good and the bad
 * layout, so either import may be the one that creates it), then a second layer that in the bad
 * layout does not match its digest.
 */
function layout(i: number, bad: boolean): string {
  const out = join(dir, `${bad ? 'bad' : 'good'}-${process.pid}-${i}`);
  writeTinyLayout(out, {
    layers: [`shared layer of iteration ${i}\n`.repeat(200), `second layer ${i}\n`],
    ...(bad ? { corruptLayer: 1 } : {}),
  });
  return out;
}

/** The most gcs the gc role runs (it stops then, so starved writers end and the test can count). */
export const MAX_GC_ROUNDS = 1000;

/** How many gcs have finished so far. */
function gcRounds(): number {
  try {
    return Number(readFileSync(join(dir, 'gc-rounds'), 'utf8')) || 0;
  } catch {
    return 0;
  }
}

async function attempt(op: string, tag: string, fn: () => Promise<unknown>): Promise<void> {
  const before = gcRounds();
  const rounds = () => gcRounds() - before;
  try {
    await fn();
    say({ op, tag, ok: true, rounds: rounds() });
  } catch (err) {
    const code = (err as { code?: string }).code ?? 'none';
    say({ op, tag, ok: false, code, message: (err as Error).message, rounds: rounds() });
  }
}

const n = Number(count);
if (role === 'gc') {
  // Back to back: the next gc starts the moment the last one ends.
  for (let i = 0; i < MAX_GC_ROUNDS && !existsSync(join(dir, 'stop')); ) {
    await attempt('gc', `gc-${i}`, () => gcStore({ store }));
    writeFileSync(join(dir, 'gc-rounds.tmp'), String(++i));
    renameSync(join(dir, 'gc-rounds.tmp'), join(dir, 'gc-rounds'));
  }
} else {
  for (let i = 0; i < n; i++) {
    const tag = `${role}-${process.pid}:${i}`;
    if (role === 'import-good' || role === 'import-bad') {
      const source = layout(i, role === 'import-bad');
      await attempt(role, tag, () => importImage({ store, source, tags: [tag] }));
    } else if (role === 'build') {
      const context = join(dir, `ctx-${process.pid}-${i}`);
      mkdirSync(context, { recursive: true });
      writeFileSync(join(context, 'f'), `build ${process.pid} ${i}\n`);
      writeFileSync(join(context, 'Dockerfile'), `FROM base:1\nCOPY f /f\nRUN echo ${i} > /g\n`);
      await attempt(role, tag, () => build({ store, context, tags: [tag] }));
    } else if (role === 'commit') {
      await attempt(role, tag, async () => {
        const fs = await mountImage({ store, image: 'base:1' });
        await fs.writeFile('/commit', `commit ${process.pid} ${i}\n`);
        await fs.commit({ tags: [tag] });
      });
    }
  }
}
