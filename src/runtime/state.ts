/**
 * A container's runtime state, always derived, never remembered: the run record (what was asked,
 * when it started), `runc state` (created, running, paused, stopped) and the exit record the
 * monitor writes (exit code, OOM). Any process can read it, so ps/inspect/stop/logs/rm work
 * after the CLI that started a container is gone. Also the reconciliation that cleans what a
 * crash left behind (an overlay still mounted, a stopped runc container, an empty cgroup).
 *
 * ```
 * layerkit/runtime/runc/                       runc --root (private to this store)
 * layerkit/runtime/layers/<diffID hex>/fs/     extracted layers (snapshotter), opaque.json beside fs/
 * layerkit/runtime/containers/<name>/run.json  { id, options, startedAt, ... }
 *   bundle/config.json, init/, rootfs/ (the overlay when mounted on the host), etc/, log.jsonl, exit.json,
 *   monitor.json
 * ```
 */
import { spawnSync } from 'node:child_process';
import nodeFs from 'node:fs';
import { join } from 'node:path';
import { isProcessAlive } from '../store/atomic.js';
import type { LayerkitError } from '../errors.js';
import type { GcRoot } from '../store/gc.js';
import { checkFormatVersion, corruptFile, isStateFileProblem, type JsonFileMeaning } from '../store/state.js';
import type { Store } from '../store/store.js';
import { cgroupDir, cgroupMode, readOomKills, removeCgroups } from './cgroups.js';
import { EXIT_RECORD_VERSION, FINALIZE_SOURCE } from './finalize.js';
import { Runc } from './runc.js';
import { isMounted, mountedUnder, unmount } from './snapshotter.js';
import type { RunSpecOptions } from './spec.js';

/** The folder of the runtime's private state. */
export const RUNTIME_STATE = 'runtime';

/** A container's status, as `docker ps` names them. */
export type ContainerStatus = 'created' | 'running' | 'paused' | 'exited';

/** What `run`/`start` recorded. */
export interface RunRecord {
  /** The runc id (64 hex), also the cgroup's name. */
  id: string;
  name: string;
  /** The options the container runs with (`start` reuses them). */
  options: RunSpecOptions;
  /** Remove the container when it exits (`--rm`). */
  autoRemove: boolean;
  detached: boolean;
  /** The process that watches it: layerkit's own monitor (default) or conmon. */
  monitor?: 'layerkit' | 'conmon' | undefined;
  startedAt?: string | undefined;
  /** The container's init process, as seen from the host. */
  pid?: number | undefined;
}

/** What the monitor records when the process exits. */
export interface ExitRecord {
  exitCode: number;
  oomKilled: boolean;
  oomKills: number;
  finishedAt: string;
}

/** Paths of one container's runtime state. */
export interface RuntimePaths {
  dir: string;
  run: string;
  bundle: string;
  config: string;
  init: string;
  rootfs: string;
  etc: string;
  log: string;
  exit: string;
  monitor: string;
  monitorConfig: string;
  pidFile: string;
  /** The options `create` was given, for the first `start`. */
  created: string;
  /** conmon's folders and files when it is the monitor. */
  conmon: { dir: string; exits: string; persist: string; sockets: string; pidFile: string; log: string };
}

/** The private runc root of a store. */
export function runcFor(store: Store): Runc {
  const root = store.statePath(RUNTIME_STATE, 'runc');
  nodeFs.mkdirSync(root, { recursive: true, mode: 0o700 });
  return new Runc(root);
}

/** Where a container's runtime state lives. */
export function runtimePaths(store: Store, name: string): RuntimePaths {
  const dir = store.statePath(RUNTIME_STATE, 'containers', name);
  return {
    dir,
    run: join(dir, 'run.json'),
    bundle: join(dir, 'bundle'),
    config: join(dir, 'bundle', 'config.json'),
    init: join(dir, 'init'),
    rootfs: join(dir, 'rootfs'),
    etc: join(dir, 'etc'),
    log: join(dir, 'log.jsonl'),
    exit: join(dir, 'exit.json'),
    monitor: join(dir, 'monitor.json'),
    monitorConfig: join(dir, 'monitor-config.json'),
    pidFile: join(dir, 'init.pid'),
    created: join(dir, 'create.json'),
    conmon: {
      dir: join(dir, 'conmon'),
      exits: join(dir, 'conmon', 'exits'),
      persist: join(dir, 'conmon', 'persist'),
      sockets: join(dir, 'conmon', 'sockets'),
      pidFile: join(dir, 'conmon', 'conmon.pid'),
      log: join(dir, 'log.k8s'),
    },
  };
}

/**
 * The runtime's JSON files in the store, each with its format version: every writer adds
 * `"version": N` ({@link writeJson}), every reader refuses a newer one with `ERR_UNSUPPORTED` and a
 * damaged or truncated one with `ERR_STORE_CORRUPT` naming it. Files from before versions existed
 * (no `version`) read as version 1. The monitor and conmon's finaliser (monitor.ts) write the
 * exit record with `EXIT_RECORD_VERSION`.
 */
