/**
 * `runContainer`: `docker run` as a function. The container (made from an image, or an existing
 * one) gets its rootfs and spec, then runc runs it: in the foreground as this process's child
 * (stdio piped or inherited, the exit recorded here), or detached under a monitor process that
 * outlives the caller. The handle waits, signals, pauses, resumes and reads stats; every one of
 * those goes through the derived state, so they work the same on a container another process
 * started.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import nodeFs from 'node:fs';
import { dirname, join } from 'node:path';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { createKernelContainer, hasContainer } from '../container/container-record.js';
import { ErrorCodes, LayerkitError } from '../errors.js';
import type { Image } from '../image/image.js';
import type { Store } from '../store/store.js';
import { readOomKills, removeCgroups } from './cgroups.js';
import type { ContainerStats } from './lifecycle.js';
import { prepareContainer } from './prepare.js';
import { assertRuntime, runcBinary, SIGNALS } from './runc.js';
import { isMounted, unmount } from './snapshotter.js';
import { readInRoot } from './rootfs-read.js';
import { type BindMount, mergeEnv, type RunResources, type RunSpecOptions, type RuntimeSpec } from './spec.js';
import { resolveExecUser } from './users.js';
import {
  type ExitRecord,
  oomFileFor,
  readRunRecord,
  runcFor,
  runtimePaths,
  runtimeState,
  writeJson,
  type RunRecord,
  reconcileRuntime,
  readCreateOptions,
} from './state.js';

/** Options for {@link runContainer}. */
export interface RunContainerOptions {
  store: Store;
  /** The image to make a new container from (a ref, digest or prefix). */
  image?: string | undefined;
  /** An existing container to run (its writable layer is kept and grows). */
  container?: string | undefined;
  /** The new container's name (default: 12 hex characters of its id). */
  name?: string | undefined;
  /** Replaces the image's Cmd. */
  cmd?: string[] | undefined;
  /** Replaces the image's Entrypoint (and drops its Cmd). */
  entrypoint?: string[] | undefined;
  /** `K=V` (or `K` to unset), over the image's Env. */
  env?: string[] | undefined;
  /** `user[:group]`, names looked up in the image's /etc/passwd and /etc/group. */
  user?: string | undefined;
  workdir?: string | undefined;
  hostname?: string | undefined;
  mounts?: BindMount[] | undefined;
  /** `none` (default) or `host`. */
  network?: 'none' | 'host' | undefined;
  readOnly?: boolean | undefined;
  resources?: RunResources | undefined;
  /** Run under a monitor and return once the process runs; logs go to the container's log. */
  detach?: boolean | undefined;
  /** Allocate a terminal: in the foreground this process's stdio must be one; detached needs conmon. */
  tty?: boolean | undefined;
  /**
   * The monitor of a detached container: `layerkit` (a small Node process, the default) or
   * `conmon` (Debian package conmon: 2 MB instead of about 50, and the only one that can keep a
   * terminal, so `detach` with `tty` picks it).
   */
  monitor?: 'layerkit' | 'conmon' | undefined;
  /** Foreground stdio: `pipe` (default; the handle's streams) or `inherit` (this process's). */
  stdio?: 'pipe' | 'inherit' | undefined;
  /** Keep stdin open (`-i`): with `pipe` the handle's `stdin`, with `inherit` this process's. */
  interactive?: boolean | undefined;
  /** `default` (Docker's default seccomp profile) or `unconfined` (no filter; `--security-opt seccomp=unconfined`). */
  seccomp?: 'default' | 'unconfined' | undefined;
  /** Remove the container (and its writable layer) when it exits (`--rm`). */
  autoRemove?: boolean | undefined;
  /** Aborting sends SIGTERM to a foreground container (SIGKILL on a second abort is the caller's). */
  signal?: AbortSignal | undefined;
}

/** How a container ended. */
export interface ContainerExit {
  exitCode: number;
  /** The cgroup's OOM killer killed a process of the container. */
  oomKilled: boolean;
  finishedAt: string;
}

/** A running (or finished) container. */
export interface ContainerHandle {
  name: string;
  id: string;
  /** The init process's pid on the host. */
  pid: number;
  /** Foreground with `stdio: 'pipe'` only. */
  stdout?: Readable | undefined;
  stderr?: Readable | undefined;
  stdin?: Writable | undefined;
  /** Resolves when the container's process has exited (and the container is cleaned up). */
  wait(): Promise<ContainerExit>;
  /** Sends a signal (default SIGKILL) to the container's init. */
  kill(signal?: string): Promise<void>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  stats(): Promise<ContainerStats>;
}

