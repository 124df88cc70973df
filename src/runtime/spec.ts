/**
 * The spec generator: a pure function from an image config, run options and facts about the
 * rootfs and host to the OCI runtime `config.json` runc reads (runtime-spec 1.0.2). It follows
 * Docker's semantics: Entrypoint + Cmd and argument replacement, Env merging over a default
 * PATH, `--user` through the image's passwd and group, Docker's default mounts, masked and
 * read-only paths, capabilities, devices and namespaces, and `--memory`/`--cpus`/`--pids-limit`
 * as cgroup resources. No I/O: every fact it needs is an input.
 */
import { ErrorCodes, LayerkitError } from '../errors.js';
import type { ImageConfig } from '../oci/types.js';
import { dockerSeccomp, goArch, type SeccompSpec } from './seccomp.js';
import { resolveExecUser, type ExecUser } from './users.js';

/** Docker's default PATH (moby `CreateDaemonEnvironment`). */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Docker's default capability set (moby `oci/caps/defaults.go`). */
export const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/** Docker's masked paths (moby `oci/defaults.go`). */
export const MASKED_PATHS = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/interrupts',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

/** Docker's read-only paths. */
export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** A bind mount (`-v SRC:DST[:ro]`). */
export interface BindMount {
  /** Absolute host path. */
  source: string;
  /** Absolute path in the container. */
  destination: string;
  readOnly?: boolean | undefined;
}

/** Limits written to the container's cgroup. */
export interface RunResources {
  /** Bytes of memory (`--memory`). */
  memory?: number | undefined;
  /** Bytes of memory + swap (`--memory-swap`; -1 unlimited; default 2 × memory). */
  memorySwap?: number | undefined;
  /** CPUs (`--cpus 0.5` = quota 50000 per 100000 µs). */
  cpus?: number | undefined;
  /** Most processes (`--pids-limit`; ≤ 0 unlimited). */
  pids?: number | undefined;
}

/** What the user asked for (`docker run`'s flags). */
export interface RunSpecOptions {
  /** Replaces the image's Cmd (arguments after the image name). */
  cmd?: string[] | undefined;
  /** Replaces the image's Entrypoint (and drops its Cmd); `[]` resets it. */
  entrypoint?: string[] | undefined;
  /** `K=V` sets, `K` alone unsets (applied over the image's Env). */
  env?: string[] | undefined;
  /** `user[:group]` (default: the image's User). */
  user?: string | undefined;
  /** The working directory (default: the image's WorkingDir, else `/`). */
  workdir?: string | undefined;
  hostname?: string | undefined;
  /** `none` (default: a new network namespace with only loopback) or `host`. */
  network?: 'none' | 'host' | undefined;
  mounts?: BindMount[] | undefined;
  readOnly?: boolean | undefined;
  tty?: boolean | undefined;
  resources?: RunResources | undefined;
  /** `default`: Docker's default seccomp profile (where the facts name the kernel); `unconfined`: none. */
  seccomp?: 'default' | 'unconfined' | undefined;
}

/** Facts about the rootfs and the host the spec depends on. */
export interface RunSpecFacts {
  /** Absolute path of the rootfs directory (the mounted overlay). */
  rootfs: string;
  /** The image's /etc/passwd and /etc/group text (undefined when missing). */
  passwd?: string | undefined;
  group?: string | undefined;
  /** The cgroup path (`/layerkit/<id>`). */
  cgroupsPath: string;
  /** cgroup v2 at /sys/fs/cgroup (a private cgroup namespace, as Docker on v2). */
  cgroupV2: boolean;
  /** The kernel accounts swap (v1 `memory.memsw.*`, v2 `memory.swap.max`); without it swap limits are left out. */
  swapAccounting: boolean;
  /** Files bind-mounted at /etc/hosts, /etc/hostname and /etc/resolv.conf. */
  etcFiles?: { hosts: string; hostname: string; resolvConf: string } | undefined;
  /** The kernel release and Go's name of the architecture: with them, Docker's seccomp profile applies. */
  kernel?: string | undefined;
  arch?: string | undefined;
}

