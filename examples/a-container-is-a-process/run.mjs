// Lesson 8: a container is a process. Namespaces limit what it sees, cgroups limit what it uses.
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cgroupDir, cgroupDirsOf, cgroupMode, mountedUnder, readLimits } from 'layerkit/low-level';
import { containersUnavailable, makeBusyboxImage } from '../_busybox.mjs';
import { bytes, heading, keptFolder, layerkit, say, suggest } from '../_lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const missing = containersUnavailable();
if (missing) {
  say(`Lesson 8 runs real containers and cannot here: ${missing}`);
  process.exit(0);
}

const kept = keptFolder('a-container-is-a-process');
const store = await layerkit.openStore({ root: join(kept, 'store'), durable: false });
await makeBusyboxImage(store, 'busybox');
const ids = [];
const names = [];

/** Runs a foreground container (removed when it exits); returns its exit and what it printed. */
async function run(cmd, extra = {}) {
  const handle = await layerkit.runContainer({ store, image: 'busybox', cmd, autoRemove: true, ...extra });
  ids.push(handle.id);
  let out = '';
  for (const s of [handle.stdout, handle.stderr]) s.on('data', (c) => (out += c.toString()));
  const ended = (s) => new Promise((resolve) => s.once('end', resolve));
  const [exit] = await Promise.all([handle.wait(), ended(handle.stdout), ended(handle.stderr)]);
  return { ...exit, out };
}

/** Starts a detached container named `name`. */
async function detached(name, cmd, extra = {}) {
  const handle = await layerkit.runContainer({ store, image: 'busybox', name, cmd, detach: true, ...extra });
  ids.push(handle.id);
  names.push(name);
  return handle;
}

/** The first log line of a detached container (waits for it). */
async function firstLogLine(name) {
  for await (const line of layerkit.containerLogs({ store, name, follow: true })) return line.log.trim();
  return '';
}

const ns = (pid, kind) => readlinkSync(`/proc/${pid}/ns/${kind}`);

