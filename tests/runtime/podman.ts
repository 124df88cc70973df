/**
 * podman as the reference runtime for the differential tests: its own storage (vfs) and
 * settings under a temp folder (no network, cgroupfs, runc, nofile/nproc within this machine's
 * hard limits), images loaded from layerkit's docker-archive.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * podman refuses a `--runroot` longer than this. The main `podman run` reads the run root from
 * storage.conf and never checks, but the `container cleanup` that conmon starts when the container
 * exits gets it as `--runroot` and dies at once; `podman run --rm` then polls 20 s for a removal
 * that never comes. That cost 20 s per run (300 s of the suite) before the run root moved here.
 */
const MAX_RUNROOT = 50;

/** The result of a podman command. */
export interface PodmanRun {
  code: number;
  out: string;
  err: string;
}

/** podman with private storage and settings under `dir`. */
export class Podman {
  readonly env: NodeJS.ProcessEnv;
  /** The run root: a short folder of its own (see {@link MAX_RUNROOT}), removed by {@link destroy}. */
  readonly runroot: string;
  constructor(readonly dir: string) {
    const limit = (flag: string): number => {
      const v = execFileSync('bash', ['-c', `ulimit -H${flag}`], { encoding: 'utf8' }).trim();
      return v === 'unlimited' ? 1024 : Math.min(1024, Number(v));
    };
    fs.mkdirSync(join(dir, 'tmp'), { recursive: true });
    const runroot = join(dir, 'run');
    this.runroot =
      runroot.length <= MAX_RUNROOT
        ? runroot
        : fs.mkdtempSync(join(fs.existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'lkpm-'));
    if (this.runroot.length > MAX_RUNROOT) throw new Error(`podman run root too long: ${this.runroot}`);
    fs.writeFileSync(
      join(dir, 'storage.conf'),
      `[storage]\ndriver = "vfs"\ngraphroot = "${dir}/root"\nrunroot = "${this.runroot}"\n`,
    );
    fs.writeFileSync(
      join(dir, 'containers.conf'),
      `[containers]\nnetns = "none"\ndefault_ulimits = ["nofile=${limit('n')}:${limit('n')}", "nproc=${limit('u')}:${limit('u')}"]\n` +
        `[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\nruntime = "runc"\ntmp_dir = "${dir}/tmp"\n`,
    );
    this.env = {
      ...process.env,
      CONTAINERS_STORAGE_CONF: join(dir, 'storage.conf'),
      CONTAINERS_CONF: join(dir, 'containers.conf'),
    };
  }

  /** Runs `podman ARGS`; never throws. */
  run(args: string[]): PodmanRun {
    // In its own folder: conmon 2.1.6 writes an OOM marker named 'oom' into its working directory.
    const r = spawnSync('podman', args, {
      cwd: this.dir,
      env: this.env,
      encoding: 'utf8',
      maxBuffer: 64 << 20,
      timeout: 120_000,
    });
    return { code: r.status ?? 128, out: r.stdout ?? '', err: r.stderr ?? '' };
  }

  /** Like {@link run}, failing with podman's stderr on a non-zero status. */
  check(args: string[]): string {
    const r = this.run(args);
    if (r.code !== 0) throw new Error(`podman ${args.join(' ')} failed (${r.code}): ${r.err}`);
    return r.out;
  }

  /** The config.json podman's runtime got for a created (and initialised) container. */
  spec(id: string): Record<string, unknown> {
    const found = execFileSync('find', [this.dir, '-path', `*${id}*`, '-name', 'config.json'], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.includes('userdata'));
    if (found.length === 0) throw new Error(`no config.json for podman container ${id}`);
    return JSON.parse(fs.readFileSync(found[0]!, 'utf8')) as Record<string, unknown>;
  }

  /** Removes every container and the storage. */
  destroy(): void {
    this.run(['rm', '-af', '-t', '0']);
    this.run(['rmi', '-af']);
    for (const d of [this.dir, this.runroot])
      spawnSync('sh', ['-c', `findmnt -rn -o TARGET | grep "^${d}/" | sort -r | xargs -r umount -l`]);
    fs.rmSync(this.dir, { recursive: true, force: true });
    fs.rmSync(this.runroot, { recursive: true, force: true });
  }
}

/** The cgroup v1 folder of a live process for one controller (from /proc/PID/cgroup). */
export function processCgroup(pid: number, controller: string): string {
  for (const line of fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n')) {
    const [, ctrls, path] = line.split(':');
    if (ctrls?.split(',').includes(controller)) return `/sys/fs/cgroup/${controller}${path}`;
    if (ctrls === '' && path !== undefined && fs.statfsSync('/sys/fs/cgroup').type === 0x63677270)
      return `/sys/fs/cgroup${path}`;
  }
  throw new Error(`no ${controller} cgroup for pid ${pid}`);
}
