/**
 * The default executor, `auto`: the Linux executor where the host can run it and the image has
 * a shell, the virtual shell otherwise (always for an in-memory store); the choice is announced in
 * progress once per build, kept on each RUN step and in its cache key.
 */
import { describe, expect } from 'vitest';
import { it } from '../helpers/fixtures.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build, type BuildEvent } from '../../src/index.js';
import { autoExecutor } from '../../src/builder/executors/auto.js';
import { linuxExecutorUnavailable } from '../../src/builder/executors/linux.js';
import { createVirtualShell } from '../../src/shell/executor.js';
import { mountImage } from '../../src/union/mount-image.js';
import { openStore } from '../../src/store/store.js';
import { hasBusybox, makeBusyboxImage } from '../helpers/busybox.js';

const hostSkip = !hasBusybox()
  ? 'busybox-static is not installed (Debian package busybox-static)'
  : linuxExecutorUnavailable();

const runSteps = (steps: Array<{ instruction: string; executor?: string; status: string }>) =>
  steps.filter((s) => s.instruction.startsWith('RUN')).map((s) => [s.executor, s.status]);

describe('the auto executor', () => {
  it('chooses the virtual shell for an in-memory store and for an image without a shell', async () => {
    const store = await openStore({ memory: true });
    const empty = await mountImage({ store, image: [] });
    const memory = await autoExecutor({ memory: true }).choose!({ fs: empty, argv: ['/bin/sh', '-c', 'true'] });
    expect([memory.executor.name, memory.why]).toEqual(['virtual-shell', 'the store is in memory']);
    const noShell = await autoExecutor().choose!({ fs: empty, argv: ['/bin/sh', '-c', 'true'] });
    expect(noShell.executor.name).toBe('virtual-shell');
    expect(noShell.why).toMatch(/no \/bin\/sh|cannot run here/);
  });

  it('builds in memory with the virtual shell, and says so in progress', async ({ store, tmp }) => {
    const events: BuildEvent[] = [];
    const result = await build({
      store,
      context: tmp,
      dockerfileText: 'FROM scratch\nRUN echo a > /a\nRUN echo b > /b\n',
      onEvent: (e) => events.push(e),
    });
    expect(runSteps(result.steps)).toEqual([
      ['virtual-shell', 'built'],
      ['virtual-shell', 'built'],
    ]);
    const notes = events.filter((e) => e.type === 'log' && e.data.startsWith('layerkit: RUN runs with'));
    expect(notes.map((e) => (e as { data: string }).data)).toEqual([
      'layerkit: RUN runs with the virtual-shell executor (auto: the store is in memory)\n',
    ]);
    // the note is progress, not the command's output
    expect(result.steps.every((s) => !s.output?.includes('layerkit: RUN runs with'))).toBe(true);
  });

  it.skipIf(hostSkip !== undefined)(
    `on a disk store runs an image with a shell on the linux executor, keyed by it${hostSkip ? ` (skipped: ${hostSkip})` : ''}`,
    async ({ diskStore: store, tmp }) => {
      const ctx = join(tmp, 'ctx');
      mkdirSync(ctx);
      await makeBusyboxImage(store);
      writeFileSync(join(ctx, 'tool'), 'not a program\n');
      const dockerfile = [
        'FROM busybox:test AS real',
        'RUN cat /proc/1/comm 2>/dev/null > /comm || echo no-proc > /comm',
        'FROM scratch',
        'COPY tool /tool',
        'RUN ["/tool"]',
      ].join('\n');
      // the scratch stage has no shell and /tool does not run: the virtual shell says so
      await expect(build({ store, context: ctx, dockerfileText: dockerfile })).rejects.toMatchObject({
        code: 'ERR_BUILD_EXIT_CODE',
      });
      const shellOnly = 'FROM busybox:test\nRUN echo hi > /hi\n';
      const byShell = await build({
        store,
        context: ctx,
        dockerfileText: shellOnly,
        executor: createVirtualShell(),
      });
      expect(runSteps(byShell.steps)).toEqual([['virtual-shell', 'built']]);
      // auto picks linux here: a different executor, so a miss that names it; then a hit
      const byAuto = await build({ store, context: ctx, dockerfileText: shellOnly });
      const run = byAuto.steps.find((s) => s.instruction.startsWith('RUN'))!;
      expect([run.executor, run.status]).toEqual(['linux', 'built']);
      expect(run.explanation?.map((r) => r.kind)).toEqual(['executor']);
      const again = await build({ store, context: ctx, dockerfileText: shellOnly });
      expect(runSteps(again.steps)).toEqual([['linux', 'cached']]);
    },
  );
});
