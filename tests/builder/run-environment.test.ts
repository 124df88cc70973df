/**
 * What a RUN process gets beyond the build environment, with every executor: `HOME` from the
 * user's passwd entry (`/` without one; an `ENV HOME` wins) and `PATH`'s default, as runc and
 * BuildKit give them, for the process only: neither lands in the image config.
 */
import { describe, expect } from 'vitest';
import { it } from '../helpers/fixtures.js';
import { build, flattenImage, linuxExecutor, readFlatFile, type Executor } from '../../src/index.js';
import { linuxExecutorUnavailable } from '../../src/builder/executors/linux.js';
import { functionExecutor } from '../../src/builder/executors/function.js';
import { DEFAULT_RUN_PATH, runEnvironment } from '../../src/builder/run-env.js';
import { createVirtualShell } from '../../src/shell/executor.js';
import { mountImage } from '../../src/union/mount-image.js';
import { hasBusybox, makeBusyboxImage } from '../helpers/busybox.js';

const DOCKERFILE = [
  'FROM busybox:test',
  'RUN echo "$HOME" > /tmp/root',
  'USER app',
  'RUN echo "$HOME" > /tmp/app',
  'USER 4242:4242',
  'RUN echo "$HOME" > /tmp/nobody',
  'USER root',
  'ENV HOME=/custom',
  'RUN echo "$HOME" > /tmp/env',
].join('\n');

/** An executor that writes `$HOME` where the command's `>` says, as the shell would. */
const recording = functionExecutor(async ({ argv, env, fs }) => {
  const target = /> (\S+)$/.exec(argv.at(-1) ?? '')?.[1];
  if (target === undefined) return { exitCode: 2 };
  await fs.writeFile(target, `${env.HOME ?? '(unset)'}\n`);
  return { exitCode: env.PATH === undefined ? 3 : 0 };
}, 'recording');

const linuxSkip = linuxExecutorUnavailable();
const EXECUTORS: Array<{ name: string; make: () => Executor; skip: string | undefined }> = [
  { name: 'virtual shell', make: () => createVirtualShell(), skip: undefined },
  { name: 'linux executor', make: () => linuxExecutor(), skip: linuxSkip },
  { name: 'function executor', make: () => recording, skip: undefined },
];

describe.skipIf(!hasBusybox())('RUN environment', () => {
  describe.each(EXECUTORS)('with the $name', ({ make, skip }) => {
    it.skipIf(skip !== undefined)(
      `HOME from passwd, / without an entry, ENV wins; not in the config${skip ? ` (skipped: ${skip})` : ''}`,
      async ({ store, tmp }) => {
        await makeBusyboxImage(store);
        const result = await build({ store, context: tmp, dockerfileText: DOCKERFILE, executor: make() });
        const flat = await flattenImage({ store, image: result.image });
        const read = (p: string) => readFlatFile(flat, p).toString();
        expect([read('/tmp/root'), read('/tmp/app'), read('/tmp/nobody'), read('/tmp/env')]).toEqual([
          '/root\n',
          '/home/app\n',
          '/\n',
          '/custom\n',
        ]);
        expect(result.image.config.config?.Env).toEqual([`PATH=${DEFAULT_RUN_PATH}`, 'HOME=/custom']);
      },
    );
  });

  it('runEnvironment adds PATH and HOME only where missing; an unknown user leaves HOME to the executor', async ({
    store,
  }) => {
    const v = await mountImage({ store, image: [] });
    await v.mkdir('/etc');
    await v.writeFile('/etc/passwd', 'root:x:0:0:root:/var/root:/bin/sh\nsvc:x:7:7::/srv:/bin/false\n');
    expect(await runEnvironment({ env: {}, user: '', fs: v })).toEqual({ PATH: DEFAULT_RUN_PATH, HOME: '/var/root' });
    expect(await runEnvironment({ env: { PATH: '/x' }, user: 'svc', fs: v })).toEqual({ PATH: '/x', HOME: '/srv' });
    expect(await runEnvironment({ env: { HOME: '/h' }, user: '7:0', fs: v })).toEqual({
      PATH: DEFAULT_RUN_PATH,
      HOME: '/h',
    });
    expect(await runEnvironment({ env: {}, user: 'ghost', fs: v })).toEqual({ PATH: DEFAULT_RUN_PATH });
  });
});
