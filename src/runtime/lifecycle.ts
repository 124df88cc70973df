/**
 * The container lifecycle after start: kill, stop, pause, resume, wait, logs, inspect, stats,
 * list and remove, each checking the derived state first and refusing an illegal transition
 * with `ERR_CONTAINER_STATE` (rather than parsing runc's messages), so that they behave the same
 * from any process.
 */
import nodeFs from 'node:fs';
import {
  containerImage,
  type ContainerInfo,
  getContainer,
  hasContainer,
  listContainers,
  removeContainer,
} from '../container/container-record.js';
import { ErrorCodes, LayerkitError, throwIfAborted } from '../errors.js';
import type { Store } from '../store/store.js';
import { readLimits, readUsage, removeCgroups, type CgroupLimits } from './cgroups.js';
import { signalName } from './runc.js';
import { unmount } from './snapshotter.js';
import {
  type ContainerStatus,
  readExitRecord,
  readRunRecord,
  runcFor,
  runtimePaths,
  runtimeState,
  type RuntimeState,
  reconcileRuntime,
} from './state.js';

/** A container name and store. */
export interface ContainerRef {
  store: Store;
  name: string;
}

function stateOf(store: Store, name: string): RuntimeState {
  if (!hasContainer({ store, name }))
    throw new LayerkitError(
      ErrorCodes.ERR_NOT_FOUND,
      `no container named ${JSON.stringify(name)}; 'layerkit ps -a' lists them`,
      { name },
    );
  return runtimeState(store, name);
}

