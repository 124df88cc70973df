/**
 * The Linux executor's `oci` isolation: one RUN as one runc container, as buildah's default
 * isolation and BuildKit's runc worker do. The overlay (the snapshotter's extracted layers under
 * what the view changed, and the step's upper) is mounted on the host, the spec is the one
 * `layerkit run` writes (`generateSpec`: Docker's default mounts, masked and read-only paths,
 * capabilities, devices cgroup and namespaces) with the step's argv, env, user, host name and
 * mounts, and `runc run` runs it in the foreground: runc is the subreaper, forwards signals and
 * exits with the command's status. `default` network with slirp4netns: a createRuntime hook hands
 * the new namespace's pid over and waits until slirp4netns has configured it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import nodeFs from 'node:fs';
import { hostname as hostHostname, release } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes, LayerkitError } from '../../errors.js';
import { cgroupMode, cgroupsPathFor, removeCgroups } from '../../runtime/cgroups.js';
import { lookupCommand, readInRoot, resolveInRoot } from '../../runtime/rootfs-read.js';
import { runcBinary } from '../../runtime/runc.js';
import { goArch } from '../../runtime/seccomp.js';
import { generateSpec, type RuntimeSpec } from '../../runtime/spec.js';
import type { ExecMount, ExecRequest } from '../../union/executor.js';

/** Capability names by bit number (linux/capability.h), for `RUN --security=insecure`. */
const CAPABILITY_BITS = [
  'CHOWN',
  'DAC_OVERRIDE',
  'DAC_READ_SEARCH',
  'FOWNER',
  'FSETID',
  'KILL',
  'SETGID',
  'SETUID',
  'SETPCAP',
  'LINUX_IMMUTABLE',
  'NET_BIND_SERVICE',
  'NET_BROADCAST',
  'NET_ADMIN',
  'NET_RAW',
  'IPC_LOCK',
  'IPC_OWNER',
  'SYS_MODULE',
  'SYS_RAWIO',
  'SYS_CHROOT',
  'SYS_PTRACE',
  'SYS_PACCT',
  'SYS_ADMIN',
  'SYS_BOOT',
  'SYS_NICE',
  'SYS_RESOURCE',
  'SYS_TIME',
  'SYS_TTY_CONFIG',
  'MKNOD',
  'LEASE',
  'AUDIT_WRITE',
  'AUDIT_CONTROL',
  'SETFCAP',
  'MAC_OVERRIDE',
  'MAC_ADMIN',
  'SYSLOG',
  'WAKE_ALARM',
  'BLOCK_SUSPEND',
  'AUDIT_READ',
  'PERFMON',
  'BPF',
  'CHECKPOINT_RESTORE',
].map((c) => `CAP_${c}`);

/** The capabilities this process may hand on (its bounding set): what `insecure` keeps. */
function hostCapabilities(): string[] {
  const line = nodeFs
    .readFileSync('/proc/self/status', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('CapBnd:'));
  const bits = BigInt(`0x${(line ?? 'CapBnd:\t0').split(/\s+/)[1]}`);
  return CAPABILITY_BITS.filter((_, i) => (bits >> BigInt(i)) & 1n);
}

/** A mount of the request and where its contents were materialised on the host. */
export interface HostMount {
  mount: ExecMount;
  host: string;
}

/** What {@link runInRunc} needs. */
export interface RuncRunOptions {
  request: ExecRequest;
  /** Overlay lower folders, top first (the first absolute, the rest relative to `snapshotRoot` when it is given). */
  lowers: string[];
  snapshotRoot: string | undefined;
  upper: string;
  ovlWork: string;
  merged: string;
  /** A scratch folder of this run (the bundle and runc's state go there). */
  work: string;
  binds: HostMount[];
  /** `default` network through slirp4netns (else the host's namespace). */
  slirp: boolean;
  /** Where each mount's target is inside the merged tree (undefined: skipped). */
  resolveTarget(target: string): string | undefined;
  /** `proc`, `sys`, `dev` where the view lacks them: made in the top lower, so runc's mounts never reach the upper. */
  missingMountPoints: string[];
}

/** Top-level mount points runc makes when the image lacks them: an init lower holds them, so no layer does. */
export const RUNC_MOUNT_POINTS = ['proc', 'sys', 'dev'];

/**
 * Runs the request in a runc container over the overlay; returns the exit status. The overlay is
 * mounted here and unmounted before it returns, the cgroup and runc's state removed.
 */
export async function runInRunc(o: RuncRunOptions): Promise<number> {
  // An init lower, as Docker's: the mount points runc would otherwise create in the upper.
  for (const d of o.missingMountPoints) {
    const at = join(o.lowers[0]!, d);
    if (!nodeFs.existsSync(at)) nodeFs.mkdirSync(at, { recursive: true, mode: 0o755 });
  }
  return runMounted(o);
}

