/**
 * A build killed (SIGKILL) at any point of any step leaves the store consistent: verify finds
 * nothing, gc runs (no damaged state file: every write is atomic, only the cache record of a step
 * is fsynced), and the next build of the same Dockerfile succeeds and gives the same image as a
 * build that was never interrupted.
 */
import { spawn } from 'node:child_process';
import * as nodeFs from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { build } from '../../src/builder/build.js';
import { gcStore } from '../../src/maintenance/gc-store.js';
import { verifyStore } from '../../src/maintenance/verify-store.js';
import type { StoreFs } from '../../src/store/backend.js';
import { openStore } from '../../src/store/store.js';
import { makeBaseImage, makeContext } from '../builder/helpers.js';
import { it } from '../helpers/fixtures.js';

const DOCKERFILE = `FROM base:1
COPY big.txt /big.txt
RUN --mount=type=cache,target=/c echo x >> /c/log && cp /big.txt /copy.txt
RUN echo done > /done
COPY a.txt /a.txt
`;

const BUILD = `
import { build } from '${process.cwd()}/src/builder/build.ts';
import { openStore } from '${process.cwd()}/src/store/store.ts';
const [root, context, n] = process.argv.slice(1);
const store = await openStore({ root });
await build({
  store, context, tags: ['app:' + n], noCache: n % 2 === 1, sourceDateEpoch: 0,
  onEvent: (e) => { if (e.type === 'step-start') process.stdout.write('step-start\\n'); },
});
process.stdout.write('built\\n');
`;

describe('a build killed mid-step', () => {
  it('leaves the store consistent, whenever it is killed', async ({ tmp, store: fresh }) => {
    const ctx = makeContext(tmp, { Dockerfile: DOCKERFILE, 'big.txt': 'big line\n'.repeat(20_000), 'a.txt': 'a\n' });
    const root = join(tmp, 'store');
    // A durable store, as a user's is: the kill must not find a file half-written.
    const store = await openStore({ root });
    await makeBaseImage({ store, tag: 'base:1' });
    let killed = 0;
    for (let i = 0; i < 8; i++) {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', BUILD, root, ctx.dir, String(i)],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      let out = '';
      // Kill inside a step, whatever the machine's speed: a short, varying delay after the start of
      // step 1, 2, 3 or 4 (a fixed delay after spawning let a fast machine finish every build).
      const killAt = (i % 4) + 1;
      const delay = (i * 7) % 30;
      let timer: NodeJS.Timeout | undefined;
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString('utf8');
        if (timer === undefined && out.split('step-start').length - 1 >= killAt)
          timer = setTimeout(() => child.kill('SIGKILL'), delay);
      });
      const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      clearTimeout(timer);
      if (code === null) killed++;
      else expect(out).toContain('built');
      const report = await verifyStore({ store });
      expect(report.problems, `after run ${i}`).toEqual([]);
    }
    expect(killed).toBeGreaterThan(0);
    await gcStore({ store });
    expect((await verifyStore({ store })).problems).toEqual([]);
    const again = await build({ store, context: ctx.dir, tags: ['app:final'], sourceDateEpoch: 0 });
    await makeBaseImage({ store: fresh, tag: 'base:1' });
    const clean = await build({ store: fresh, context: ctx.dir, sourceDateEpoch: 0 });
    expect(again.image.descriptor.digest).toBe(clean.image.descriptor.digest);
  }, 120_000);
});

describe('durable writes per build step', () => {
  it('a step that hits the cache fsyncs no state file', async ({ tmp }) => {
    // fsyncs of state files (written by writeFileAtomic as tmp/write-*), not of the layers' data.
    let fsyncs = 0;
    const stateFds = new Set<number>();
    const counting = new Proxy(nodeFs, {
      get(target, prop, receiver) {
        if (prop === 'openSync')
          return (path: string, ...rest: unknown[]) => {
            const fd = (target.openSync as (...a: unknown[]) => number)(path, ...rest);
            if (String(path).includes('/layerkit/tmp/write-')) stateFds.add(fd);
            else stateFds.delete(fd);
            return fd;
          };
        if (prop === 'fsyncSync')
          return (fd: number) => {
            if (stateFds.has(fd)) fsyncs++;
            return target.fsyncSync(fd);
          };
        return Reflect.get(target, prop, receiver);
      },
    }) as StoreFs;
    const steps = (n: number) =>
      ['FROM base:1', ...Array.from({ length: n }, (_, i) => `RUN echo ${i} > /f${i}`)].join('\n');
    const short = makeContext(tmp, { Dockerfile: steps(2) });
    const long = makeContext(tmp, { Dockerfile: steps(5) });
    const store = await openStore({ root: join(tmp, 'store'), fs: counting, durable: true });
    await makeBaseImage({ store, tag: 'base:1' });
    const count = async (dir: string) => {
      const before = fsyncs;
      await build({ store, context: dir, tags: ['x:1'], sourceDateEpoch: 0 });
      return fsyncs - before;
    };
    // A first build does some one-time set-up; measure after it.
    await count(makeContext(tmp, { Dockerfile: steps(1) }).dir);
    const cold = { short: await count(short.dir), long: await count(long.dir) };
    const warm = { short: await count(short.dir), long: await count(long.dir) };
    // Missing steps write (and sync) their records; hitting steps sync nothing (lastUsed, positions
    // and roots are written atomically without fsync): three more hits cost no fsync at all.
    expect(cold.long).toBeGreaterThan(cold.short);
    expect(warm.long - warm.short).toBe(0);
  });
});
