/**
 * The per-container monitor of a detached container: a small Node process in its own session
 * (`setsid`) that runs `runc run --keep` in the foreground (runc is the subreaper and forwards
 * signals), keeps the container's stdout and stderr as JSON-lines logs (Docker's json-file
 * shape), and when the process exits reads the cgroup's OOM kill counter before `runc delete`,
 * unmounts the rootfs and writes the exit record. It outlives the CLI that started it.
 *
 * The script is self-contained (Node built-ins only) and runs with `node -e`, so it works the
 * same from the ESM and CJS builds, from sources under a test runner, and from a bundle.
 */
import { spawn, spawnSync } from 'node:child_process';
import nodeFs from 'node:fs';
import { ErrorCodes, LayerkitError } from '../errors.js';
import { isProcessAlive } from '../store/atomic.js';
import { EXIT_RECORD_VERSION, FINALIZE_SOURCE, MOUNTED_SOURCE } from './finalize.js';

/** What the monitor is told (written as JSON beside the bundle). */
export interface MonitorConfig {
  /** conmon runs the container and this script only finalises it (conmon's exit command). */
  conmon?: { exitFile: string; oomMarker: string } | undefined;
  runc: string;
  /** runc's `--root`. */
  root: string;
  id: string;
  bundle: string;
  pidFile: string;
  log: string;
  /** The exit record to write. */
  exit: string;
  /** v1 `memory.oom_control` or v2 `memory.events`: its `oom_kill` line is the counter. */
  oomFile: string;
  /** The overlay to unmount at the end. */
  rootfs: string;
  /** Removed after the exit (`--rm`): the container's folders and its gc root. */
  removePaths: string[];
}

/** The monitor program (CommonJS, Node built-ins only). argv[1]: the config file. */
export const MONITOR_SOURCE = String.raw`
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const { StringDecoder } = require('node:string_decoder');
const cfg = JSON.parse(fs.readFileSync(process.argv[1], 'utf8'));
${MOUNTED_SOURCE}
const log = fs.openSync(cfg.log, 'a');
const write = (stream, text) =>
  fs.writeSync(log, JSON.stringify({ log: text, stream, time: new Date().toISOString() }) + '\n');
const child = spawn(cfg.runc, ['--root', cfg.root, 'run', '--keep', '--pid-file', cfg.pidFile, '-b', cfg.bundle, cfg.id], {
  stdio: ['ignore', 'pipe', 'pipe'],
});
const pending = { stdout: '', stderr: '' };
for (const name of ['stdout', 'stderr']) {
  const decoder = new StringDecoder('utf8');
  child[name].on('data', (chunk) => {
    let text = pending[name] + decoder.write(chunk);
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n')) {
      write(name, text.slice(0, i + 1));
      text = text.slice(i + 1);
    }
    if (text.length >= 16384) {
      write(name, text);
      text = '';
    }
    pending[name] = text;
  });
}
const signals = { HUP: 1, INT: 2, QUIT: 3, KILL: 9, USR1: 10, SEGV: 11, USR2: 12, PIPE: 13, ALRM: 14, TERM: 15 };
const finish = (code, signal) => {
  for (const name of ['stdout', 'stderr']) if (pending[name]) write(name, pending[name]);
  let oomKills = 0;
  try {
    const m = /^oom_kill (\d+)$/m.exec(fs.readFileSync(cfg.oomFile, 'utf8'));
    if (m) oomKills = Number(m[1]);
  } catch {}
  const exitCode = code ?? 128 + (signals[String(signal).replace(/^SIG/, '')] ?? 9);
  spawnSync(cfg.runc, ['--root', cfg.root, 'delete', '-f', cfg.id], { stdio: 'ignore' });
  // A new container's overlay was mounted by runc inside it and is gone with it: no umount process then.
  if (mounted(cfg.rootfs) && spawnSync('umount', [cfg.rootfs], { stdio: 'ignore' }).status !== 0)
    spawnSync('umount', ['-l', cfg.rootfs], { stdio: 'ignore' });
  const record = { exitCode, oomKilled: oomKills > 0, oomKills, finishedAt: new Date().toISOString(), version: ${EXIT_RECORD_VERSION} };
  fs.writeFileSync(cfg.exit + '.tmp', JSON.stringify(record));
  fs.renameSync(cfg.exit + '.tmp', cfg.exit);
  for (const p of cfg.removePaths) fs.rmSync(p, { recursive: true, force: true });
  process.exit(0);
};
child.on('error', () => finish(127, null));
child.on('close', finish);
`;