function toExit(r: ExitRecord): ContainerExit {
  return { exitCode: r.exitCode, oomKilled: r.oomKilled, finishedAt: r.finishedAt };
}

function specOptions(o: RunContainerOptions): RunSpecOptions {
  const out: RunSpecOptions = {};
  for (const k of [
    'cmd',
    'entrypoint',
    'env',
    'user',
    'workdir',
    'hostname',
    'mounts',
    'network',
    'readOnly',
    'resources',
    'tty',
    'seccomp',
  ] as const)
    if (o[k] !== undefined) (out as Record<string, unknown>)[k] = o[k];
  return out;
}

/** Runs a command in a container: `docker run`. */
export async function runContainer(options: RunContainerOptions): Promise<ContainerHandle> {
  assertRuntime();
  const { store } = options;
  reconcileRuntime(store);
  if ((options.image === undefined) === (options.container === undefined))
    throw new LayerkitError(ErrorCodes.ERR_USAGE, 'runContainer needs exactly one of image and container', {});
  const monitor = options.monitor ?? (options.detach && options.tty ? 'conmon' : 'layerkit');
  if (options.detach && options.tty && monitor !== 'conmon')
    throw new LayerkitError(
      ErrorCodes.ERR_USAGE,
      "a detached container's terminal needs conmon as its monitor: runc hands the terminal over a socket as a file descriptor, which Node cannot receive",
      {},
    );
  if (options.detach && monitor === 'conmon' && !(await import('./monitor.js')).hasConmon())
    throw new LayerkitError(
      ErrorCodes.ERR_UNSUPPORTED,
      `conmon is not installed (Debian package: conmon)${options.tty ? '; a detached container with a terminal needs it, run it in the foreground with -t or detached without -t' : ''}`,
      { package: 'conmon' },
    );
  const id = randomBytes(32).toString('hex');
  let name = options.container;
  let created = false;
  let image: Image | undefined;
  if (name === undefined) {
    name = options.name ?? id.slice(0, 12);
    // Its writable layer is the kernel's from the start: nothing to convert before the mount.
    image = (await createKernelContainer({ store, image: options.image!, name })).image;
    created = true;
  } else {
    const state = runtimeState(store, name);
    if (state.status === 'running' || state.status === 'paused')
      throw new LayerkitError(
        ErrorCodes.ERR_CONTAINER_STATE,
        `container ${name} is ${state.status}; stop it first or use 'layerkit exec'`,
        { name, status: state.status },
      );
  }
  try {
    return await startPrepared({
      store,
      name,
      id,
      image,
      options: specOptions(options),
      autoRemove: options.autoRemove === true,
      detach: options.detach === true,
      stdio: options.stdio ?? 'pipe',
      interactive: options.interactive === true,
      monitor,
      signal: options.signal,
    });
  } catch (err) {
    if (created)
      await (await import('./lifecycle.js')).removeRuntime({ store, name, force: true }).catch(() => undefined);
    throw err;
  }
}

/** Options of {@link startPrepared}. */
interface StartOptions {
  store: Store;
  name: string;
  id: string;
  /** The container's image, when already loaded. */
  image?: Image | undefined;
  options: RunSpecOptions;
  autoRemove: boolean;
  detach: boolean;
  stdio: 'pipe' | 'inherit';
  interactive: boolean;
  monitor?: 'layerkit' | 'conmon' | undefined;
  signal?: AbortSignal | undefined;
}