function mountOverlay(o: RuncRunOptions): void {
  const options = `lowerdir=${o.lowers.join(':')},upperdir=${o.upper},workdir=${o.ovlWork}`;
  const r = spawnSync('mount', ['-t', 'overlay', 'overlay', '-o', options, o.merged], {
    cwd: o.snapshotRoot ?? '/',
    encoding: 'utf8',
  });
  if (r.status !== 0)
    throw new LayerkitError(
      ErrorCodes.ERR_UNSUPPORTED,
      `the linux executor cannot mount its overlay: ${(r.stderr || r.error?.message || '').trim()}`,
      { path: o.merged },
    );
}

async function runMounted(o: RuncRunOptions): Promise<number> {
  const { request, merged, work } = o;
  mountOverlay(o);
  const id = `layerkit-build-${randomBytes(8).toString('hex')}`;
  const root = join(work, 'runc');
  const bundle = join(work, 'bundle');
  try {
    const env = Object.entries(request.env).map(([k, v]) => `${k}=${v}`);
    const cwd = request.cwd || '/';
    const cwdHost = resolveInRoot(merged, cwd);
    const found = lookupCommand(
      merged,
      request.argv[0] ?? '',
      env,
      cwdHost !== undefined && nodeFs.existsSync(cwdHost) ? cwd : '/',
    );
    if (!found.found) {
      request.stderr?.(Buffer.from(`${found.reason}\n`));
      return found.exitCode;
    }
    const spec = buildSpec(o, id, env);
    nodeFs.mkdirSync(bundle, { recursive: true });
    nodeFs.mkdirSync(root, { recursive: true, mode: 0o700 });
    const hook = o.slirp ? slirpHook(work) : undefined;
    if (hook) spec.hooks = { createRuntime: [hook.hook] };
    nodeFs.writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
    return await new Promise<number>((resolve, reject) => {
      const child = spawn(runcBinary(), ['--root', root, 'run', '-b', bundle, id], { stdio: ['pipe', 'pipe', 'pipe'] });
      child.stdout.on('data', (c: Buffer) => request.stdout?.(c));
      child.stderr.on('data', (c: Buffer) => request.stderr?.(c));
      child.stdin.on('error', () => undefined);
      child.stdin.end(request.stdin ? Buffer.from(request.stdin) : undefined);
      let failed: LayerkitError | undefined;
      const network = hook?.attach((err) => {
        failed = err;
        spawnSync(runcBinary(), ['--root', root, 'kill', id, 'KILL'], { stdio: 'ignore' });
        child.kill('SIGKILL');
      });
      const onAbort = () => spawnSync(runcBinary(), ['--root', root, 'kill', id, 'KILL'], { stdio: 'ignore' });
      request.signal?.addEventListener('abort', onAbort, { once: true });
      child.on('error', (err) =>
        reject(
          new LayerkitError(ErrorCodes.ERR_UNSUPPORTED, `cannot run runc: ${err.message} (Debian package: runc)`, {}),
        ),
      );
      child.on('close', (code, sig) => {
        request.signal?.removeEventListener('abort', onAbort);
        network?.stop();
        if (failed) reject(failed);
        else resolve(code ?? (sig ? 128 + 9 : 1));
      });
    });
  } finally {
    if (nodeFs.existsSync(join(root, id)))
      spawnSync(runcBinary(), ['--root', root, 'delete', '-f', id], { stdio: 'ignore' });
    removeCgroups(id);
    if (spawnSync('umount', [merged], { stdio: 'ignore' }).status !== 0)
      spawnSync('umount', ['-l', merged], { stdio: 'ignore' });
  }
}