function refuse(name: string, status: ContainerStatus, what: string): never {
  throw new LayerkitError(ErrorCodes.ERR_CONTAINER_STATE, `cannot ${what} container ${name}: it is ${status}`, {
    name,
    status,
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A container's status (`created`, `running`, `paused`, `exited`), derived from runc and the exit record. */
export function containerStatus({ store, name }: ContainerRef): ContainerStatus {
  return stateOf(store, name).status;
}

/** Sends a signal to a running (or paused) container's init: `docker kill`. */
export async function killContainer({ store, name, signal = 'KILL' }: ContainerRef & { signal?: string }) {
  const s = stateOf(store, name);
  if (s.status !== 'running' && s.status !== 'paused') refuse(name, s.status, 'kill');
  runcFor(store).kill(s.run!.id, signalName(signal));
}

/** Freezes a running container: `docker pause`. */
export async function pauseContainer({ store, name }: ContainerRef): Promise<void> {
  const s = stateOf(store, name);
  if (s.status !== 'running') refuse(name, s.status, 'pause');
  runcFor(store).pause(s.run!.id);
}

/** Thaws a paused container: `docker unpause`. */
export async function resumeContainer({ store, name }: ContainerRef): Promise<void> {
  const s = stateOf(store, name);
  if (s.status !== 'paused') refuse(name, s.status, 'resume');
  runcFor(store).resume(s.run!.id);
}

/** Waits for a started container's exit record: `docker wait`. */
export async function waitContainer({
  store,
  name,
  signal,
}: ContainerRef & { signal?: AbortSignal | undefined }): Promise<{
  exitCode: number;
  oomKilled: boolean;
  finishedAt: string;
}> {
  const paths = runtimePaths(store, name);
  for (let i = 0; ; i++) {
    throwIfAborted(signal);
    const exit = readExitRecord(store, name);
    if (exit) return { exitCode: exit.exitCode, oomKilled: exit.oomKilled, finishedAt: exit.finishedAt };
    if (!nodeFs.existsSync(paths.dir)) return { exitCode: 0, oomKilled: false, finishedAt: new Date().toISOString() }; // removed by --rm
    if (i % 20 === 0) {
      const s = runtimeState(store, name);
      if (s.status === 'created' && s.run === undefined) refuse(name, s.status, 'wait for');
      if (s.exit) return { exitCode: s.exit.exitCode, oomKilled: s.exit.oomKilled, finishedAt: s.exit.finishedAt };
    }
    await sleep(25);
  }
}

/**
 * Stops a container: its stop signal (the image's StopSignal, else SIGTERM), then SIGKILL after
 * `timeout` seconds (default 10), as `docker stop` does. A paused container is thawed so it can
 * handle the signal. Stopping one that is not running is a no-op, as in Docker.
 */
export async function stopContainer({
  store,
  name,
  timeout = 10,
  signal,
}: ContainerRef & { timeout?: number; signal?: AbortSignal | undefined }): Promise<void> {
  const s = stateOf(store, name);
  if (s.status !== 'running' && s.status !== 'paused') return;
  const runc = runcFor(store);
  const id = s.run!.id;
  const stopSignal = await imageStopSignal(store, name);
  try {
    runc.kill(id, stopSignal);
    if (s.status === 'paused') runc.resume(id);
  } catch {
    // it may have exited in between
  }
  const deadline = Date.now() + timeout * 1000;
  while (Date.now() < deadline) {
    throwIfAborted(signal);
    const rs = runc.state(id);
    if (rs === undefined || rs.status === 'stopped') break;
    await sleep(50);
  }
  const rs = runc.state(id);
  if (rs !== undefined && rs.status !== 'stopped') runc.kill(id, 'KILL', true);
  await waitContainer({ store, name, signal });
}

async function imageStopSignal(store: Store, name: string): Promise<string> {
  const image = await containerImage({ store, name });
  const s = (image.config.config as { StopSignal?: string } | undefined)?.StopSignal;
  try {
    return s ? signalName(s) : 'TERM';
  } catch {
    return 'TERM';
  }
}

/**
 * Removes a container's runtime state (and with `removeLayer`, the container itself): a running
 * one only with `force` (killed first), as `docker rm -f`.
 */
export async function removeRuntime({ store, name, force = false }: ContainerRef & { force?: boolean }): Promise<void> {
  const paths = runtimePaths(store, name);
  if (!hasContainer({ store, name }) && !nodeFs.existsSync(paths.dir)) stateOf(store, name); // ERR_NOT_FOUND
  const s = hasContainer({ store, name }) ? runtimeState(store, name) : undefined;
  if (s && (s.status === 'running' || s.status === 'paused')) {
    if (!force)
      throw new LayerkitError(
        ErrorCodes.ERR_CONTAINER_STATE,
        `cannot remove container ${name}: it is ${s.status}; stop it first or use rm -f`,
        { name, status: s.status },
      );
    const runc = runcFor(store);
    runc.kill(s.run!.id, 'KILL', true);
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && !nodeFs.existsSync(paths.exit) && nodeFs.existsSync(paths.dir)) await sleep(25);
  }
  const run = readRunRecord(store, name);
  if (run) {
    runcFor(store).delete(run.id, true);
    removeCgroups(run.id);
  }
  unmount(paths.rootfs);
  nodeFs.rmSync(paths.dir, { recursive: true, force: true });
  if (hasContainer({ store, name })) await removeContainer({ store, name });
}

/** One log line as the monitor kept it (Docker's json-file shape). */
export interface LogLine {
  log: string;
  stream: 'stdout' | 'stderr';
  time: string;
}

/** A container's logs, in order; `follow` keeps reading until the container exits. */
export async function* containerLogs({
  store,
  name,
  follow = false,
  signal,
}: ContainerRef & { follow?: boolean; signal?: AbortSignal | undefined }): AsyncGenerator<LogLine> {
  stateOf(store, name);
  const paths = runtimePaths(store, name);
  // conmon keeps a k8s-file log (`TIME STREAM F|P TEXT`, P: a partial line), layerkit's monitor JSON lines.
  const k8s = readRunRecord(store, name)?.monitor === 'conmon';
  const file = k8s ? paths.conmon.log : paths.log;
  const partials = new Map<string, LogLine>(); // by stream: a P line waits for the F line that ends it
  const fromK8s = (line: string): LogLine | undefined => {
    const m = /^(\S+) (stdout|stderr) ([FP]) (.*)$/s.exec(line); // a terminal's lines end in \r
    if (!m) return undefined;
    const text = m[4]! + (m[3] === 'F' ? '\n' : '');
    const stream = m[2] as LogLine['stream'];
    const partial = partials.get(stream) ?? { log: '', stream, time: m[1]! };
    partial.log += text;
    if (m[3] === 'P') {
      partials.set(stream, partial);
      return undefined;
    }
    partials.delete(stream);
    return partial;
  };
  let offset = 0;
  let rest = '';
  for (;;) {
    let chunk = '';
    try {
      const fd = nodeFs.openSync(file, 'r');
      try {
        const size = nodeFs.fstatSync(fd).size;
        if (size > offset) {
          const buf = Buffer.alloc(size - offset);
          nodeFs.readSync(fd, buf, 0, buf.length, offset);
          offset = size;
          chunk = buf.toString('utf8');
        }
      } finally {
        nodeFs.closeSync(fd);
      }
    } catch {
      // no log yet
    }
    const text = rest + chunk;
    const lines = text.split('\n');
    rest = lines.pop() ?? '';
    for (const l of lines) {
      if (l === '') continue;
      if (!k8s) yield JSON.parse(l) as LogLine;
      else {
        const line = fromK8s(l);
        if (line) yield line;
      }
    }
    // Output that ended without a newline (conmon keeps it as P lines only), once nothing more comes.
    const flush = () => {
      const rest = [...partials.values()].sort((a, b) => (a.time < b.time ? -1 : 1));
      partials.clear();
      return rest;
    };
    if (!follow) {
      yield* flush();
      return;
    }
    const s = runtimeState(store, name);
    if (chunk === '' && (s.status === 'exited' || s.status === 'created')) {
      yield* flush();
      return;
    }
    if (signal?.aborted) return;
    await sleep(100);
  }
}

/** What `inspect` shows of a container. */
export interface ContainerDetails extends ContainerInfo {
  id?: string | undefined;
  status: ContainerStatus;
  running: boolean;
  paused: boolean;
  pid: number;
  exitCode?: number | undefined;
  oomKilled: boolean;
  startedAt?: string | undefined;
  finishedAt?: string | undefined;
  /** The command, user, limits and mounts it runs with. */
  config?: import('./spec.js').RunSpecOptions | undefined;
  /** The limits as the cgroup holds them (while it runs). */
  limits?: CgroupLimits | undefined;
}

/** Everything about one container: `docker inspect`. */
export async function inspectContainer({ store, name }: ContainerRef): Promise<ContainerDetails> {
  const s = stateOf(store, name);
  const info = getContainer({ store, name });
  const live = s.status === 'running' || s.status === 'paused';
  return {
    ...info,
    ...(s.run ? { id: s.run.id, config: s.run.options, startedAt: s.run.startedAt } : {}),
    status: s.status,
    running: live,
    paused: s.status === 'paused',
    pid: live ? (s.pid ?? 0) : 0,
    ...(s.exit ? { exitCode: s.exit.exitCode, finishedAt: s.exit.finishedAt } : {}),
    oomKilled: s.exit?.oomKilled ?? false,
    ...(live && s.run ? { limits: readLimits(s.run.id) } : {}),
  };
}

/** A container in a listing, with its derived state. */
export interface ContainerSummary extends ContainerInfo {
  id?: string | undefined;
  status: ContainerStatus;
  exitCode?: number | undefined;
  command?: string[] | undefined;
  startedAt?: string | undefined;
  finishedAt?: string | undefined;
}

/** Every container with its state (`docker ps -a`); `all: false` keeps running and paused ones. */
export function listContainerStates({ store, all = true }: { store: Store; all?: boolean }): ContainerSummary[] {
  if (!store.memory) reconcileRuntime(store);
  return listContainers({ store }).flatMap((info) => {
    const s = runtimeState(store, info.name);
    if (!all && s.status !== 'running' && s.status !== 'paused') return [];
    return [
      {
        ...info,
        status: s.status,
        ...(s.run ? { id: s.run.id, startedAt: s.run.startedAt, command: s.run.options.cmd } : {}),
        ...(s.exit ? { exitCode: s.exit.exitCode, finishedAt: s.exit.finishedAt } : {}),
      },
    ];
  });
}

/** One reading of a container's resource use, from its cgroup files. */
export interface ContainerStats {
  name: string;
  /** CPU use over the sampling interval, in percent of one CPU. */
  cpuPercent: number;
  memoryUsage: number;
  memoryLimit?: number | undefined;
  pids: number;
  pidsLimit?: number | undefined;
}

/** Reads a running container's usage: `docker stats --no-stream` (CPU sampled over `intervalMs`). */
export async function containerStats({
  store,
  name,
  intervalMs = 500,
}: ContainerRef & { intervalMs?: number }): Promise<ContainerStats> {
  const s = stateOf(store, name);
  if (s.status !== 'running' && s.status !== 'paused') refuse(name, s.status, 'read the stats of');
  const id = s.run!.id;
  const a = readUsage(id);
  const t0 = process.hrtime.bigint();
  await sleep(intervalMs);
  const b = readUsage(id);
  const elapsed = Number(process.hrtime.bigint() - t0);
  return {
    name,
    cpuPercent: elapsed > 0 ? Math.max(0, ((b.cpuNanos - a.cpuNanos) / elapsed) * 100) : 0,
    memoryUsage: b.memory,
    memoryLimit: b.memoryLimit,
    pids: b.pids,
    pidsLimit: b.pidsLimit,
  };
}
