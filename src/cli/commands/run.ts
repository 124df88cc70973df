/**
 * `layerkit run` and the flags it shares with `create`. The commands acting on containers that
 * run (ps, start, stop, kill, pause, unpause, wait, logs, stats) live in lifecycle.ts, so `run`,
 * whose start-up is timed against runc's, loads none of their code.
 */
import { readFileSync } from 'node:fs';
import { ErrorCodes, isLayerkitError } from '../../errors.js';
import { hasContainer } from '../../container/container-record.js';
import { runContainer } from '../../runtime/run-container.js';
import type { BindMount, RunSpecOptions, RunResources } from '../../runtime/spec.js';
import { stringOption, type Command, type OptionValues } from '../command.js';
import { println, UsageError } from '../output.js';

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** Parses docker's byte sizes (`512m`, `1g`, `65536`); -1 stays -1 (unlimited). */
export function parseBytes(text: string, flag: string): number {
  if (text === '-1') return -1;
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*([bkmg]?)b?$/i.exec(text.trim());
  if (!m) throw new UsageError(`${flag} ${JSON.stringify(text)}: give a size such as 512m or 1g`);
  return Math.round(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!);
}

function list(options: OptionValues, name: string): string[] {
  const v = options[name];
  return Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : [];
}

function parseMount(spec: string): BindMount {
  const parts = spec.split(':');
  if (parts.length < 2 || parts.length > 3 || !parts[0] || !parts[1])
    throw new UsageError(`-v ${JSON.stringify(spec)}: use SRC:DST or SRC:DST:ro (absolute paths)`);
  const mode = parts[2];
  if (mode !== undefined && mode !== 'ro' && mode !== 'rw')
    throw new UsageError(`-v ${JSON.stringify(spec)}: the mode must be ro or rw`);
  if (!parts[0].startsWith('/'))
    throw new UsageError(`-v ${JSON.stringify(spec)}: named volumes are not supported; give an absolute host path`);
  return { source: parts[0], destination: parts[1], readOnly: mode === 'ro' };
}

/**
 * docker's rule for `-e K` and a `K` line of an env file: the value comes from this process's
 * environment; a name that is not set there stays bare, which unsets it in the container.
 */
export function envFromHost(entry: string, env: NodeJS.ProcessEnv = process.env): string {
  return entry.includes('=') || env[entry] === undefined ? entry : `${entry}=${env[entry]}`;
}

function envFromFiles(files: string[]): string[] {
  const out: string[] = [];
  for (const f of files)
    for (const line of readFileSync(f, 'utf8').split('\n')) {
      const l = line.trim();
      if (l === '' || l.startsWith('#')) continue;
      out.push(envFromHost(l));
    }
  return out;
}

function resources(options: OptionValues): RunResources | undefined {
  const r: RunResources = {};
  const memory = stringOption(options, 'memory');
  const swap = stringOption(options, 'memory-swap');
  const cpus = stringOption(options, 'cpus');
  const pids = stringOption(options, 'pids-limit');
  if (memory !== undefined) r.memory = parseBytes(memory, '--memory');
  if (swap !== undefined) r.memorySwap = parseBytes(swap, '--memory-swap');
  if (cpus !== undefined) {
    r.cpus = Number(cpus);
    if (!(r.cpus > 0)) throw new UsageError(`--cpus ${JSON.stringify(cpus)}: give a positive number such as 0.5`);
  }
  if (pids !== undefined) {
    if (!/^-?[0-9]+$/.test(pids)) throw new UsageError(`--pids-limit ${JSON.stringify(pids)}: give a whole number`);
    r.pids = Number(pids);
  }
  return Object.keys(r).length > 0 ? r : undefined;
}

/** The options `run` and `create` share (docker run's). */
export const RUN_OPTIONS: Command['options'] = {
  detach: { type: 'boolean', short: 'd', description: 'run in the background under a monitor; print the id' },
  rm: { type: 'boolean', description: 'remove the container when it exits' },
  name: { type: 'string', value: 'NAME', description: 'the new container name' },
  env: {
    type: 'string',
    short: 'e',
    multiple: true,
    value: 'K=V',
    description: "set a variable (K alone: this shell's value of K; unset when it has none)",
  },
  'env-file': { type: 'string', multiple: true, value: 'FILE', description: 'read K=V lines from a file' },
  user: {
    type: 'string',
    short: 'u',
    value: 'USER[:GROUP]',
    description: "names from the image's passwd/group, or ids",
  },
  workdir: { type: 'string', short: 'w', value: 'DIR', description: 'working directory (made when missing)' },
  entrypoint: { type: 'string', value: 'CMD', description: "replace the image's Entrypoint ('' resets it)" },
  volume: {
    type: 'string',
    short: 'v',
    multiple: true,
    value: 'SRC:DST[:ro]',
    description: 'bind-mount a host path',
  },
  'read-only': { type: 'boolean', description: 'mount the root filesystem read-only' },
  network: { type: 'string', value: 'none|host', description: 'none (default: loopback only) or host' },
  hostname: { type: 'string', value: 'NAME', description: 'the container hostname (default: 12 hex of its id)' },
  memory: {
    type: 'string',
    short: 'm',
    value: 'BYTES',
    description: 'memory limit (512m, 1g); the OOM killer past it',
  },
  'memory-swap': {
    type: 'string',
    value: 'BYTES',
    description: 'memory plus swap (default 2 x --memory; -1 unlimited)',
  },
  cpus: { type: 'string', value: 'N', description: 'CPU quota in CPUs (0.5 = 50 ms per 100 ms)' },
  'pids-limit': { type: 'string', value: 'N', description: 'most processes at once (<= 0 unlimited)' },
  tty: {
    type: 'boolean',
    short: 't',
    description: 'allocate a terminal (foreground: needs one here; with -d: conmon keeps it, output in logs)',
  },
  'security-opt': {
    type: 'string',
    multiple: true,
    value: 'seccomp=unconfined',
    description: "seccomp=unconfined turns off Docker's default seccomp profile",
  },
  monitor: {
    type: 'string',
    value: 'layerkit|conmon',
    description: "a detached container's monitor (default layerkit; conmon for -d -t; Debian package conmon)",
  },
  interactive: { type: 'boolean', short: 'i', description: 'keep stdin open' },
};

