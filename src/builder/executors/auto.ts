/**
 * The default executor, `auto`: each RUN goes to the Linux executor (the image's real binaries in
 * namespaces over a kernel overlay) where the host can run it and the image has a shell, and to
 * the virtual shell otherwise: on other systems, without root or overlayfs, for an in-memory
 * store, in a browser, or for an image with no `/bin/sh` (and an exec-form command that is not a
 * file of the image). The builder keys each step by the executor that ran it, so a step built by
 * one is never reused for the other. Each is loaded by its first command (./lazy.ts): a fully
 * cached build chooses but runs nothing.
 */
import { readFileSync } from 'node:fs';
import type { VirtualShellOptions } from '../../shell/executor.js';
import type { ExecRequest, ExecResult, Executor, ExecutorChoice, ExecutorTarget } from '../../union/executor.js';
import type { ExecutorFs } from '../../union/fs-contract.js';
import { lazyLinuxExecutor, lazyVirtualShell } from './lazy.js';
import type { LinuxExecutorOptions } from './linux.js';
import { linuxExecutorUnavailable } from './linux-host.js';

/** Options for {@link autoExecutor}. */
export interface AutoExecutorOptions {
  /** The build's store is in memory: always the virtual shell (nothing of the host is touched). */
  memory?: boolean | undefined;
  /** Options of the Linux executor when it is chosen. */
  linux?: LinuxExecutorOptions | undefined;
  /** Options of the virtual shell when it is chosen. */
  shell?: VirtualShellOptions | undefined;
}

let hostVerdict: string | undefined | null = null;

/** Why this host cannot run the Linux executor (memoised: it spawns probes), or undefined. */
function hostCannot(): string | undefined {
  if (hostVerdict === null) {
    hostVerdict = linuxExecutorUnavailable();
    if (hostVerdict === undefined) {
      let filesystems = '';
      try {
        filesystems = readFileSync('/proc/filesystems', 'utf8');
      } catch {
        // unreadable: assume the module loads on demand
        filesystems = 'overlay';
      }
      if (!/\boverlay\b/.test(filesystems)) hostVerdict = 'the kernel has no overlayfs';
    }
  }
  return hostVerdict;
}

/** True when `path` is a file of `fs` (symlinks followed). */
async function isFile(fs: ExecutorFs, path: string): Promise<boolean> {
  try {
    return (await fs.stat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * Creates the `auto` executor (`name: 'auto'`): `choose()` says which executor a command gets;
 * `run()` runs it there.
 * @example await build({ store, context, executor: autoExecutor({ memory: store.memory }) })
 */
export function autoExecutor(options: AutoExecutorOptions = {}): Executor {
  let shell: Executor | undefined;
  let linux: Executor | undefined;
  const virtual = (why: string): ExecutorChoice => ({ executor: (shell ??= lazyVirtualShell(options.shell)), why });
  const choose = async ({ fs, argv }: ExecutorTarget): Promise<ExecutorChoice> => {
    if (options.memory) return virtual('the store is in memory');
    const cannot = hostCannot();
    if (cannot !== undefined) return virtual(`the linux executor cannot run here: ${cannot}`);
    const command = argv[0] ?? '';
    const runnable = (await isFile(fs, '/bin/sh')) || (command.startsWith('/') && (await isFile(fs, command)));
    if (!runnable) return virtual('the image has no /bin/sh');
    return {
      executor: (linux ??= lazyLinuxExecutor(options.linux)),
      why: 'the image has a shell and the host can run it',
    };
  };
  return {
    name: 'auto',
    choose,
    async run(request: ExecRequest): Promise<ExecResult> {
      const { executor } = await choose({ fs: request.rootfs ?? request.fs, argv: request.argv });
      return executor.run(request);
    },
  };
}
