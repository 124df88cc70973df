/**
 * The executor contract: how a command runs on a filesystem. The builder hands an executor the
 * command, its environment and a filesystem (the union view of the step's image); the executor
 * changes that filesystem and reports an exit code. The virtual shell (`src/shell/`) is the
 * default, which runs everywhere and in memory; other executors (real Linux namespaces, a
 * function in tests) plug in here. It lives below the shell, the runtime and the builder, which
 * all depend on it.
 */
import type { Digest } from '../digest/digest.js';
import type { Descriptor } from '../oci/types.js';
import type { Store } from '../store/store.js';
import type { ExecutorFs } from './fs-contract.js';

/** One command to run. */
export interface ExecRequest {
  /** The command: for a shell-form RUN this is the SHELL plus the command string (`['/bin/sh', '-c', '...']`). */
  argv: string[];
  /** Environment variables, already expanded. */
  env: Record<string, string>;
  /** Working directory (absolute, inside `fs`). */
  cwd: string;
  /** The USER in effect (`name`, `uid`, `uid:gid`...); empty means root. */
  user: string;
  /** The filesystem to run against. */
  fs: ExecutorFs;
  signal?: AbortSignal;
  /** Receives standard output bytes as they are produced. */
  stdout?: (chunk: Uint8Array) => void;
  /** Receives standard error bytes as they are produced. */
  stderr?: (chunk: Uint8Array) => void;
  /** Bytes for standard input (heredoc RUN bodies are passed in argv instead). */
  stdin?: Uint8Array;
  /**
   * The step's network: `default` gives the command a network (the Linux executor: a user-mode
   * NAT through slirp4netns where installed, else the host's network namespace, as buildah's
   * chroot isolation does); `none` a namespace with only loopback; `host` (only with the build's
   * `network.host` entitlement) the host's. In-process executors have no network either way.
   */
  network?: 'default' | 'none' | 'host';
  /** The host name the command sees (its own UTS namespace in the Linux executor). */
  hostname?: string;
  /**
   * `RUN --security`: `sandbox` (default) runs with a container's usual capabilities and a minimal
   * /dev; `insecure` (only with the `security.insecure` entitlement) with all of root's and the host's /dev.
   */
  security?: 'sandbox' | 'insecure';
  /** With `RUN --mount`: the step's own view without the mounts (`fs` shows them). */
  rootfs?: ExecutorFs;
  /**
   * The image layers `rootfs` (or `fs`) was mounted on, bottom first, with their store: an
   * executor that mounts for real (the Linux one) stacks the runtime's extracted layers instead
   * of copying the whole view. Absent for a view it cannot know the layers of.
   */
  layers?: { store: Store; layers: ReadonlyArray<{ descriptor: Descriptor; diffId: Digest }> };
  /** With `RUN --mount`: what is mounted where. */
  mounts?: ExecMount[];
}

/**
 * A filesystem mounted for one command (`RUN --mount`). Executors that run in-process need not
 * look at it: `ExecRequest.fs` already shows every mount. Executors that mount for real (the
 * Linux one) use `rootfs` and these.
 */
export interface ExecMount {
  /** Absolute path where it appears. */
  target: string;
  /** The mounted view (a layerkit UnionFS) and the path inside it that appears at `target` (a directory, or a file). */
  fs: ExecutorFs;
  root: string;
  readOnly: boolean;
  /** Changes under it are kept (a cache mount); under any other mount they are discarded. */
  persistent: boolean;
  /** What `RUN --mount` made it from: a bind, a cache, a tmpfs, a secret. */
  kind: 'bind' | 'cache' | 'tmpfs' | 'secret';
  /** tmpfs `size=`: the bytes of file data it may hold (writes beyond fail with ENOSPC). */
  sizeLimit?: number;
}

/** The seccomp filter a command ran under; see {@link ExecResult.seccomp}. */
export type ExecSeccomp = 'docker-default' | 'unconfined' | 'none';

/** The outcome of one command. */
export interface ExecResult {
  exitCode: number;
  /**
   * The seccomp filter the command ran under, for executors that run real processes:
   * `docker-default` (Docker's default profile, which BuildKit and buildah give every RUN),
   * `unconfined` (`RUN --security=insecure`: none, as `docker run --privileged`), `none` (an
   * isolation without a filter: the Linux executor's `chroot`). Absent for in-process executors.
   */
  seccomp?: ExecSeccomp;
}

/** Runs RUN steps. */
export interface Executor {
  /** A short name for progress output and errors (`virtual-shell`, `linux-namespaces`). */
  readonly name: string;
  run(request: ExecRequest): Promise<ExecResult>;
  /**
   * For an executor that hands each command to another (`auto`): which one runs this command on
   * this filesystem, and why. The builder keys the step by the chosen one's name and runs it.
   */
  choose?(target: ExecutorTarget): Promise<ExecutorChoice>;
}

/** What an executor that chooses looks at: the step's root filesystem and the command. */
export interface ExecutorTarget {
  fs: ExecutorFs;
  argv: readonly string[];
}

/** The executor chosen for a command, and why (for progress output). */
export interface ExecutorChoice {
  executor: Executor;
  why: string;
}