try {
  heading('Lesson 8: a container is a process');
  say('No virtual machine: the kernel runs the container as an ordinary process. Namespaces limit');
  say('what it sees (its own PIDs, host name, mounts, network); cgroups limit what it may use');
  say('(memory, CPU, processes). runc sets both up, then executes the command.');

  heading('1. PID 1 inside, a large PID outside');
  const sleeper = await detached('sleeper', ['sh', '-c', 'echo "my pid is $$"; exec sleep 60'], {
    hostname: 'lesson',
  });
  say(`  inside, the command says:  ${await firstLogLine('sleeper')}`);
  const nspid = /^NSpid:\s+(.*)$/m.exec(readFileSync(`/proc/${sleeper.pid}/status`, 'utf8'))[1].split(/\s+/);
  say(`  the host sees it as pid ${sleeper.pid}: /proc/${sleeper.pid}/status says NSpid ${nspid.join(' ')}`);
  say('  one process, two numbers: its pid in the host namespace and in its own, where it is the first');
  say('  (PID 1 has a duty: the kernel drops signals it has no handler for, so `stop` waits, then kills)');

  heading('2. Its own host name, mounts and network');
  const uname = await run(['uname', '-n'], { hostname: 'lesson' });
  say(
    `  uname -n inside: ${uname.out.trim()}; on the host: ${hostname() === 'lesson' ? 'lesson (!)' : 'something else'}`,
  );
  say('  namespace  the container        this process');
  for (const kind of ['pid', 'uts', 'mnt', 'net', 'ipc']) {
    const theirs = ns(sleeper.pid, kind);
    const ours = ns(process.pid, kind);
    say(`  ${kind.padEnd(10)} ${theirs.padEnd(20)} ${ours}${theirs === ours ? '  (shared)' : ''}`);
  }
  await layerkit.killContainer({ store, name: 'sleeper', signal: 'KILL' });
  const killed = await layerkit.waitContainer({ store, name: 'sleeper' });
  say(`  killed with SIGKILL: exit code ${killed.exitCode} (128 + 9)`);

  heading('3. A memory limit, and the OOM killer');
  say('  A runtime that sizes its heap from the machine it runs on: the JVM did, before JDK 10 (and');
  say('  8u191) learnt to read the cgroup. Its default heap was a quarter of /proc/meminfo, which a');
  say('  container does not change. heap.sh (beside this lesson) does the same with busybox awk.');
  const limit = 64 * 1024 * 1024;
  const heapRun = (where) =>
    run(['sh', '/heap.sh', where], {
      resources: { memory: limit },
      mounts: [{ source: join(here, 'heap.sh'), destination: '/heap.sh', readOnly: true }],
    });
  const describe = (r) => {
    const m = /memory (\d+) heap (\d+)/.exec(r.out);
    if (!m) throw new Error(`heap.sh printed ${JSON.stringify(r.out)} (exit ${r.exitCode})`);
    const a = /allocated (\d+)/.exec(r.out);
    return `sees ${bytes(Number(m[1]))}, heap ${bytes(Number(m[2]))}: ${
      a ? `allocated ${bytes(Number(a[1]))}, exit ${r.exitCode}` : `exit ${r.exitCode}, OOMKilled ${r.oomKilled}`
    }`;
  };
  say(`  --memory 64m gives the container ${bytes(limit)}; the cgroup's OOM killer acts past it`);
  say(`  heap.sh host:   ${describe(await heapRun('host'))}`);
  say(`  heap.sh cgroup: ${describe(await heapRun('cgroup'))}`);
  say('  137 is 128 + SIGKILL: the kernel killed it, and the cgroup counted the kill (OOMKilled)');

  heading('4. A CPU quota, measured');
  const busy = await detached('busy', ['sh', '-c', 'while :; do :; done'], { resources: { cpus: 0.5 } });
  const limits = readLimits(busy.id);
  say(`  --cpus 0.5: the cgroup allows ${limits.cpuQuota} µs of CPU per ${limits.cpuPeriod} µs period`);
  const cpuStat = join(cgroupDir(busy.id, 'cpu'), 'cpu.stat');
  const throttled = () => {
    const text = readFileSync(cpuStat, 'utf8');
    return [/^nr_periods (\d+)/m, /^nr_throttled (\d+)/m].map((r) => Number(r.exec(text)?.[1] ?? 0));
  };
  const before = throttled();
  const stats = await layerkit.containerStats({ store, name: 'busy', intervalMs: 1000 });
  const after = throttled();
  say(`  a busy loop, measured from the cgroup over 1 s: ${stats.cpuPercent.toFixed(0)}% of one CPU`);
  const [periods, times] = [after[0] - before[0], after[1] - before[1]];
  say(
    times > 0
      ? `  throttled in ${times} of ${periods} periods: it wanted more, the quota said no`
      : `  throttled in 0 of ${periods} periods: this machine is busy, the loop got less than its quota`,
  );
  await layerkit.removeRuntime({ store, name: 'busy', force: true });
  names.splice(names.indexOf('busy'), 1);

  heading('5. Nothing stays behind');
  for (const name of names.splice(0)) await layerkit.removeRuntime({ store, name, force: true });
  say(`  mounts under the store: ${mountedUnder(store.root).length}`);
  say(`  cgroups of the ${ids.length} containers: ${ids.flatMap((id) => cgroupDirsOf(id)).length}`);
  say(`  containers left: ${layerkit.listContainers({ store }).length}`);

  heading('Try it');
  const v2 = cgroupMode() === 'v2';
  suggest(`layerkit --store ${store.root} run --rm busybox ps`);
  suggest(`layerkit --store ${store.root} run --rm --hostname lesson busybox uname -n`);
  suggest(
    `layerkit --store ${store.root} run --rm --memory 64m busybox cat /sys/fs/cgroup/${v2 ? 'memory.max' : 'memory/memory.limit_in_bytes'}`,
  );
  suggest(
    `layerkit --store ${store.root} run --rm --cpus 0.5 busybox cat /sys/fs/cgroup/${v2 ? 'cpu.max' : 'cpu/cpu.cfs_quota_us'}`,
  );
} finally {
  for (const name of names) await layerkit.removeRuntime({ store, name, force: true }).catch(() => undefined);
}