/** @internal Prepares and starts a container (run and start share it). */
export async function startPrepared(o: StartOptions): Promise<ContainerHandle> {
  const { store, name, id } = o;
  const paths = runtimePaths(store, name);
  for (const f of [paths.exit, paths.pidFile, paths.monitor, paths.run]) nodeFs.rmSync(f, { force: true });
  nodeFs.mkdirSync(paths.dir, { recursive: true });
  const monitor = o.detach ? (o.monitor ?? 'layerkit') : undefined;
  const record: RunRecord = { id, name, options: o.options, autoRemove: o.autoRemove, detached: o.detach, monitor };
  for (const f of [paths.conmon.log]) nodeFs.rmSync(f, { force: true });
  nodeFs.rmSync(paths.conmon.dir, { recursive: true, force: true });
  await prepareContainer({ store, name, id, options: o.options, image: o.image, signal: o.signal });
  const runc = runcFor(store);
  // --rm: the container itself goes first (its record, so it is gone at once, then its writable layer
  // and gc root), then its runtime state (a detached one's monitor keeps the exit record, so `wait`
  // still gets the code): a crash in between leaves only runtime state whose container is gone,
  // which the next reconciliation removes, never a half-removed container.
  const containerPaths = [
    store.statePath('containers', name, 'container.json'),
    store.statePath('containers', name),
    store.statePath('roots', 'containers', `${encodeURIComponent(name).replace(/\./g, '%2E')}.json`),
  ];
  const removePaths = o.autoRemove
    ? [
        ...containerPaths,
        ...[
          paths.bundle,
          paths.init,
          paths.rootfs,
          paths.etc,
          paths.log,
          paths.run,
          paths.monitorConfig,
          paths.pidFile,
        ],
        ...[paths.created, paths.monitor],
      ]
    : [];
  if (o.detach) {
    const config = {
      runc: runcBinary(),
      root: runc.root,
      id,
      bundle: paths.bundle,
      pidFile: paths.pidFile,
      log: paths.log,
      exit: paths.exit,
      oomFile: oomFileFor(id),
      rootfs: paths.rootfs,
      removePaths: o.autoRemove ? [...removePaths, paths.conmon.dir, paths.conmon.log] : removePaths,
    };
    if (monitor === 'conmon') {
      writeJson(paths.monitor, { pid: process.pid }, 'monitor'); // this process watches until conmon's pid is known
      writeJson(paths.run, record, 'run');
      try {
        const { launchConmon } = await import('./monitor.js');
        const pid = await launchConmon(
          paths.monitorConfig,
          {
            ...config,
            conmon: { exitFile: join(paths.conmon.exits, id), oomMarker: join(paths.conmon.persist, 'oom') },
          },
          { ...paths.conmon, name, tty: o.options.tty === true },
        );
        writeJson(paths.monitor, { pid }, 'monitor');
        runc.check(['start', id]);
      } catch (err) {
        runc.delete(id, true);
        unmount(paths.rootfs);
        removeCgroups(id);
        nodeFs.rmSync(paths.run, { force: true });
        throw err;
      }
    } else {
      const { launchMonitor } = await import('./monitor.js');
      const pid = launchMonitor(paths.monitorConfig, config);
      writeJson(paths.monitor, { pid }, 'monitor');
      writeJson(paths.run, record, 'run');
    }
    const initPid = await waitForPid(paths.pidFile, paths.exit);
    record.startedAt = new Date().toISOString();
    record.pid = initPid;
    if (nodeFs.existsSync(paths.dir)) writeJson(paths.run, record, 'run');
    return handleFor(store, name, id, initPid);
  }
  writeJson(paths.monitor, { pid: process.pid }, 'monitor');
  record.startedAt = new Date().toISOString();
  writeJson(paths.run, record, 'run');
  const stdin = o.interactive ? (o.stdio === 'inherit' ? 'inherit' : 'pipe') : 'ignore';
  const child = spawn(
    runcBinary(),
    ['--root', runc.root, 'run', '--keep', '--pid-file', paths.pidFile, '-b', paths.bundle, id],
    {
      stdio: [stdin, o.stdio, o.stdio],
    },
  );
  // Node drains unread child pipes when the child exits: hold the output in streams of our own.
  const stdout = child.stdout?.pipe(new PassThrough());
  const stderr = child.stderr?.pipe(new PassThrough());
  const onAbort = () => child.kill('SIGTERM');
  o.signal?.addEventListener('abort', onAbort, { once: true });
  const exited = new Promise<ContainerExit>((resolve, reject) => {
    child.once('error', (err) =>
      reject(new LayerkitError(ErrorCodes.ERR_UNSUPPORTED, `cannot run runc: ${err.message}`, {})),
    );
    child.once('close', (code, sig) => {
      o.signal?.removeEventListener('abort', onAbort);
      const exitCode = code ?? 128 + (sig ? (SIGNALS[sig.replace(/^SIG/, '')] ?? 9) : 9);
      try {
        const oomKills = readOomKills(id);
        let cgroupsLeft = true;
        try {
          runc.removeStopped(id, (i) => {
            const left = removeCgroups(i);
            cgroupsLeft = left.length > 0;
            return left;
          });
        } finally {
          unmount(paths.rootfs);
          if (cgroupsLeft) removeCgroups(id);
        }
        const exit: ExitRecord = { exitCode, oomKilled: oomKills > 0, oomKills, finishedAt: new Date().toISOString() };
        if (o.autoRemove) {
          for (const p of containerPaths) nodeFs.rmSync(p, { recursive: true, force: true });
          try {
            // No longer watched (first, so that a folder that resists is any reconciliation's to remove).
            nodeFs.rmSync(paths.monitor, { force: true });
            nodeFs.rmSync(paths.dir, { recursive: true, force: true });
          } catch {
            // The container is gone: the next reconciliation removes runtime state whose container is gone.
          }
        } else {
          writeJson(paths.exit, exit, 'exit');
          nodeFs.rmSync(paths.monitor, { force: true });
        }
        resolve(toExit(exit));
      } catch (err) {
        reject(err);
      }
    });
  });
  let ended = false;
  exited.then(
    () => {
      ended = true;
    },
    () => {
      ended = true;
    },
  );
  const initPid = await waitForPid(paths.pidFile, paths.exit, () => ended, exited);
  const handle = handleFor(store, name, id, initPid, exited);
  if (o.stdio === 'pipe') {
    handle.stdout = stdout;
    handle.stderr = stderr;
    handle.stdin = child.stdin ?? undefined;
  }
  return handle;
}

