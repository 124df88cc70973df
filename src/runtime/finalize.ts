/**
 * What a container's end leaves to record, shared by the monitor (monitor.ts) and reconciliation
 * (state.ts): the exit record's format version and the finaliser conmon runs as its exit command.
 * Apart from the monitor, so that a foreground run, which reconciles but never starts a monitor,
 * does not load the monitor's program.
 */

/** The format version of the exit record (`exit.json`) the monitor and the finaliser write (state.ts reads it). */
export const EXIT_RECORD_VERSION = 1;

/**
 * `mounted(path)` for the monitor and the finaliser: whether `path` is a mount point now (it reads
 * /proc/self/mountinfo, whose fields escape spaces as octal), true when that cannot be read.
 */
export const MOUNTED_SOURCE = String.raw`const mounted = (p) => {
  try {
    const unescape = (f) => f.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(Number.parseInt(o, 8)));
    return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => unescape(l.split(' ')[4] || '') === p);
  } catch {
    return true;
  }
};
`;

/**
 * The finaliser conmon runs as its exit command (and reconciliation runs when it finds conmon
 * gone before the finaliser finished): the exit code from conmon's exit file, OOM from the
 * cgroup's counter or conmon's `oom` marker, then `runc delete`, unmount, the exit record, and
 * `--rm`'s removals. Idempotent: running it twice leaves the same record. argv[1]: the config.
 */
export const FINALIZE_SOURCE = String.raw`
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const cfg = JSON.parse(fs.readFileSync(process.argv[1], 'utf8'));
${MOUNTED_SOURCE}
let oomKills = 0;
try {
  const m = /^oom_kill (\d+)$/m.exec(fs.readFileSync(cfg.oomFile, 'utf8'));
  if (m) oomKills = Number(m[1]);
} catch {}
if (oomKills === 0 && fs.existsSync(cfg.conmon.oomMarker)) oomKills = 1;
let exitCode = 255;
try {
  const n = Number(fs.readFileSync(cfg.conmon.exitFile, 'utf8').trim());
  if (Number.isInteger(n)) exitCode = n;
} catch {}
spawnSync(cfg.runc, ['--root', cfg.root, 'delete', '-f', cfg.id], { stdio: 'ignore' });
if (mounted(cfg.rootfs) && spawnSync('umount', [cfg.rootfs], { stdio: 'ignore' }).status !== 0)
  spawnSync('umount', ['-l', cfg.rootfs], { stdio: 'ignore' });
if (!fs.existsSync(cfg.exit)) {
  const record = { exitCode, oomKilled: oomKills > 0, oomKills, finishedAt: new Date().toISOString(), version: ${EXIT_RECORD_VERSION} };
  const tmp = cfg.exit + '.' + process.pid + '.tmp';
  try {
    fs.writeFileSync(tmp, JSON.stringify(record));
    fs.renameSync(tmp, cfg.exit);
  } catch {}
}
for (const p of cfg.removePaths) fs.rmSync(p, { recursive: true, force: true });
`;
