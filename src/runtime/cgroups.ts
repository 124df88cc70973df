/**
 * A container's cgroup, read straight from the cgroup files (runc writes them, layerkit only
 * reads): limits, usage, the OOM kill counter and leftovers to remove. Both hierarchies are
 * first-class: v1 (one folder per controller: memory.limit_in_bytes, memory.oom_control,
 * cpu.cfs_quota_us, cpuacct.usage, pids.max) and v2 (one folder: memory.max, memory.events,
 * cpu.max, cpu.stat, pids.max). runc picks v2 only when /sys/fs/cgroup itself is cgroup2.
 */
import nodeFs from 'node:fs';

const CGROUP2_SUPER_MAGIC = 0x63677270;
const MOUNT = '/sys/fs/cgroup';

/** `v2` when /sys/fs/cgroup is cgroup2 (unified), `v1` otherwise (legacy or hybrid). */
export function cgroupMode(): 'v1' | 'v2' {
  try {
    return nodeFs.statfsSync(MOUNT).type === CGROUP2_SUPER_MAGIC ? 'v2' : 'v1';
  } catch {
    return 'v1';
  }
}

/** The parent every layerkit container's cgroup lives under (`cgroupsPath: /layerkit/<id>`). */
export const CGROUP_PARENT = 'layerkit';

/** The spec's `cgroupsPath` for a container id. */
export function cgroupsPathFor(id: string): string {
  return `/${CGROUP_PARENT}/${id}`;
}