/**
 * Waits for runc to write the init's pid (0: the container ended or was removed first). The
 * folder is watched (inotify), so the pid is read when runc renames its file into place instead of
 * on a 10 ms poll competing with runc for the CPU; a slow poll stays as the fallback where watching
 * is not possible or an event is missed.
 */
async function waitForPid(
  pidFile: string,
  exitFile: string,
  ended: () => boolean = () => false,
  exited?: Promise<unknown>,
): Promise<number> {
  const dir = dirname(pidFile);
  let wake: (() => void) | undefined;
  let watcher: nodeFs.FSWatcher | undefined;
  try {
    watcher = nodeFs.watch(dir, { persistent: false }, () => wake?.());
    watcher.on('error', () => undefined);
  } catch {
    // no inotify here (or the folder is gone): the poll below still sees the file
  }
  // A foreground container that ends between two looks wakes the loop at once.
  exited?.then(
    () => wake?.(),
    () => wake?.(),
  );
  const deadline = Date.now() + 30_000;
  try {
    while (Date.now() < deadline) {
      if (ended()) return 0;
      if (nodeFs.existsSync(pidFile)) {
        const pid = Number(nodeFs.readFileSync(pidFile, 'utf8').trim());
        if (pid > 0) return pid;
      }
      if (nodeFs.existsSync(exitFile) || !nodeFs.existsSync(dir)) return 0;
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, watcher ? 100 : 10);
      });
      clearTimeout(timer);
    }
  } finally {
    wake = undefined;
    watcher?.close();
  }
  throw new LayerkitError(ErrorCodes.ERR_RUNTIME, 'the container did not start within 30 s', { pidFile });
}

function handleFor(
  store: Store,
  name: string,
  id: string,
  pid: number,
  exited?: Promise<ContainerExit>,
): ContainerHandle {
  return {
    name,
    id,
    pid,
    // The lifecycle operations (stop, kill, pause, wait on another process's container, rm) load when
    // a handle first needs one: a foreground `run` learns its exit from its own child and never does,
    // so the CLI's start-up, timed against runc's, does not pay for them.
    wait: async () => exited ?? (await import('./lifecycle.js')).waitContainer({ store, name }),
    kill: async (signal = 'KILL') => (await import('./lifecycle.js')).killContainer({ store, name, signal }),
    pause: async () => (await import('./lifecycle.js')).pauseContainer({ store, name }),
    resume: async () => (await import('./lifecycle.js')).resumeContainer({ store, name }),
    stats: async () => (await import('./lifecycle.js')).containerStats({ store, name }),
  };
}

/** Options for {@link startContainer}. */
export interface StartContainerOptions {
  store: Store;
  name: string;
  signal?: AbortSignal | undefined;
}