/** The subset of the OCI runtime spec layerkit writes (runtime-spec 1.0.2). */
export interface RuntimeSpec {
  ociVersion: string;
  process: {
    terminal: boolean;
    user: { uid: number; gid: number; umask: number; additionalGids: number[] };
    args: string[];
    env: string[];
    cwd: string;
    capabilities: Record<'bounding' | 'effective' | 'permitted', string[]>;
    noNewPrivileges: boolean;
  };
  root: { path: string; readonly: boolean };
  hostname: string;
  /** Programs runc runs at points of the lifecycle (the builder's slirp4netns hand-over). */
  hooks?: Partial<
    Record<
      'createRuntime' | 'createContainer' | 'startContainer' | 'poststart' | 'poststop',
      Array<{ path: string; args?: string[]; env?: string[]; timeout?: number }>
    >
  >;
  mounts: Array<{ destination: string; type: string; source: string; options: string[] }>;
  linux: {
    namespaces: Array<{ type: string }>;
    cgroupsPath: string;
    resources: {
      devices: Array<{ allow: boolean; type?: string; major?: number; minor?: number; access: string }>;
      memory?: { limit: number; swap?: number };
      cpu?: { quota: number; period: number };
      pids?: { limit: number };
    };
    maskedPaths: string[];
    readonlyPaths: string[];
    seccomp?: SeccompSpec;
  };
}

/** The command a container runs: Entrypoint + Cmd with Docker's replacement rules. */
export function containerArgs(config: ImageConfig['config'], options: Pick<RunSpecOptions, 'cmd' | 'entrypoint'>) {
  const entrypoint = options.entrypoint ?? config?.Entrypoint ?? [];
  const cmd =
    options.cmd !== undefined && options.cmd.length > 0
      ? options.cmd
      : options.entrypoint !== undefined
        ? []
        : (config?.Cmd ?? []);
  const args = [...entrypoint, ...cmd];
  if (args.length === 0)
    throw new LayerkitError(
      ErrorCodes.ERR_CONTAINER_COMMAND,
      'no command specified: the image has no Entrypoint or Cmd; give one after the image name',
      { exitCode: 125 },
    );
  return args;
}

/** Merges env lists Docker's way: later `K=V` replaces the same key, `K` alone removes it. */
export function mergeEnv(...lists: Array<readonly string[] | undefined>): string[] {
  const out = new Map<string, string>();
  for (const list of lists)
    for (const e of list ?? []) {
      const i = e.indexOf('=');
      if (i < 0) out.delete(e);
      else out.set(e.slice(0, i), e);
    }
  return [...out.values()];
}