function monitorOption(options: OptionValues): 'layerkit' | 'conmon' | undefined {
  const m = stringOption(options, 'monitor');
  if (m !== undefined && m !== 'layerkit' && m !== 'conmon')
    throw new UsageError(`--monitor ${JSON.stringify(m)}: use layerkit or conmon`);
  return m;
}

/** The spec options `run`/`create` flags and a command give. */
export function runSpecOptions(options: OptionValues, cmd: string[]): RunSpecOptions {
  const network = stringOption(options, 'network');
  if (network !== undefined && network !== 'none' && network !== 'host')
    throw new UsageError(`--network ${JSON.stringify(network)}: use none or host (no bridges here)`);
  const entrypoint = stringOption(options, 'entrypoint');
  const out: RunSpecOptions = {
    env: [...envFromFiles(list(options, 'env-file')), ...list(options, 'env').map((e) => envFromHost(e))],
    mounts: list(options, 'volume').map(parseMount),
  };
  if (cmd.length > 0) out.cmd = cmd;
  if (entrypoint !== undefined) out.entrypoint = entrypoint === '' ? [] : [entrypoint];
  const user = stringOption(options, 'user');
  if (user !== undefined) out.user = user;
  const workdir = stringOption(options, 'workdir');
  if (workdir !== undefined) out.workdir = workdir;
  const hostname = stringOption(options, 'hostname');
  if (hostname !== undefined) out.hostname = hostname;
  if (network !== undefined) out.network = network;
  if (options['read-only'] === true) out.readOnly = true;
  if (options.tty === true) out.tty = true;
  for (const opt of list(options, 'security-opt')) {
    if (opt === 'seccomp=unconfined') out.seccomp = 'unconfined';
    else throw new UsageError(`--security-opt ${JSON.stringify(opt)}: only seccomp=unconfined is supported`);
  }
  const r = resources(options);
  if (r) out.resources = r;
  return out;
}

/** `layerkit run`: its summary, usage, options and examples are the help text below. */
export const runCommand: Command = {
  name: 'run',
  summary: 'Run a command in a new container (or an existing one) on runc: namespaces, cgroup limits, a real process',
  usage: '[OPTIONS] IMAGE|CONTAINER [COMMAND [ARG...]]',
  description:
    "Like docker run: Entrypoint + Cmd (arguments replace Cmd), the image's Env, User and WorkingDir, Docker's default mounts, capabilities, masked paths and seccomp profile, no network unless --network host. The container's writable layer is a kernel overlay upper: 'layerkit diff' and 'commit' show exactly what the process changed. Needs root and runc (Debian package runc). The exit status is the command's (127 not found, 126 not executable, 128+N killed by signal N, 137 for the OOM killer).",
  examples: [
    'layerkit run --rm busybox:latest echo hello',
    'layerkit run -d --name web --memory 64m --cpus 0.5 app:1',
    "layerkit run --name work base:1 sh -c 'echo hi > /greeting' && layerkit diff work",
  ],
  options: RUN_OPTIONS,
  args: { min: 1, max: Number.MAX_SAFE_INTEGER },
  optionsBeforeArgs: true,
  async run(ctx, [target, ...cmd], options) {
    const store = await ctx.store();
    const detach = options.detach === true;
    const spec = runSpecOptions(options, cmd);
    const isContainer = hasContainer({ store, name: target! });
    if (isContainer && stringOption(options, 'name'))
      throw new UsageError(`--name names a new container, but ${target} is an existing container`);
    try {
      const handle = await runContainer({
        store,
        ...(isContainer ? { container: target! } : { image: target! }),
        name: stringOption(options, 'name'),
        ...spec,
        detach,
        interactive: options.interactive === true,
        monitor: monitorOption(options),
        stdio: 'inherit',
        autoRemove: options.rm === true,
        signal: ctx.signal,
      });
      if (detach) {
        println(ctx.output, handle.id);
        return;
      }
      const exit = await handle.wait();
      return exit.exitCode;
    } catch (err) {
      if (isLayerkitError(err, ErrorCodes.ERR_CONTAINER_COMMAND)) {
        ctx.output.err.write(`layerkit: ${err.message}\n`);
        return Number(err.data.exitCode ?? 125);
      }
      throw err;
    }
  },
};
