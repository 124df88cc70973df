/**
 * Executors whose code is loaded by their first command. A build names its executor before it
 * knows whether any RUN will run, and a fully cached build runs none: it must not pay for loading
 * the virtual shell (its parser, interpreter and builtins) or the Linux executor (overlay mounts,
 * runc, child processes). Each proxy carries the name of the executor it stands for, which is
 * what a RUN's cache key records, so a step cached by the real executor hits through the proxy.
 */
import type { VirtualShellOptions } from '../../shell/executor.js';
import type { ExecRequest, ExecResult, Executor } from '../../union/executor.js';
import type { LinuxExecutorOptions } from './linux.js';

/** The virtual shell's executor name (the one `createVirtualShell` gives; a test holds them equal). */
export const VIRTUAL_SHELL_EXECUTOR_NAME = 'virtual-shell';
/** The Linux executor's name (the one `linuxExecutor` gives; a test holds them equal). */
export const LINUX_EXECUTOR_NAME = 'linux';

/** An executor named `name` whose implementation `load` makes on the first run. */
function lazyExecutor(name: string, load: () => Promise<Executor>): Executor {
  let loaded: Promise<Executor> | undefined;
  return {
    name,
    async run(request: ExecRequest): Promise<ExecResult> {
      loaded ??= load();
      return (await loaded).run(request);
    },
  };
}

/** The virtual shell (`createVirtualShell(options)`), loaded by its first command. */
export function lazyVirtualShell(options?: VirtualShellOptions): Executor {
  return lazyExecutor(VIRTUAL_SHELL_EXECUTOR_NAME, async () =>
    (await import('../../shell/executor.js')).createVirtualShell(options),
  );
}

/** The Linux executor (`linuxExecutor(options)`), loaded by its first command. */
export function lazyLinuxExecutor(options?: LinuxExecutorOptions): Executor {
  return lazyExecutor(LINUX_EXECUTOR_NAME, async () => (await import('./linux.js')).linuxExecutor(options));
}