/** The runc spec of one RUN: `layerkit run`'s, with the step's process, host name and mounts. */
function buildSpec(o: RuncRunOptions, id: string, env: string[]): RuntimeSpec {
  const { request, merged } = o;
  const insecure = request.security === 'insecure';
  const spec = generateSpec(
    { architecture: '', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config: { User: request.user } },
    {
      entrypoint: request.argv,
      cmd: [],
      workdir: request.cwd || '/',
      hostname: request.hostname ?? hostHostname(),
      // `default` without slirp4netns is the host's namespace, as buildah's chroot isolation.
      network: request.network === 'none' || o.slirp ? 'none' : 'host',
      // Docker's default profile, as BuildKit and buildah give RUN; insecure has none (BuildKit's
      // insecure mode is `docker run --privileged`, which turns seccomp off).
      seccomp: insecure ? 'unconfined' : 'default',
    },
    {
      rootfs: merged,
      passwd: readInRoot(merged, '/etc/passwd'),
      group: readInRoot(merged, '/etc/group'),
      cgroupsPath: cgroupsPathFor(id),
      cgroupV2: cgroupMode() === 'v2',
      swapAccounting: false,
      kernel: release(),
      arch: goArch(),
    },
  );
  // The step's environment exactly (the builder has set HOME and PATH as Docker does).
  spec.process.env = env;
  // A build's /dev has no mqueue, as the previous sandbox had none.
  spec.mounts = spec.mounts.filter((m) => m.destination !== '/dev/mqueue');
  if (insecure) {
    const caps = hostCapabilities();
    spec.process.capabilities = { bounding: caps, effective: caps, permitted: caps };
    spec.mounts = spec.mounts.filter((m) => !m.destination.startsWith('/dev'));
    spec.mounts.push({ destination: '/dev', type: 'bind', source: '/dev', options: ['rbind', 'rprivate'] });
    spec.linux.resources.devices = [{ allow: true, access: 'rwm' }];
    spec.linux.maskedPaths = [];
    spec.linux.readonlyPaths = [];
  }
  for (const { mount, host } of o.binds) {
    const inTree = o.resolveTarget(mount.target);
    if (inTree === undefined) continue;
    if (mount.kind === 'tmpfs')
      spec.mounts.push({
        destination: inTree,
        type: 'tmpfs',
        source: 'tmpfs',
        options: ['mode=1777', ...(mount.sizeLimit !== undefined ? [`size=${mount.sizeLimit}`] : [])],
      });
    else
      spec.mounts.push({
        destination: inTree,
        type: 'bind',
        source: host,
        options: ['rbind', 'rprivate', ...(mount.readOnly ? ['ro'] : [])],
      });
  }
  return spec;
}

/**
 * The createRuntime hook that lets slirp4netns into the container's network namespace before the
 * command starts: the hook writes runc's state (with the pid) to a file and blocks on a FIFO;
 * this process starts slirp4netns on that pid and, once it is ready, writes to the FIFO.
 */
function slirpHook(work: string): {
  hook: { path: string; args: string[]; timeout: number };
  attach(onError: (err: LayerkitError) => void): { stop(): void };
} {
  const stateFile = join(work, 'hook-state.json');
  const go = join(work, 'hook-go');
  return {
    // The hook makes the FIFO before the state file appears, then blocks until it is written to.
    hook: {
      path: '/bin/sh',
      args: ['sh', '-c', 'mkfifo -m 0600 "$1" && cat > "$0.tmp" && mv "$0.tmp" "$0" && read _ < "$1"', stateFile, go],
      timeout: 60,
    },
    attach(onError) {
      let network: ReturnType<typeof spawn> | undefined;
      let stopped = false;
      let timer: NodeJS.Timeout | undefined;
      const release = () => {
        if (stopped) return;
        try {
          const fd = nodeFs.openSync(go, nodeFs.constants.O_WRONLY | nodeFs.constants.O_NONBLOCK);
          nodeFs.writeSync(fd, 'go\n');
          nodeFs.closeSync(fd);
        } catch {
          timer = setTimeout(release, 5); // the hook has not opened the FIFO yet (ENXIO)
        }
      };
      const poll = () => {
        if (stopped) return;
        let pid = 0;
        try {
          pid = (JSON.parse(nodeFs.readFileSync(stateFile, 'utf8')) as { pid: number }).pid;
        } catch {
          timer = setTimeout(poll, 5);
          return;
        }
        network = spawn(
          'slirp4netns',
          ['--configure', '--mtu=65520', '--disable-host-loopback', '--ready-fd=3', String(pid), 'tap0'],
          { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] },
        );
        let why = '';
        network.stderr!.on('data', (c: Buffer) => {
          why += c.toString();
        });
        (network.stdio[3] as import('node:stream').Readable).once('data', release);
        network.on('error', (err) =>
          onError(new LayerkitError(ErrorCodes.ERR_UNSUPPORTED, `slirp4netns failed: ${err.message}`, {})),
        );
        network.on('exit', (code) => {
          if (stopped) return;
          onError(
            new LayerkitError(
              ErrorCodes.ERR_UNSUPPORTED,
              `slirp4netns exited (${code}) before the command ended: ${why.trim() || 'no message'}; build with network none, or install slirp4netns and load the tun module`,
              {},
            ),
          );
        });
      };
      poll();
      return {
        stop() {
          stopped = true;
          if (timer) clearTimeout(timer);
          network?.kill('SIGKILL');
        },
      };
    },
  };
}