function parseResources(r: RunResources | undefined, swapAccounting: boolean): RuntimeSpec['linux']['resources'] {
  const devices: RuntimeSpec['linux']['resources']['devices'] = [
    { allow: false, access: 'rwm' },
    ...[
      [1, 3],
      [1, 5],
      [1, 7],
      [1, 8],
      [1, 9],
      [5, 0],
      [5, 1],
    ].map(([major, minor]) => ({ allow: true, type: 'c', major: major!, minor: minor!, access: 'rwm' })),
    { allow: true, type: 'c', major: 136, access: 'rwm' },
    { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' },
    { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' },
  ];
  const out: RuntimeSpec['linux']['resources'] = { devices };
  if (r?.memorySwap !== undefined && r.memory === undefined)
    throw new LayerkitError(ErrorCodes.ERR_USAGE, '--memory-swap needs --memory', {});
  if (r?.memory !== undefined) {
    if (!Number.isSafeInteger(r.memory) || r.memory < 6 << 20)
      throw new LayerkitError(ErrorCodes.ERR_USAGE, `--memory ${r.memory}: the minimum is 6 MiB (6m)`, {});
    out.memory = { limit: r.memory };
    const swap = r.memorySwap ?? 2 * r.memory;
    if (swap !== -1 && swap < r.memory)
      throw new LayerkitError(
        ErrorCodes.ERR_USAGE,
        '--memory-swap is memory plus swap: it must be at least --memory (or -1 for unlimited)',
        {},
      );
    if (swapAccounting) out.memory.swap = swap;
  }
  if (r?.cpus !== undefined) {
    if (!(r.cpus > 0) || !Number.isFinite(r.cpus))
      throw new LayerkitError(ErrorCodes.ERR_USAGE, `--cpus ${r.cpus}: give a positive number such as 0.5`, {});
    out.cpu = { quota: Math.round(r.cpus * 100000), period: 100000 };
  }
  if (r?.pids !== undefined) out.pids = { limit: r.pids > 0 ? r.pids : -1 };
  return out;
}

function absolute(path: string, what: string): string {
  if (!path.startsWith('/'))
    throw new LayerkitError(ErrorCodes.ERR_USAGE, `${what} ${JSON.stringify(path)} must be an absolute path`, {
      path,
    });
  const parts: string[] = [];
  for (const c of path.split('/'))
    if (c === '..') parts.pop();
    else if (c !== '' && c !== '.') parts.push(c);
  return `/${parts.join('/')}`;
}

/** The user a spec runs as, resolved through the image's files (exported for `exec`). */
export function specUser(config: ImageConfig['config'], options: RunSpecOptions, facts: RunSpecFacts): ExecUser {
  return resolveExecUser({ user: options.user ?? config?.User ?? '', passwd: facts.passwd, group: facts.group });
}

/**
 * Generates the runtime spec for a container (pure).
 * @throws `ERR_CONTAINER_USER` for an unknown user or group, `ERR_CONTAINER_COMMAND` when there is
 *   no command, `ERR_USAGE` for malformed limits or paths.
 */
export function generateSpec(config: ImageConfig, options: RunSpecOptions, facts: RunSpecFacts): RuntimeSpec {
  const c = config.config ?? {};
  const args = containerArgs(c, options);
  const user = specUser(c, options, facts);
  const hostname = options.hostname ?? 'localhost';
  const base = [`PATH=${DEFAULT_PATH}`, `HOSTNAME=${hostname}`, ...(options.tty ? ['TERM=xterm'] : [])];
  let env = mergeEnv(base, c.Env, options.env);
  if (!env.some((e) => e.startsWith('HOME='))) env = [...env, `HOME=${user.home}`];
  const cwd = absolute(options.workdir || c.WorkingDir || '/', 'the working directory');
  const mounts: RuntimeSpec['mounts'] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    {
      destination: '/dev',
      type: 'tmpfs',
      source: 'tmpfs',
      options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
    },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    {
      destination: '/dev/shm',
      type: 'tmpfs',
      source: 'shm',
      options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'],
    },
  ];
  if (facts.etcFiles)
    for (const [dest, src] of [
      ['/etc/hosts', facts.etcFiles.hosts],
      ['/etc/hostname', facts.etcFiles.hostname],
      ['/etc/resolv.conf', facts.etcFiles.resolvConf],
    ] as const)
      mounts.push({ destination: dest, type: 'bind', source: src, options: ['rbind', 'rprivate'] });
  for (const m of options.mounts ?? [])
    mounts.push({
      destination: absolute(m.destination, 'a mount destination'),
      type: 'bind',
      source: absolute(m.source, 'a mount source'),
      options: ['rbind', 'rprivate', ...(m.readOnly ? ['ro'] : [])],
    });
  const namespaces = [
    { type: 'pid' },
    ...(options.network === 'host' ? [] : [{ type: 'network' }]),
    { type: 'ipc' },
    { type: 'uts' },
    { type: 'mount' },
    ...(facts.cgroupV2 ? [{ type: 'cgroup' }] : []),
  ];
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: options.tty === true,
      user: { uid: user.uid, gid: user.gid, umask: 0o022, additionalGids: user.additionalGids },
      args,
      env,
      cwd,
      capabilities: {
        bounding: [...DEFAULT_CAPABILITIES],
        effective: [...DEFAULT_CAPABILITIES],
        permitted: [...DEFAULT_CAPABILITIES],
      },
      noNewPrivileges: false,
    },
    root: { path: facts.rootfs, readonly: options.readOnly === true },
    hostname,
    mounts,
    linux: {
      namespaces,
      cgroupsPath: facts.cgroupsPath,
      resources: parseResources(options.resources, facts.swapAccounting),
      maskedPaths: [...MASKED_PATHS],
      readonlyPaths: [...READONLY_PATHS],
      ...(facts.kernel !== undefined && options.seccomp !== 'unconfined'
        ? {
            seccomp: dockerSeccomp({
              capabilities: DEFAULT_CAPABILITIES,
              arch: facts.arch ?? goArch(),
              kernel: facts.kernel,
            }),
          }
        : {}),
    },
  };
}