function read(path: string): string | undefined {
  try {
    return nodeFs.readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function num(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  if (t === 'max') return -1;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

function keyed(text: string | undefined, key: string): number | undefined {
  const m = text?.match(new RegExp(`^${key} (\\d+)$`, 'm'));
  return m ? Number(m[1]) : undefined;
}

/** The folder of a controller (v1) or of the container (v2). */
export function cgroupDir(id: string, controller: 'memory' | 'cpu' | 'cpuacct' | 'pids' | 'freezer'): string {
  return cgroupMode() === 'v2' ? `${MOUNT}/${CGROUP_PARENT}/${id}` : `${MOUNT}/${controller}/${CGROUP_PARENT}/${id}`;
}

/** True when swap is accounted (so a memory+swap limit can be written). */
export function swapAccounting(): boolean {
  return cgroupMode() === 'v2'
    ? nodeFs.existsSync(`${MOUNT}/cgroup.controllers`) && (read(`${MOUNT}/cgroup.controllers`) ?? '').includes('memory')
    : nodeFs.existsSync(`${MOUNT}/memory/memory.memsw.limit_in_bytes`);
}

/** How many processes of the container the kernel's OOM killer killed (v1 oom_control, v2 memory.events). */
export function readOomKills(id: string): number {
  const dir = cgroupDir(id, 'memory');
  const text = cgroupMode() === 'v2' ? read(`${dir}/memory.events`) : read(`${dir}/memory.oom_control`);
  return keyed(text, 'oom_kill') ?? 0;
}

/** The limits the cgroup holds (undefined when unlimited or unreadable). */
export interface CgroupLimits {
  memory?: number | undefined;
  /** Memory plus swap, as the spec's `swap` (v2: memory.max + memory.swap.max). */
  memorySwap?: number | undefined;
  cpuQuota?: number | undefined;
  cpuPeriod?: number | undefined;
  pids?: number | undefined;
}

const UNLIMITED_V1 = 0x7ffffffffffff000; // what v1 reports for "no limit" (page-rounded LONG_MAX)

/** Reads the container's limits back from its cgroup files. */
export function readLimits(id: string): CgroupLimits {
  const finite = (n: number | undefined) => (n === undefined || n < 0 || n >= UNLIMITED_V1 ? undefined : n);
  if (cgroupMode() === 'v2') {
    const dir = cgroupDir(id, 'memory');
    const [quota, period] = (read(`${dir}/cpu.max`) ?? '').trim().split(' ');
    const memory = finite(num(read(`${dir}/memory.max`)));
    const swap = finite(num(read(`${dir}/memory.swap.max`)));
    return {
      memory,
      memorySwap: memory !== undefined && swap !== undefined ? memory + swap : undefined,
      cpuQuota: quota === 'max' ? undefined : num(quota),
      cpuPeriod: num(period),
      pids: finite(num(read(`${dir}/pids.max`))),
    };
  }
  const mem = cgroupDir(id, 'memory');
  const cpu = cgroupDir(id, 'cpu');
  return {
    memory: finite(num(read(`${mem}/memory.limit_in_bytes`))),
    memorySwap: finite(num(read(`${mem}/memory.memsw.limit_in_bytes`))),
    cpuQuota: finite(num(read(`${cpu}/cpu.cfs_quota_us`))),
    cpuPeriod: num(read(`${cpu}/cpu.cfs_period_us`)),
    pids: finite(num(read(`${cgroupDir(id, 'pids')}/pids.max`))),
  };
}

/** One reading of a container's usage. */
export interface CgroupUsage {
  /** CPU time used so far, in nanoseconds. */
  cpuNanos: number;
  /** Memory in use minus the inactive page cache (docker stats' formula). */
  memory: number;
  /** The memory limit (undefined: none). */
  memoryLimit?: number | undefined;
  pids: number;
  pidsLimit?: number | undefined;
}

/** Reads a container's usage from its cgroup files. */
export function readUsage(id: string): CgroupUsage {
  const limits = readLimits(id);
  if (cgroupMode() === 'v2') {
    const dir = cgroupDir(id, 'memory');
    const usage = num(read(`${dir}/memory.current`)) ?? 0;
    const inactive = keyed(read(`${dir}/memory.stat`), 'inactive_file') ?? 0;
    return {
      cpuNanos: (keyed(read(`${dir}/cpu.stat`), 'usage_usec') ?? 0) * 1000,
      memory: inactive < usage ? usage - inactive : usage,
      memoryLimit: limits.memory,
      pids: num(read(`${dir}/pids.current`)) ?? 0,
      pidsLimit: limits.pids,
    };
  }
  const mem = cgroupDir(id, 'memory');
  const usage = num(read(`${mem}/memory.usage_in_bytes`)) ?? 0;
  const inactive = keyed(read(`${mem}/memory.stat`), 'total_inactive_file') ?? 0;
  return {
    cpuNanos: num(read(`${cgroupDir(id, 'cpuacct')}/cpuacct.usage`)) ?? 0,
    memory: inactive < usage ? usage - inactive : usage,
    memoryLimit: limits.memory,
    pids: num(read(`${cgroupDir(id, 'pids')}/pids.current`)) ?? 0,
    pidsLimit: limits.pids,
  };
}

/** Every cgroup folder a container id may have (each v1 hierarchy, the unified one, named ones). */
export function cgroupDirsOf(id: string): string[] {
  if (cgroupMode() === 'v2') return [`${MOUNT}/${CGROUP_PARENT}/${id}`];
  let names: string[] = [];
  try {
    names = nodeFs.readdirSync(MOUNT);
  } catch {
    return [];
  }
  return names.map((h) => `${MOUNT}/${h}/${CGROUP_PARENT}/${id}`).filter((d) => nodeFs.existsSync(d));
}

/**
 * Removes a dead container's leftover (empty) cgroup folders, and the parent when nothing else is
 * in it; returns the folders that could not be removed (a process still in them).
 */
export function removeCgroups(id: string): string[] {
  const left: string[] = [];
  for (const dir of cgroupDirsOf(id)) {
    try {
      nodeFs.rmdirSync(dir);
    } catch {
      left.push(dir); // still has processes (or is not ours to remove yet)
      continue;
    }
    try {
      nodeFs.rmdirSync(dir.slice(0, dir.lastIndexOf('/')));
    } catch {
      // other containers live there
    }
  }
  return left;
}
