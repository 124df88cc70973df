/**
 * CPU accounting for the registry benchmark: where the seconds of a pull or push go, per process
 * (layerkit, skopeo, the registry serving them), so that on a 2-core machine the wall-clock
 * figures explain themselves: a transfer can take no less than (client CPU + registry CPU) / cores.
 * Read from /proc (Linux), in clock ticks of 10 ms.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const TICK = 0.01;

/** user + system CPU seconds a running process has used so far (its threads included). */
export function processCpuSeconds(pid: number): number {
  const fields = statFields(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  return (Number(fields[11]) + Number(fields[12])) * TICK;
}

/** user + system CPU seconds this process has used so far (all its threads). */
export function selfCpuSeconds(): number {
  const r = process.resourceUsage();
  return (r.userCPUTime + r.systemCPUTime) / 1e6;
}

/** /proc/PID/stat fields from the third on (the command name may hold spaces). */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** What {@link timeChildCpu} measured. */
export interface ChildCpu {
  /** Wall-clock seconds around spawn and exit. */
  seconds: number;
  /** user + system CPU seconds of the program and its children. */
  cpu: number;
}

/**
 * Runs a program and returns its wall-clock seconds and CPU seconds. It runs under `sh`, which
 * reads its own waited-for children's CPU time (cutime, cstime) from /proc afterwards: no
 * `/usr/bin/time` needed. A non-zero exit fails with its stderr.
 */
export function timeChildCpu(options: {
  argv: readonly string[];
  env?: NodeJS.ProcessEnv | undefined;
}): Promise<ChildCpu> {
  const script = '"$@" >/dev/null; s=$?; cat /proc/$$/stat; exit $s';
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn('sh', ['-c', script, 'sh', ...options.argv], {
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code, sig) => {
      const seconds = (performance.now() - t0) / 1000;
      if (code !== 0) {
        reject(
          new Error(`${options.argv.join(' ')} failed (${sig ?? `exit ${code}`}): ${stderr.trim().slice(0, 2000)}`),
        );
        return;
      }
      const fields = statFields(stdout.trim());
      resolve({ seconds, cpu: (Number(fields[13]) + Number(fields[14])) * TICK });
    });
  });
}