export const RUNTIME_FILES = {
  run: { what: 'container run record', version: 1 },
  created: { what: "container's create options", version: 1 },
  exit: { what: 'container exit record', version: EXIT_RECORD_VERSION },
  monitor: { what: 'container monitor record', version: 1 },
} as const;

type RuntimeFile = keyof typeof RUNTIME_FILES;

const FIX = "remove the container ('layerkit rm -f NAME') and run 'layerkit verify'";

/**
 * Reads one of the runtime's JSON files: undefined when it does not exist; `ERR_STORE_CORRUPT`
 * (naming the file) when it does not parse or is not an object; `ERR_UNSUPPORTED` when a newer
 * layerkit wrote it. The version field is not part of the value returned.
 */
export function readRuntimeFile<T>(path: string, kind: RuntimeFile): T | undefined {
  const file = RUNTIME_FILES[kind];
  const meaning: JsonFileMeaning = { what: file.what, fix: FIX };
  let text: string;
  try {
    text = nodeFs.readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw corruptFile(path, meaning, text.length === 0 ? 'is empty' : 'is not valid JSON (damaged or truncated)', err);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw corruptFile(path, meaning, `is not a ${file.what}`);
  const { version, ...rest } = value as { version?: unknown };
  checkFormatVersion(path, file.what, version, file.version);
  return rest as T;
}

/**
 * The runtime's records in gc and verify: each container's run, create, exit and monitor records
 * are read through {@link readRuntimeFile}; a damaged or newer one is reported (and gc, as for
 * every owner's damaged state, then removes nothing). They keep nothing alive themselves: a
 * container's image is its container record's root.
 */
export const runtimeStateGcRoot: GcRoot = {
  name: 'container runtime state',
  mark(store) {
    const damaged: LayerkitError[] = [];
    for (const name of store.listState(`${RUNTIME_STATE}/containers`)) {
      const paths = runtimePaths(store, name);
      for (const kind of Object.keys(RUNTIME_FILES) as RuntimeFile[])
        try {
          readRuntimeFile(paths[kind], kind);
        } catch (err) {
          if (!isStateFileProblem(err)) throw err;
          damaged.push(err);
        }
    }
    return { damaged };
  },
};

/** Writes one of the runtime's JSON files atomically (rename over the old one), with its format version. */
export function writeJson(path: string, value: object, kind: RuntimeFile): void {
  const tmp = `${path}.${process.pid}.tmp`;
  nodeFs.writeFileSync(tmp, JSON.stringify({ ...value, version: RUNTIME_FILES[kind].version }));
  nodeFs.renameSync(tmp, path);
}

/** The run record, or undefined when the container never started. */
export function readRunRecord(store: Store, name: string): RunRecord | undefined {
  return readRuntimeFile<RunRecord>(runtimePaths(store, name).run, 'run');
}

/** Records the options a created container will start with (`docker create IMAGE CMD...`). */
export function setCreateOptions({
  store,
  name,
  options,
  autoRemove = false,
}: {
  store: Store;
  name: string;
  options: RunSpecOptions;
  autoRemove?: boolean;
}): void {
  const paths = runtimePaths(store, name);
  nodeFs.mkdirSync(paths.dir, { recursive: true });
  writeJson(paths.created, { options, autoRemove }, 'created');
}

/** The options recorded by {@link setCreateOptions}. */
export function readCreateOptions(
  store: Store,
  name: string,
): { options: RunSpecOptions; autoRemove: boolean } | undefined {
  return readRuntimeFile(runtimePaths(store, name).created, 'created');
}

/** The exit record, or undefined while the process runs (or never ran). */
export function readExitRecord(store: Store, name: string): ExitRecord | undefined {
  return readRuntimeFile<ExitRecord>(runtimePaths(store, name).exit, 'exit');
}

/** True when the process watching this container (a monitor or a foreground CLI) is alive. */
export function monitorAlive(store: Store, name: string): boolean {
  const m = readRuntimeFile<{ pid: number }>(runtimePaths(store, name).monitor, 'monitor');
  return m !== undefined && m.pid > 0 && isProcessAlive(m.pid);
}

/** Everything known about a container's process. */
export interface RuntimeState {
  status: ContainerStatus;
  run?: RunRecord | undefined;
  exit?: ExitRecord | undefined;
  /** runc's own status when runc knows the container. */
  runcStatus?: string | undefined;
  pid?: number | undefined;
}

/** Derives a container's status from its records and runc (cleaning up after a crash first). */
export function runtimeState(store: Store, name: string): RuntimeState {
  reconcile(store, name);
  const run = readRunRecord(store, name);
  if (run === undefined) return { status: 'created' };
  const exit = readExitRecord(store, name);
  const rs = runcFor(store).state(run.id);
  if (rs !== undefined && rs.status !== 'stopped') {
    const status: ContainerStatus = rs.status === 'paused' ? 'paused' : 'running';
    return { status, run, exit: undefined, runcStatus: rs.status, pid: rs.pid };
  }
  if (exit !== undefined) return { status: 'exited', run, exit, runcStatus: rs?.status };
  // Started, not yet (or no longer) known to runc, the exit not yet written: a live watcher means starting.
  if (monitorAlive(store, name)) return { status: 'running', run, runcStatus: rs?.status, pid: run.pid };
  return { status: 'created', run };
}

/**
 * Cleans what a dead watcher left: a stopped (or half-created) runc container, the overlay still
 * mounted, the cgroup. The exit code a dead watcher could not record becomes 255 (unknown); the
 * OOM counter is read from the cgroup while it still exists.
 */
export function reconcile(store: Store, name: string, mounts?: ReadonlySet<string>): void {
  const paths = runtimePaths(store, name);
  // `mounts`: the mount points a pass over every container read once (see reconcileRuntime).
  const mounted = () => (mounts ? mounts.has(paths.rootfs) : isMounted(paths.rootfs));
  const run = readRunRecord(store, name);
  if (run === undefined) {
    if (mounted()) unmount(paths.rootfs);
    return;
  }
  if (monitorAlive(store, name)) return;
  const runc = runcFor(store);
  const rs = runc.state(run.id);
  if (rs !== undefined && rs.status !== 'stopped' && rs.status !== 'creating') return; // still running, unwatched
  if (rs === undefined && !mounted() && readExitRecord(store, name) !== undefined) return;
  // conmon gone, its exit command (the finaliser) perhaps still running: do what it does (it is idempotent).
  if (run.monitor === 'conmon' && nodeFs.existsSync(paths.monitorConfig)) {
    spawnSync(process.execPath, ['-e', FINALIZE_SOURCE, paths.monitorConfig], { stdio: 'ignore' });
    removeCgroups(run.id);
    if (readExitRecord(store, name) !== undefined) return;
  }
  const oomKills = readOomKills(run.id);
  if (rs !== undefined) runc.delete(run.id, true);
  unmount(paths.rootfs);
  removeCgroups(run.id);
  if (readExitRecord(store, name) === undefined && run.startedAt !== undefined)
    writeJson(
      paths.exit,
      {
        exitCode: 255,
        oomKilled: oomKills > 0,
        oomKills,
        finishedAt: new Date().toISOString(),
      } satisfies ExitRecord,
      'exit',
    );
}

/**
 * Reconciles every container of the store at once (what `run` and `ps` do first): each one as
 * {@link reconcile} does, plus runtime state whose container record is gone (a crash during
 * `--rm`) and stopped runc containers nothing refers to.
 */
export function reconcileRuntime(store: Store): void {
  const dir = store.statePath(RUNTIME_STATE, 'containers');
  let names: string[] = [];
  try {
    names = nodeFs.readdirSync(dir);
  } catch {
    return;
  }
  const known = new Set<string>();
  // One read of the mount table for the whole pass, not one per container.
  const mounts = new Set(mountedUnder(dir));
  const runcRoot = store.statePath(RUNTIME_STATE, 'runc');
  // With no container at all in runc's state folder, one that exited (its exit record written, its
  // container there, nothing mounted) has nothing a crash could have left: it is skipped without
  // reading its records, so a store's exited containers do not slow every run down.
  const runcEmpty = new Runc(runcRoot).ids().length === 0;
  for (const name of names) {
    const paths = runtimePaths(store, name);
    if (
      runcEmpty &&
      !mounts.has(paths.rootfs) &&
      nodeFs.existsSync(paths.exit) &&
      nodeFs.existsSync(store.statePath('containers', name, 'container.json'))
    )
      continue;
    reconcile(store, name, mounts);
    const run = readRunRecord(store, name);
    if (run) known.add(run.id);
    if (!nodeFs.existsSync(store.statePath('containers', name, 'container.json')) && !monitorAlive(store, name)) {
      const rs = run ? runcFor(store).state(run.id) : undefined;
      if (rs === undefined || rs.status === 'stopped') {
        unmount(runtimePaths(store, name).rootfs);
        nodeFs.rmSync(runtimePaths(store, name).dir, { recursive: true, force: true });
      }
    }
  }
  if (runcEmpty) return;
  const runc = runcFor(store);
  // Only ids no run record names are asked about, so a store with running containers spawns no runc here.
  for (const id of runc.ids())
    if (!known.has(id) && runc.state(id)?.status === 'stopped') {
      runc.delete(id, true);
      removeCgroups(id);
    }
}

/** The cgroup file whose `oom_kill` line counts the container's OOM kills. */
export function oomFileFor(id: string): string {
  return join(cgroupDir(id, 'memory'), cgroupMode() === 'v2' ? 'memory.events' : 'memory.oom_control');
}
