/**
 * The Linux executor: RUN steps with real binaries over a kernel overlay: its lowers are the
 * image's layers as the runtime's snapshotter extracted them (once per diffID, shared with
 * `layerkit run`) under what the view changed before the command; a view whose layers are not
 * known (or in a memory store) is copied into one lower instead. Afterwards the overlay's upper
 * directory (files, char-0/0 whiteouts, opaque directories, hard links) is applied back to the
 * union view, so the step's layer holds exactly what the command changed.
 *
 * Two isolations, as buildah has (`--isolation oci|chroot`):
 * - `oci` (the default where runc is installed): each RUN is a runc container with the spec
 *   `layerkit run` writes (linux-runc.ts): Docker's default capabilities, mounts, masked paths,
 *   devices cgroup, PID/mount/UTS/IPC (and network) namespaces, a cgroup of its own.
 * - `chroot` (the fallback without runc): util-linux's `unshare` makes the namespaces, a script
 *   mounts the overlay, /proc and a minimal /dev, `setpriv` drops the bounding set to Docker's
 *   default capabilities and `chroot` enters the tree. The same sandbox, built by hand.
 *
 * The network: a `default` step gets one (slirp4netns's user-mode NAT in a namespace of its own
 * where slirp4netns is installed, the host's loopback out of reach; else the host's network
 * namespace, as buildah's chroot isolation); `none` a namespace with loopback only; `host` the
 * host's. The host name is the request's (`buildkitsandbox` for RUN) in a UTS namespace of its own.
 *
 * Like a container runtime's default sandbox, the command keeps only Docker's default
 * capabilities (no CAP_SYS_ADMIN: it cannot mount, load modules or reach the host's devices) and
 * sees a minimal /dev on a tmpfs (null, zero, full, random, urandom, tty, fresh pts and shm)
 * whose changes are discarded. `RUN --security=insecure` (with the build's entitlement) keeps all
 * of root's capabilities and the host's /dev.
 *
 * Seccomp: the `oci` isolation gives every RUN Docker's default profile (the one `layerkit run`
 * applies), as BuildKit and buildah do, so calls such as `unshare`, `mount`, `keyctl` or `bpf` fail
 * with EPERM; `RUN --security=insecure` runs without a filter, as BuildKit's insecure mode. The
 * `chroot` isolation has no seccomp filter at all (util-linux cannot install one): only the
 * capability bounding set limits its commands. Each RUN's step record says which (`seccomp`).
 *
 * Needs Linux, root, overlayfs, `getfattr` (the attr package, to see opaque directories) and
 * either runc or util-linux's `unshare`. Where they are missing, `run` fails with `ERR_UNSUPPORTED`.
 */
import { spawn, spawnSync } from 'node:child_process';
import nodeFs from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix, relative } from 'node:path';
import { makeWhiteout, readKernelUpper } from '../../container/kernel-upper.js';
import { ensureSnapshot, isMounted, SNAPSHOTS_STATE } from '../../runtime/snapshotter.js';
import { type HostMount, RUNC_MOUNT_POINTS, runInRunc } from './linux-runc.js';
import { ErrorCodes, LayerkitError } from '../../errors.js';
import { defaultIsolation, hasSlirp4netns, linuxExecutorUnavailable } from './linux-host.js';
import type { ExecRequest, ExecResult, Executor } from '../../union/executor.js';
import type { ExecutorFs } from '../../union/fs-contract.js';
import { resolveUser } from '../../shell/users.js';

export { defaultIsolation, hasSlirp4netns, linuxExecutorUnavailable } from './linux-host.js';

/** What the view must offer besides `ExecutorFs` (layerkit's UnionFS has all of it). */
interface SyncView {
  lstatSync(path: string): {
    isDirectory(): boolean;
    isFile(): boolean;
    isSymbolicLink(): boolean;
    mode: number;
    uid: number;
    gid: number;
    mtimeMs: number;
    atimeMs: number;
    ino: number;
    nlink: number;
  };
  readdirSync(path: string): string[];
  readFileSync(path: string): Buffer;
  readlinkSync(path: string): string;
  existsSync(path: string): boolean;
  /** What the view changed (layerkit's union views), in layer order. */
  changes?(): Array<{ kind: 'added' | 'modified' | 'deleted'; path: string }>;
}