/** Starts the monitor detached (its own session, no stdio); returns its pid. */
export function launchMonitor(configPath: string, config: MonitorConfig): number {
  nodeFs.writeFileSync(configPath, JSON.stringify(config));
  const child = spawn(process.execPath, ['-e', MONITOR_SOURCE, configPath], {
    detached: true,
    stdio: 'ignore',
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' },
  });
  child.unref();
  return child.pid ?? 0;
}

/** True when conmon (Debian package conmon) is on PATH. */
export function hasConmon(): boolean {
  return spawnSync('sh', ['-c', 'command -v conmon'], { stdio: 'ignore' }).status === 0;
}

/** Where conmon keeps a container's exit code, OOM marker, attach sockets and log. */
export interface ConmonPaths {
  dir: string;
  exits: string;
  persist: string;
  sockets: string;
  pidFile: string;
  log: string;
}

/**
 * Starts conmon as the container's monitor: it daemonises, runs `runc create` (so it is the
 * container's parent, as podman has it), keeps stdio (a terminal with `tty`) in a k8s-file log,
 * writes the exit code and the OOM marker, and runs {@link FINALIZE_SOURCE} when the process
 * exits. Returns conmon's pid once the container is created; the caller then runs `runc start`.
 */
export async function launchConmon(
  configPath: string,
  config: MonitorConfig,
  c: ConmonPaths & { name: string; tty: boolean },
): Promise<number> {
  for (const d of [c.exits, c.persist, c.sockets]) nodeFs.mkdirSync(d, { recursive: true });
  nodeFs.writeFileSync(configPath, JSON.stringify(config));
  const runcPath = spawnSync('sh', ['-c', `command -v ${JSON.stringify(config.runc)}`], { encoding: 'utf8' });
  const r = spawnSync(
    'conmon',
    [
      '--api-version',
      '1',
      '-c',
      config.id,
      '-u',
      config.id,
      '-n',
      c.name,
      '-r',
      runcPath.stdout.trim() || config.runc,
      '-b',
      config.bundle,
      '-p',
      config.pidFile,
      '--exit-dir',
      c.exits,
      '-0',
      c.persist,
      '-l',
      `k8s-file:${c.log}`,
      '--conmon-pidfile',
      c.pidFile,
      '--socket-dir-path',
      c.sockets,
      '--runtime-arg',
      '--root',
      '--runtime-arg',
      config.root,
      ...(c.tty ? ['-t'] : []),
      '--exit-command',
      process.execPath,
      '--exit-command-arg',
      '-e',
      '--exit-command-arg',
      FINALIZE_SOURCE,
      '--exit-command-arg',
      configPath,
    ],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' },
      // conmon (2.1.6) writes its OOM marker, 'oom', into its working directory as well as the
      // persist dir: run it there, so nothing lands in the caller's folder.
      cwd: c.persist,
    },
  );
  if (r.error || r.status !== 0)
    throw new LayerkitError(
      ErrorCodes.ERR_RUNTIME,
      `conmon failed: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim()} (Debian package: conmon)`,
      { package: 'conmon' },
    );
  // conmon's own pid file first, then the container's: `runc start` before it says "does not exist".
  const pidIn = (file: string) => {
    try {
      return Number(nodeFs.readFileSync(file, 'utf8').trim()) || 0;
    } catch {
      return 0;
    }
  };
  for (let i = 0; i < 3000; i++) {
    const pid = pidIn(c.pidFile);
    if (pid > 0 && pidIn(config.pidFile) > 0) return pid;
    if (pid > 0 && !isProcessAlive(pid))
      throw new LayerkitError(ErrorCodes.ERR_RUNTIME, `conmon exited before the container was created`, {
        path: c.pidFile,
      });
    await new Promise((done) => setTimeout(done, 5));
  }
  throw new LayerkitError(ErrorCodes.ERR_RUNTIME, 'conmon did not create the container within 15 s', {
    path: c.pidFile,
  });
}
