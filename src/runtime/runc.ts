/**
 * runc as a CLI, with a private `--root` (its state folder) inside the store, so layerkit's
 * containers never mix with anyone else's. `runc features` is the probe. Every call is a
 * short-lived process; state always comes from `runc state`, never from memory.
 */
import nodeFs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes, LayerkitError } from '../errors.js';

/**
 * node:child_process, loaded by the first runc call: a fully cached build asks whether runc works
 * (the probe's answer is cached on disk) but starts no process, and need not load it.
 */
function childProcess(): typeof import('node:child_process') {
  return process.getBuiltinModule('node:child_process');
}

/** What `runc state` says (no exit code: runc keeps none). */
export interface RuncState {
  id: string;
  pid: number;
  status: 'creating' | 'created' | 'running' | 'paused' | 'stopped';
  bundle: string;
  created: string;
}

let resolved: { name: string; path: string | undefined; dirs: string | undefined } | undefined;

/**
 * The runc binary (`$LAYERKIT_RUNC` or `runc` on PATH), as the absolute path found on PATH (looked
 * up once per process for the same name and PATH): every runc call would otherwise make the kernel
 * try each PATH folder in turn. The bare name when it is on no PATH folder (the probe says why).
 */
export function runcBinary(): string {
  const name = process.env.LAYERKIT_RUNC || 'runc';
  if (resolved?.name !== name || resolved.dirs !== process.env.PATH)
    resolved = { name, path: onPath(name), dirs: process.env.PATH };
  return resolved.path ?? name;
}

let probed: { ok: true } | { ok: false; why: string } | undefined;

