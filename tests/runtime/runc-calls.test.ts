/**
 * How many runc processes a run costs: runc is a Go binary (40–90 ms a process here), so a
 * foreground `runContainer` asks it exactly once (`runc run`), also when other containers of the
 * store are running or exited; their state comes from the records and runc's own state folder.
 * runc is replaced by a wrapper (`LAYERKIT_RUNC`) that logs each call and runs the real one.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { runContainer, stopContainer, type Store } from '../../src/index.js';
import { it } from '../helpers/fixtures.js';
import { collect, runtimeBlock, runtimeSkip } from '../helpers/runtime.js';

const skip = runtimeSkip();

describe.skipIf(skip !== undefined)('runc calls per run', () => {
  let store: Store;
  const ids = runtimeBlock((s) => {
    store = s;
  });

  it('a foreground run calls runc once, beside a running and an exited container', async ({ tmp }) => {
    const real = execFileSync('sh', ['-c', 'command -v runc'], { encoding: 'utf8' }).trim();
    const log = join(tmp, 'calls.log');
    const wrapper = join(tmp, 'runc-wrapper');
    fs.writeFileSync(wrapper, `#!/bin/sh\necho "$*" >> '${log}'\nexec '${real}' "$@"\n`, { mode: 0o755 });
    const before = process.env.LAYERKIT_RUNC;
    process.env.LAYERKIT_RUNC = wrapper;
    try {
      const exited = await runContainer({ store, image: 'busybox:test', name: 'exited', cmd: ['true'] });
      ids.push(exited.id);
      await exited.wait();
      const running = await runContainer({
        store,
        image: 'busybox:test',
        name: 'running',
        cmd: ['sleep', '30'],
        detach: true,
      });
      ids.push(running.id);
      const calls = () =>
        fs
          .readFileSync(log, 'utf8')
          .trim()
          .split('\n')
          .map((l) => l.replace(/^--root \S+ /, '').split(' ')[0])
          .filter((c) => c !== 'features');
      for (const autoRemove of [true, false]) {
        fs.writeFileSync(log, '');
        const h = await runContainer({ store, image: 'busybox:test', cmd: ['echo', 'hi'], autoRemove });
        ids.push(h.id);
        expect((await collect(h)).out).toBe('hi\n');
        expect(calls()).toEqual(['run']);
      }
      await stopContainer({ store, name: 'running', timeout: 0 });
    } finally {
      if (before === undefined) delete process.env.LAYERKIT_RUNC;
      else process.env.LAYERKIT_RUNC = before;
    }
  }, 60_000);
});
