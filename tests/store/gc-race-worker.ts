/**
 * One process of the gc race test (tests/store/gc-race.test.ts): `ROLE STORE DIR ITERATIONS`.
 * Prints one JSON line per operation: `{ op, tag, ok, code? }`. Roles: `gc` (gc in a loop until
 * DIR/stop exists), `import-good` / `import-bad` (the same layouts, one with a corrupt last layer),
 * `build`, `commit`.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
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

async function attempt(op: string, tag: string, fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
    say({ op, tag, ok: true });
  } catch (err) {
    say({ op, tag, ok: false, code: (err as { code?: string }).code ?? 'none', message: (err as Error).message });
  }
}

const n = Number(count);
if (role === 'gc') {
  let i = 0;
  // A pause between gcs: writers poll the gc gate (up to every 100 ms), and a gc taken again the
  // moment the last one ended can keep them waiting indefinitely (writer starvation, a known
  // limit of the gate noted on issue 10); what this test checks is that gc never removes their work.
  while (!existsSync(join(dir, 'stop'))) {
    await attempt('gc', `gc-${i++}`, () => gcStore({ store }));
    await new Promise((r) => setTimeout(r, 150));
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