/** Where `name` is found on PATH (undefined: nowhere), looked up in-process (no shell is spawned). */
export function onPath(name: string): string | undefined {
  if (name.includes('/')) return nodeFs.existsSync(name) ? name : undefined;
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    if (!dir.startsWith('/')) continue;
    const candidate = join(dir, name);
    try {
      if (nodeFs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The format version of the runc probe cache. */
export const RUNC_PROBE_VERSION = 1;

/**
 * The `runc features` verdict, remembered across processes for the same binary (path, size,
 * mtime, inode) in a file of the OS temp folder: a CLI that starts a container spawns no probe.
 * The file is versioned like the store's state, but it is a cache outside any store: one that is
 * damaged, truncated or of a newer version is no verdict, so runc is probed again (and a verdict
 * of this version written over it). Refusing to run for a cache file would help nobody.
 */
function probeRunc(): { ok: true } | { ok: false; why: string } {
  const path = onPath(runcBinary());
  if (path === undefined) return { ok: false, why: 'runc is not installed (Debian package: runc)' };
  let key = '';
  try {
    const st = nodeFs.statSync(path);
    key = `${path}:${st.size}:${st.mtimeMs}:${st.ino}`;
  } catch {
    // probe below
  }
  const cache = join(tmpdir(), `layerkit-runc-probe-${process.getuid?.() ?? 0}.json`);
  if (key !== '')
    try {
      const seen = JSON.parse(nodeFs.readFileSync(cache, 'utf8')) as { key?: unknown; version?: unknown };
      const version = seen.version ?? 1;
      if (typeof version === 'number' && version <= RUNC_PROBE_VERSION && seen.key === key) return { ok: true };
    } catch {
      // no verdict yet
    }
  const r = childProcess().spawnSync(path, ['features'], { encoding: 'utf8' });
  if (r.error || r.status !== 0)
    return {
      ok: false,
      why: `runc features failed: ${(r.stderr || r.error?.message || '').trim()} (runc ≥ 1.1 is needed; Debian package: runc)`,
    };
  if (key !== '')
    try {
      const tmp = `${cache}.${process.pid}.tmp`;
      nodeFs.writeFileSync(tmp, JSON.stringify({ key, version: RUNC_PROBE_VERSION }));
      nodeFs.renameSync(tmp, cache);
    } catch {
      // a read-only temp folder: probe again next time
    }
  return { ok: true };
}

/** Why containers cannot run here, or undefined when they can (cached per process and per runc binary). */
export function runtimeUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'containers need Linux';
  if (process.getuid?.() !== 0)
    return 'containers need root (layerkit mounts an overlay and runc writes cgroups); rootless runc works only without limits on cgroup v1';
  probed ??= probeRunc();
  return probed.ok ? undefined : probed.why;
}

/** Throws `ERR_UNSUPPORTED` when containers cannot run here. */
export function assertRuntime(): void {
  const why = runtimeUnavailable();
  if (why) throw new LayerkitError(ErrorCodes.ERR_UNSUPPORTED, `cannot run containers: ${why}`, { package: 'runc' });
}

/** runc calls against one state root. */
export class Runc {
  constructor(readonly root: string) {}

  /** Runs `runc --root ROOT ...args`; returns status, stdout and stderr. */
  exec(args: string[], options: { input?: string } = {}): { status: number; stdout: string; stderr: string } {
    const r = childProcess().spawnSync(runcBinary(), ['--root', this.root, ...args], {
      encoding: 'utf8',
      input: options.input ?? '',
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    if (r.error)
      throw new LayerkitError(
        ErrorCodes.ERR_UNSUPPORTED,
        `cannot run runc: ${r.error.message} (Debian package: runc)`,
        {
          package: 'runc',
        },
      );
    return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
  }

  /** Like {@link exec}, but a non-zero status throws `ERR_RUNTIME` with runc's message. */
  check(args: string[]): string {
    const r = this.exec(args);
    if (r.status !== 0)
      throw new LayerkitError(
        ErrorCodes.ERR_RUNTIME,
        `runc ${args[0]} failed: ${r.stderr.trim().replace(/^time="[^"]*" level=\w+ msg="?/, '') || `exit ${r.status}`}`,
        { args, stderr: r.stderr },
      );
    return r.stdout;
  }

  /**
   * True when runc may know the container: runc keeps each one's state in `ROOT/<id>/`, so without
   * that folder it certainly does not, and no runc process needs to be asked.
   */
  mayKnow(id: string): boolean {
    return nodeFs.existsSync(join(this.root, id));
  }

  /** The container's runc state, or undefined when runc does not know it. */
  state(id: string): RuncState | undefined {
    if (!this.mayKnow(id)) return undefined;
    const r = this.exec(['state', id]);
    if (r.status !== 0) return undefined;
    return JSON.parse(r.stdout) as RuncState;
  }

  /**
   * Ids of every container under this root, read from the root folder as `runc list` does (runc
   * keeps each container's state in `ROOT/<id>/`), without a runc process.
   */
  ids(): string[] {
    try {
      return nodeFs
        .readdirSync(this.root, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name);
    } catch {
      return [];
    }
  }

  /** Ids of every container under this root (`runc list`, asked only when the root holds any). */
  list(): string[] {
    let entries: string[] = [];
    try {
      entries = nodeFs.readdirSync(this.root);
    } catch {
      return [];
    }
    if (entries.length === 0) return [];
    const r = this.exec(['list', '-q']);
    return r.status === 0 ? r.stdout.split('\n').filter((l) => l !== '') : [];
  }

  /**
   * Removes a container whose init has exited (a foreground `runc run --keep` returned): what
   * `runc delete` does for a stopped one (its cgroups, then its state folder), without a runc
   * process. When a cgroup cannot be removed yet (a process still dying), `runc delete -f`.
   */
  removeStopped(id: string, removeCgroups: (id: string) => string[]): void {
    if (removeCgroups(id).length > 0) {
      this.delete(id, true);
      return;
    }
    nodeFs.rmSync(join(this.root, id), { recursive: true, force: true });
  }

  kill(id: string, signal: string, all = false): void {
    this.check(['kill', ...(all ? ['--all'] : []), id, signal]);
  }

  pause(id: string): void {
    this.check(['pause', id]);
  }

  resume(id: string): void {
    this.check(['resume', id]);
  }

  /** Removes the container (and its cgroup); `force` kills a live one first. Missing is fine. */
  delete(id: string, force = false): void {
    const r = this.exec(['delete', ...(force ? ['-f'] : []), id]);
    if (r.status !== 0 && !/does not exist|not found/.test(r.stderr))
      throw new LayerkitError(ErrorCodes.ERR_RUNTIME, `runc delete failed: ${r.stderr.trim()}`, {
        stderr: r.stderr,
      });
  }
}

/** Signal names and numbers (x86-64 and arm64 Linux). */
export const SIGNALS: Record<string, number> = {
  HUP: 1,
  INT: 2,
  QUIT: 3,
  ILL: 4,
  TRAP: 5,
  ABRT: 6,
  BUS: 7,
  FPE: 8,
  KILL: 9,
  USR1: 10,
  SEGV: 11,
  USR2: 12,
  PIPE: 13,
  ALRM: 14,
  TERM: 15,
  STKFLT: 16,
  CHLD: 17,
  CONT: 18,
  STOP: 19,
  TSTP: 20,
  TTIN: 21,
  TTOU: 22,
  URG: 23,
  XCPU: 24,
  XFSZ: 25,
  VTALRM: 26,
  PROF: 27,
  WINCH: 28,
  IO: 29,
  PWR: 30,
  SYS: 31,
};

/** Normalises `TERM`, `SIGTERM`, `15` to runc's name (`TERM`); unknown → `ERR_USAGE`. */
export function signalName(signal: string | number): string {
  const s = String(signal).toUpperCase().replace(/^SIG/, '');
  if (/^[0-9]+$/.test(s)) {
    const name = Object.entries(SIGNALS).find(([, n]) => n === Number(s))?.[0];
    if (name) return name;
  } else if (SIGNALS[s] !== undefined) return s;
  throw new LayerkitError(ErrorCodes.ERR_USAGE, `unknown signal ${JSON.stringify(String(signal))}`, {});
}
