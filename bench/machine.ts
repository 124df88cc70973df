/** The facts about the machine a benchmark run is recorded with (results.json and the README table). */
import { execFileSync } from 'node:child_process';
import { cpus, release, totalmem } from 'node:os';

/** Machine and tool facts. */
export interface MachineFacts {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  date: string;
  tools: Record<string, string>;
}

function firstLine(argv: string[]): string {
  try {
    return execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n')[0]!
      .trim();
  } catch {
    return 'not installed';
  }
}

/** Collects the machine facts now. */
export function machineFacts(): MachineFacts {
  const cpu = cpus();
  return {
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    node: process.version,
    date: new Date().toISOString(),
    tools: {
      tar: firstLine(['tar', '--version']),
      gzip: firstLine(['gzip', '--version']),
      sha256sum: firstLine(['sha256sum', '--version']),
    },
  };
}