/** Options for {@link linuxExecutor}. */
export interface LinuxExecutorOptions {
  /** Where to make the scratch directories (default: /dev/shm when present, else the OS temp dir). */
  workDir?: string | undefined;
  /**
   * The network of a `default` step: `slirp4netns` (a user-mode NAT in a network namespace of its
   * own; the host's loopback is not reachable) or `host` (the host's network namespace, as
   * buildah's chroot isolation). Default: slirp4netns where it and /dev/net/tun are installed.
   */
  defaultNetwork?: 'slirp4netns' | 'host' | undefined;
  /**
   * How each RUN is isolated: `oci` (a runc container, as `layerkit run`) or `chroot` (unshare,
   * setpriv and chroot). Default: `oci` where runc is installed (Debian package runc), else `chroot`.
   */
  isolation?: 'oci' | 'chroot' | undefined;
}

/** An executor that runs real binaries in namespaces over a kernel overlay of the view. */
export function linuxExecutor(options: LinuxExecutorOptions = {}): Executor {
  return {
    name: 'linux',
    async run(request: ExecRequest): Promise<ExecResult> {
      const isolation = options.isolation ?? defaultIsolation();
      const why = linuxExecutorUnavailable(isolation);
      if (why)
        throw new LayerkitError(
          ErrorCodes.ERR_UNSUPPORTED,
          `the linux executor cannot run here: ${why}; use the virtual shell (the default executor) instead`,
          {},
        );
      // With RUN --mount, `fs` shows the mounts; the overlay's lower is the step's own view.
      const view = (request.rootfs ?? request.fs) as unknown as ExecutorFs & SyncView;
      const base = options.workDir ?? (nodeFs.existsSync('/dev/shm') ? '/dev/shm' : tmpdir());
      const work = nodeFs.mkdtempSync(join(base, 'layerkit-run-'));
      try {
        const lower = join(work, 'lower');
        const upper = join(work, 'upper');
        const ovlWork = join(work, 'work');
        const merged = join(work, 'merged');
        for (const d of [lower, upper, ovlWork, merged]) nodeFs.mkdirSync(d);
        // The image's layers come from the runtime's snapshotter (each extracted once per diffID and
        // shared), under what the view changed before the command (mount stubs, the workdir): a RUN
        // in a large image costs what it costs in a small one. A view of unknown layers is copied.
        const known = request.layers;
        const lowers: string[] = [lower];
        let snapshotRoot: string | undefined;
        if (known !== undefined && !known.store.memory && typeof view.changes === 'function') {
          // Top first; a layer that appears twice (an empty WORKDIR layer...) is stacked once, at
          // its topmost place: the kernel refuses a folder twice, and the lower copy changes nothing.
          const seen = new Set<string>();
          for (const l of [...known.layers].reverse()) {
            if (seen.has(l.diffId)) continue;
            seen.add(l.diffId);
            lowers.push(
              await ensureSnapshot({
                store: known.store,
                descriptor: l.descriptor,
                diffId: l.diffId,
                signal: request.signal,
              }),
            );
          }
          snapshotRoot = known.store.statePath(SNAPSHOTS_STATE);
          materializeChanges(view, lower);
        } else {
          materialize(view, '/', lower);
        }
        // Each mount's view is materialised beside it and bind-mounted at its target.
        const binds = (request.mounts ?? []).map((m, i): HostMount => {
          const host = join(work, `mount-${i}`);
          if (m.kind === 'tmpfs') return { mount: m, host }; // a real tmpfs, mounted in the namespace
          const mountView = m.fs as unknown as ExecutorFs & SyncView;
          if (mountView.lstatSync(m.root).isDirectory()) {
            nodeFs.mkdirSync(host);
            materialize(mountView, m.root, host);
            copyAttributes(mountView.lstatSync(m.root), host);
          } else {
            nodeFs.writeFileSync(host, mountView.readFileSync(m.root));
            copyAttributes(mountView.lstatSync(m.root), host);
          }
          return { mount: m, host };
        });
        const slirp =
          (request.network ?? 'default') === 'default' &&
          (options.defaultNetwork ?? (hasSlirp4netns() ? 'slirp4netns' : 'host')) === 'slirp4netns';
        const stacked =
          snapshotRoot === undefined ? lowers : [lowers[0]!, ...lowers.slice(1).map((l) => relative(snapshotRoot, l))];
        const exitCode =
          isolation === 'oci'
            ? await runInRunc({
                request,
                lowers: stacked,
                snapshotRoot,
                upper,
                ovlWork,
                merged,
                work,
                binds,
                slirp,
                resolveTarget: (target) => resolveInView(view, target),
                missingMountPoints: RUNC_MOUNT_POINTS.filter((d) => !view.existsSync(`/${d}`)),
              })
            : await runIsolated({ request, view, lowers: stacked, snapshotRoot, upper, ovlWork, merged, binds, slirp });
        await readKernelUpper(view, upper);
        for (const b of binds)
          if (b.mount.persistent)
            await mirrorInto(b.mount.fs as unknown as ExecutorFs & SyncView, b.mount.root, b.host);
        const seccomp =
          isolation === 'chroot' ? 'none' : request.security === 'insecure' ? 'unconfined' : 'docker-default';
        return { exitCode, seccomp };
      } finally {
        if (isMounted(join(work, 'merged'))) spawnSync('umount', ['-l', join(work, 'merged')], { stdio: 'ignore' });
        nodeFs.rmSync(work, { recursive: true, force: true });
      }
    },
  };
}

