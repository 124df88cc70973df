/**
 * The environment a RUN command gets beyond the build's own: what the runtime under BuildKit
 * adds for the process only, never in the image config. BuildKit's ExecOp adds the default
 * `PATH` when the environment has none (`solver/llbsolver/ops/exec.go`), and runc sets `HOME`
 * from the user's `/etc/passwd` entry in the container when the environment has none, `/` when
 * there is no entry (`libcontainer/init_linux.go`); buildah does the same for its RUN.
 */
import { resolveUser, UserLookupError } from '../shell/users.js';
import type { ExecutorFs } from '../union/fs-contract.js';

/** The `PATH` a RUN gets when the environment has none (BuildKit's `DefaultPathEnvUnix`). */
export const DEFAULT_RUN_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Options for {@link runEnvironment}. */
export interface RunEnvironmentOptions {
  /** The build environment (base Env, ENV, valued ARGs, mount env). */
  env: Readonly<Record<string, string>>;
  /** The USER in effect (`name`, `uid`, `uid:gid`...); empty means root. */
  user: string;
  /** The step's root filesystem, whose `/etc/passwd` names the user's home. */
  fs: ExecutorFs;
}

/**
 * The environment for one RUN: `env` plus `PATH` and `HOME` where `env` lacks them. A USER the
 * image does not have leaves `HOME` unset: the executor reports that user as missing.
 * @example await runEnvironment({ env: { A: '1' }, user: '', fs }) // { A: '1', PATH: '/usr/local/sbin:…', HOME: '/root' }
 */
export async function runEnvironment(options: RunEnvironmentOptions): Promise<Record<string, string>> {
  const env = { ...options.env };
  if (env.PATH === undefined) env.PATH = DEFAULT_RUN_PATH;
  if (env.HOME === undefined) {
    try {
      env.HOME = (await resolveUser({ fs: options.fs, user: options.user })).home;
    } catch (err) {
      if (!(err instanceof UserLookupError)) throw err;
    }
  }
  return env;
}
