/**
 * The executors a build names before it knows whether a RUN will run (src/builder/executors/lazy.ts):
 * a RUN's cache key records the executor's name, so each proxy must carry the very name of the
 * executor it loads, and run commands exactly as that executor does once loaded.
 */
import { describe, expect, it } from 'vitest';
import { lazyLinuxExecutor, lazyVirtualShell } from '../../src/builder/executors/lazy.js';
import { linuxExecutor } from '../../src/builder/executors/linux.js';
import { autoExecutor } from '../../src/builder/executors/auto.js';
import { createVirtualShell } from '../../src/shell/index.js';
import { makeFs } from '../shell/helpers.js';

describe('lazily loaded executors', () => {
  it('carry the names of the executors they stand for (the names cache keys record)', () => {
    expect(lazyVirtualShell().name).toBe(createVirtualShell().name);
    expect(lazyLinuxExecutor().name).toBe(linuxExecutor().name);
  });

  it.for([
    { argv: ['/bin/sh', '-c', 'echo "$FOO $PWD"; ls; exit 3'] },
    { argv: ['sh', '-ec', 'mkdir -p d/e && echo x > d/e/f && cat d/e/f'] },
    { argv: ['pip', 'install', 'x'] },
  ])('the lazy virtual shell runs $argv as the shell does: output, status and files', async ({ argv }) => {
    const results = [];
    for (const executor of [createVirtualShell(), lazyVirtualShell()]) {
      const fs = await makeFs({ 'app/x': '' });
      const out: Uint8Array[] = [];
      const err: Uint8Array[] = [];
      const r = await executor.run({
        argv,
        fs,
        env: { FOO: 'bar' },
        cwd: '/app',
        user: '',
        stdout: (c) => out.push(c),
        stderr: (c) => err.push(c),
      });
      results.push([
        r.exitCode,
        Buffer.concat(out).toString(),
        Buffer.concat(err).toString(),
        await fs.readdir('/app'),
      ]);
    }
    expect(results[1]).toEqual(results[0]);
  });

  it('the auto executor of an in-memory store chooses the virtual shell by its name, loaded on first run', async () => {
    const fs = await makeFs({});
    const choice = await autoExecutor({ memory: true }).choose!({ fs, argv: ['/bin/sh', '-c', 'true'] });
    expect(choice.executor.name).toBe(createVirtualShell().name);
    const out: Uint8Array[] = [];
    const r = await choice.executor.run({
      argv: ['/bin/sh', '-c', 'echo ran'],
      fs,
      env: {},
      cwd: '/',
      user: '',
      stdout: (c) => out.push(c),
    });
    expect([r.exitCode, Buffer.concat(out).toString()]).toEqual([0, 'ran\n']);
  });
});