/**
 * Starts a created or exited container, detached, with the options it last ran with (or the
 * image's defaults): `docker start`. A running or paused one is refused (`ERR_CONTAINER_STATE`).
 */
export async function startContainer({ store, name, signal }: StartContainerOptions): Promise<ContainerHandle> {
  assertRuntime();
  if (!hasContainer({ store, name }))
    throw new LayerkitError(ErrorCodes.ERR_NOT_FOUND, `no container named ${JSON.stringify(name)}`, { name });
  const state = runtimeState(store, name);
  if (state.status === 'running' || state.status === 'paused')
    throw new LayerkitError(ErrorCodes.ERR_CONTAINER_STATE, `container ${name} is already ${state.status}`, {
      name,
      status: state.status,
    });
  const ran = readRunRecord(store, name);
  const previous = ran ?? readCreateOptions(store, name);
  return startPrepared({
    monitor: ran?.monitor ?? (previous?.options.tty ? 'conmon' : undefined),
    store,
    name,
    id: randomBytes(32).toString('hex'),
    options: previous?.options ?? {},
    autoRemove: previous?.autoRemove ?? false,
    detach: true,
    stdio: 'pipe',
    interactive: false,
    signal,
  });
}

/** Options for {@link execContainer}. */
export interface ExecContainerOptions {
  store: Store;
  name: string;
  cmd: string[];
  /** `K=V` added to the container's environment. */
  env?: string[] | undefined;
  /** `user[:group]` (default: the container's). */
  user?: string | undefined;
  workdir?: string | undefined;
  /** `inherit` (this process's stdio) or `pipe` (default: output collected and returned). */
  stdio?: 'inherit' | 'pipe' | undefined;
  signal?: AbortSignal | undefined;
}

/** Runs another process in a running container's namespaces and cgroup: `docker exec` (runc exec). */
export async function execContainer(
  o: ExecContainerOptions,
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const { store, name } = o;
  const state = runtimeState(store, name);
  if (state.status !== 'running')
    throw new LayerkitError(ErrorCodes.ERR_CONTAINER_STATE, `cannot exec in container ${name}: it is ${state.status}`, {
      name,
      status: state.status,
    });
  const paths = runtimePaths(store, name);
  const spec = JSON.parse(nodeFs.readFileSync(paths.config, 'utf8')) as RuntimeSpec;
  const user =
    o.user === undefined
      ? spec.process.user
      : (() => {
          // The overlay is mounted on the host, or only inside the container (read it through its init).
          const root = isMounted(paths.rootfs) || !state.pid ? paths.rootfs : `/proc/${state.pid}/root`;
          const u = resolveExecUser({
            user: o.user,
            passwd: readInRoot(root, '/etc/passwd'),
            group: readInRoot(root, '/etc/group'),
          });
          return { uid: u.uid, gid: u.gid, umask: 0o022, additionalGids: u.additionalGids };
        })();
  const proc: RuntimeSpec['process'] = {
    ...spec.process,
    terminal: false,
    args: o.cmd,
    env: mergeEnv(spec.process.env, o.env),
    cwd: o.workdir ?? spec.process.cwd,
    user,
  };
  const processFile = `${paths.dir}/exec-${randomBytes(6).toString('hex')}.json`;
  nodeFs.writeFileSync(processFile, JSON.stringify(proc));
  const runc = runcFor(store);
  try {
    return await new Promise((resolve, reject) => {
      const child = spawn(runcBinary(), ['--root', runc.root, 'exec', '--process', processFile, state.run!.id], {
        stdio: ['ignore', o.stdio ?? 'pipe', o.stdio ?? 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (c: Buffer) => {
        stdout += c.toString('utf8');
      });
      child.stderr?.on('data', (c: Buffer) => {
        stderr += c.toString('utf8');
      });
      const onAbort = () => child.kill('SIGTERM');
      o.signal?.addEventListener('abort', onAbort, { once: true });
      child.once('error', reject);
      child.once('close', (code, sig) => {
        o.signal?.removeEventListener('abort', onAbort);
        resolve({ exitCode: code ?? 128 + (sig ? (SIGNALS[sig.replace(/^SIG/, '')] ?? 9) : 9), stdout, stderr });
      });
    });
  } finally {
    nodeFs.rmSync(processFile, { force: true });
  }
}