type Attributes = {
  uid: number;
  gid: number;
  mode: number;
  atimeMs: number;
  mtimeMs: number;
  isSymbolicLink(): boolean;
};

function copyAttributes(st: Attributes, target: string): void {
  nodeFs.lchownSync(target, st.uid, st.gid);
  if (!st.isSymbolicLink()) nodeFs.chmodSync(target, st.mode & 0o7777);
  nodeFs.lutimesSync(target, st.atimeMs / 1000, st.mtimeMs / 1000);
}

/**
 * Writes the view's tree to a host directory (owners, modes, times kept; files that share an
 * inode in the view share one on the host, so a command sees the image's hard links).
 */
function materialize(view: SyncView, path: string, target: string, links: Map<number, string> = new Map()): void {
  for (const name of view.readdirSync(path)) {
    const p = posix.join(path, name);
    const t = join(target, name);
    const st = view.lstatSync(p);
    if (st.isDirectory()) {
      nodeFs.mkdirSync(t);
      materialize(view, p, t, links);
    } else if (st.isSymbolicLink()) {
      nodeFs.symlinkSync(view.readlinkSync(p), t);
    } else if (st.isFile() && st.nlink > 1 && links.has(st.ino)) {
      nodeFs.linkSync(links.get(st.ino)!, t);
      continue;
    } else if (st.isFile()) {
      nodeFs.writeFileSync(t, view.readFileSync(p));
      if (st.nlink > 1) links.set(st.ino, t);
    } else {
      continue; // devices and fifos are not materialised
    }
    copyAttributes(st, t);
  }
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Where the host's tools (mount, unshare, setpriv, chroot, ip) are found. */
const HOST_PATH = [
  ...new Set([
    ...(process.env.PATH ?? '').split(':'),
    '/usr/local/sbin',
    '/usr/local/bin',
    '/usr/sbin',
    '/usr/bin',
    '/sbin',
    '/bin',
  ]),
]
  .filter((d) => d.startsWith('/'))
  .join(':');

/** Docker's default capability set (moby's `oci/caps/defaults.go`), for `setpriv --bounding-set`. */
const SANDBOX_CAPS = [
  'chown',
  'dac_override',
  'fowner',
  'fsetid',
  'kill',
  'setgid',
  'setuid',
  'setpcap',
  'net_bind_service',
  'net_raw',
  'sys_chroot',
  'mknod',
  'audit_write',
  'setfcap',
];

/** The devices a sandboxed command gets in its /dev (bind-mounted from the host's). */
const SANDBOX_DEVICES = ['null', 'zero', 'full', 'random', 'urandom', 'tty'];

/** Shell lines that give `dev` (the merged tree's /dev) a minimal device set on a tmpfs. */
function minimalDev(dev: string): string[] {
  return [
    `mount -t tmpfs -o nosuid,mode=0755,size=65536k tmpfs ${q(dev)}`,
    ...SANDBOX_DEVICES.flatMap((d) => [`touch ${q(`${dev}/${d}`)}`, `mount --bind /dev/${d} ${q(`${dev}/${d}`)}`]),
    `mkdir ${q(`${dev}/pts`)} ${q(`${dev}/shm`)}`,
    `mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts ${q(`${dev}/pts`)}`,
    `ln -s pts/ptmx ${q(`${dev}/ptmx`)}`,
    `mount -t tmpfs -o nosuid,nodev,mode=1777,size=65536k shm ${q(`${dev}/shm`)}`,
    `ln -s /proc/self/fd ${q(`${dev}/fd`)}`,
    ...['stdin', 'stdout', 'stderr'].map((n, i) => `ln -s /proc/self/fd/${i} ${q(`${dev}/${n}`)}`),
  ];
}

/**
 * Where `path` is inside the view, its symlinks followed as a chroot would (an absolute link
 * starts again at the root, `..` stops at it); undefined when it is missing.
 */
function resolveInView(view: SyncView, path: string): string | undefined {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  let resolved: string[] = [];
  let hops = 0;
  while (parts.length > 0) {
    const name = parts.shift()!;
    if (name === '..') {
      resolved.pop();
      continue;
    }
    const at = `/${[...resolved, name].join('/')}`;
    let st: ReturnType<SyncView['lstatSync']>;
    try {
      st = view.lstatSync(at);
    } catch {
      return undefined;
    }
    if (st.isSymbolicLink()) {
      if (++hops > 40) return undefined;
      const link = view.readlinkSync(at);
      if (link.startsWith('/')) resolved = [];
      parts.unshift(...link.split('/').filter((p) => p !== '' && p !== '.'));
      continue;
    }
    resolved.push(name);
  }
  return `/${resolved.join('/')}`;
}

/**
 * Writes what the view changed before the command (its upper: mount stubs, a made workdir) to a
 * host folder that becomes the overlay's top lower: new and changed entries with their
 * attributes, deleted ones as whiteouts. Every folder on the way takes the view's attributes, as
 * it hides the layers' own in the merged tree.
 */
function materializeChanges(view: SyncView, target: string): void {
  const made: Array<[string, string]> = [];
  const ensureDir = (path: string): void => {
    if (path === '/') return;
    const host = join(target, path);
    if (nodeFs.existsSync(host)) return;
    ensureDir(posix.dirname(path));
    nodeFs.mkdirSync(host);
    made.push([path, host]);
  };
  for (const change of view.changes!()) {
    const host = join(target, change.path);
    ensureDir(posix.dirname(change.path));
    if (change.kind === 'deleted') {
      makeWhiteout(host);
      continue;
    }
    const st = view.lstatSync(change.path);
    if (st.isDirectory()) {
      ensureDir(change.path);
      continue;
    }
    nodeFs.rmSync(host, { recursive: true, force: true });
    if (st.isSymbolicLink()) nodeFs.symlinkSync(view.readlinkSync(change.path), host);
    else if (st.isFile()) nodeFs.writeFileSync(host, view.readFileSync(change.path));
    else continue;
    copyAttributes(st, host);
  }
  // deepest first, so a folder's time is set after its children were made
  for (const [path, host] of made.reverse()) copyAttributes(view.lstatSync(path), host);
}

async function runIsolated({
  request,
  view,
  lowers,
  snapshotRoot,
  upper,
  ovlWork,
  merged,
  binds,
  slirp,
}: {
  request: ExecRequest;
  view: SyncView;
  /** Overlay lower folders, top first (relative to `snapshotRoot` when it is given, but the first). */
  lowers: string[];
  snapshotRoot: string | undefined;
  upper: string;
  ovlWork: string;
  merged: string;
  binds: HostMount[];
  /** Give the command a network namespace of its own with slirp4netns's NAT in it. */
  slirp: boolean;
}): Promise<number> {
  const { argv, env, cwd, user } = request;
  const ids = await userIds(request.fs, user);
  const insecure = request.security === 'insecure';
  // The bounding set is dropped just before chroot, which still needs CAP_SYS_CHROOT (kept).
  // The host's tools run with the host's PATH; the command gets the image's (`env` sets it last).
  const imagePath = env.PATH ?? HOST_PATH;
  const drop = insecure ? '' : `"$SETPRIV" --bounding-set=-all,${SANDBOX_CAPS.map((c) => `+${c}`).join(',')} `;
  // The mount points exist in the lower tree (the builder made them); a file mount needs a file
  // there. A target reached through the image's symlinks is resolved inside the tree, never on the host.
  const bindLines = binds.flatMap(({ mount, host }) => {
    const inTree = resolveInView(view, mount.target);
    if (inTree === undefined) return [];
    const at = q(`${merged}${inTree}`);
    if (mount.kind === 'tmpfs')
      return [
        `mount -t tmpfs -o mode=1777${mount.sizeLimit !== undefined ? `,size=${mount.sizeLimit}` : ''} tmpfs ${at}`,
      ];
    return [`mount --bind ${q(host)} ${at}`, ...(mount.readOnly ? [`mount -o remount,bind,ro ${at}`] : [])];
  });
  const mode = request.network ?? 'default';
  const ownNetwork = mode === 'none' || (mode === 'default' && slirp);
  // Inside the new namespaces: wait for slirp4netns (fd 3), bring loopback up, set the host name,
  // mount the overlay (and /proc, /dev where the image has them), then chroot.
  const script = [
    'set -e',
    ...(ownNetwork && slirp ? ['echo ready >&3', 'read -r _ <&3'] : []),
    ...(ownNetwork ? ['if command -v ip >/dev/null; then ip link set lo up; fi'] : []),
    ...(request.hostname ? [`printf %s ${q(request.hostname)} > /proc/sys/kernel/hostname`] : []),
    // Relative lower paths (from the snapshot folder) keep a deep image's options within a page.
    ...(snapshotRoot !== undefined ? [`cd ${q(snapshotRoot)}`] : []),
    `mount -t overlay overlay -o lowerdir=${lowers.map(q).join(':')},upperdir=${q(upper)},workdir=${q(ovlWork)} ${q(merged)}`,
    'cd /',
    `if [ -d ${q(`${merged}/proc`)} ]; then mount -t proc proc ${q(`${merged}/proc`)}; fi`,
    insecure
      ? `if [ -d ${q(`${merged}/dev`)} ]; then mount --rbind /dev ${q(`${merged}/dev`)}; fi`
      : `if [ -d ${q(`${merged}/dev`)} ]; then\n${minimalDev(`${merged}/dev`).join('\n')}\nfi`,
    ...bindLines,
    'SETPRIV=$(command -v setpriv); CHROOT=$(command -v chroot)',
    `PATH=${q(imagePath)}; export PATH`,
    `exec ${drop}"$CHROOT" --userspec=${ids.uid}:${ids.gid} ${q(merged)} /bin/sh -c 'cd "$0" && exec "$@"' ${q(cwd || '/')} ${argv.map(q).join(' ')} 3>&-`,
  ].join('\n');
  const fallback = resolveInView(view, '/bin/sh') === undefined;
  const finalScript =
    fallback && (cwd || '/') === '/'
      ? script.replace(
          /exec ("\$SETPRIV" .* )?"\$CHROOT" .*$/m,
          `exec ${drop}"$CHROOT" --userspec=${ids.uid}:${ids.gid} ${q(merged)} ${argv.map(q).join(' ')} 3>&-`,
        )
      : script;
  const namespaces = ['--mount', '--pid', '--fork', ...(ownNetwork ? ['--net'] : []), '--uts', '--ipc'];
  return new Promise<number>((resolve, reject) => {
    const child = spawn('unshare', [...namespaces, '--propagation', 'private', 'sh', '-c', finalScript], {
      env: { ...env, PATH: HOST_PATH },
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    });
    let network: ReturnType<typeof spawn> | undefined;
    child.stdout.on('data', (c: Buffer) => request.stdout?.(c));
    child.stderr.on('data', (c: Buffer) => request.stderr?.(c));
    child.stdin.end(request.stdin ? Buffer.from(request.stdin) : undefined);
    const control = child.stdio[3] as import('node:stream').Duplex;
    control.on('error', () => undefined);
    if (ownNetwork && slirp) {
      // unshare(1) has made the namespace once the script runs: attach slirp4netns to it, then go on.
      control.once('data', () => {
        network = spawn(
          'slirp4netns',
          ['--configure', '--mtu=65520', '--disable-host-loopback', '--ready-fd=3', String(child.pid), 'tap0'],
          { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] },
        );
        let why = '';
        network.stderr!.on('data', (c: Buffer) => {
          why += c.toString();
        });
        const ready = network.stdio[3] as import('node:stream').Readable;
        ready.once('data', () => control.end('go\n'));
        network.on('error', (err) => {
          child.kill('SIGKILL');
          reject(new LayerkitError(ErrorCodes.ERR_UNSUPPORTED, `slirp4netns failed: ${err.message}`, {}));
        });
        network.on('exit', (code) => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill('SIGKILL');
          reject(
            new LayerkitError(
              ErrorCodes.ERR_UNSUPPORTED,
              `slirp4netns exited (${code}) before the command ended: ${why.trim() || 'no message'}; build with network none, or install slirp4netns and load the tun module`,
              {},
            ),
          );
        });
      });
    } else {
      control.end();
    }
    const onAbort = () => child.kill('SIGKILL');
    request.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', reject);
    child.on('close', (code, sig) => {
      request.signal?.removeEventListener('abort', onAbort);
      network?.kill('SIGKILL');
      resolve(code ?? (sig ? 128 + 9 : 1));
    });
  });
}

async function userIds(fs: ExecutorFs, user: string): Promise<{ uid: number; gid: number }> {
  if (!user) return { uid: 0, gid: 0 };
  const r = await resolveUser({ fs, user });
  return { uid: r.uid, gid: r.gid };
}

/**
 * Makes a persistent mount's view match what the command left in its host directory: entries
 * gone from the host are removed, new or changed ones (type, size, mode, owner, mtime) written.
 */
async function mirrorInto(view: ExecutorFs & SyncView, path: string, host: string): Promise<void> {
  const names = new Set(nodeFs.readdirSync(host));
  for (const name of view.readdirSync(path))
    if (!names.has(name)) await view.rm(posix.join(path, name), { recursive: true, force: true });
  for (const name of [...names].sort()) {
    const h = join(host, name);
    const p = posix.join(path, name);
    const st = nodeFs.lstatSync(h);
    let before: ReturnType<SyncView['lstatSync']> | undefined;
    try {
      before = view.lstatSync(p);
    } catch {
      before = undefined;
    }
    const sameKind =
      before !== undefined &&
      before.isDirectory() === st.isDirectory() &&
      before.isFile() === st.isFile() &&
      before.isSymbolicLink() === st.isSymbolicLink();
    if (before !== undefined && !sameKind) await view.rm(p, { recursive: true, force: true });
    if (st.isDirectory()) {
      if (!sameKind) await view.mkdir(p);
      await mirrorInto(view, p, h);
    } else if (st.isSymbolicLink()) {
      if (!sameKind || view.readlinkSync(p) !== nodeFs.readlinkSync(h)) {
        await view.rm(p, { force: true });
        await view.symlink(nodeFs.readlinkSync(h), p);
      }
    } else if (st.isFile()) {
      const unchanged = sameKind && before!.mtimeMs === st.mtimeMs && (before as { size?: number }).size === st.size;
      if (!unchanged) await view.writeFile(p, nodeFs.readFileSync(h));
    } else {
      continue;
    }
    if (before === undefined || before.uid !== st.uid || before.gid !== st.gid) await view.lchown(p, st.uid, st.gid);
    if (!st.isSymbolicLink() && (before === undefined || (before.mode & 0o7777) !== (st.mode & 0o7777)))
      await view.chmod(p, st.mode & 0o7777);
    if (!st.isSymbolicLink() && (before === undefined || before.mtimeMs !== st.mtimeMs))
      await view.utimes(p, st.atimeMs / 1000, st.mtimeMs / 1000);
  }
}
