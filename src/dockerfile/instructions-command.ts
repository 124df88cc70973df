/**
 * The instructions that carry a command: RUN (with its `--mount`, `--network`, `--security` and
 * `--device` flags), CMD, ENTRYPOINT, SHELL and HEALTHCHECK (durations parsed to nanoseconds with
 * BuildKit's validation).
 */
import { goQuote } from './go-text.js';
import { parseGoDuration, parseGoInt } from './go-parse.js';
import type { InstructionContext } from './instruction-context.js';
import type {
  CmdInstruction,
  CommandLine,
  EntrypointInstruction,
  HealthcheckInstruction,
  RunDevice,
  RunInstruction,
  ShellInstruction,
} from './instruction-types.js';
import { checkRunMountFrom, parseRunDevice, parseRunMount } from './run-mount.js';

const NETWORKS = ['default', 'none', 'host'] as const;
const SECURITY = ['sandbox', 'insecure'] as const;

/** BuildKit's `handleJSONArgs` plus the heredocs: the command of RUN/CMD/ENTRYPOINT. */
export function commandLine(ctx: InstructionContext): CommandLine {
  const { node } = ctx;
  const args = node.json ? [...node.args] : node.args.length === 0 ? [] : [node.args.join(' ')];
  return { form: node.json ? 'exec' : 'shell', args, heredocs: node.heredocs.map((h) => ({ ...h })) };
}

/** The flag indexes holding `--name` values, in order. */
function flagIndexes(ctx: InstructionContext, name: string): number[] {
  const out: number[] = [];
  ctx.node.flags.forEach((f, i) => {
    if (f.startsWith(`--${name}=`)) out.push(i);
  });
  return out;
}

/** RUN. */
export function toRun(ctx: InstructionContext): RunInstruction {
  const flags = ctx
    .flags()
    .strings('mount')
    .string('network', 'default')
    .string('security', 'sandbox')
    .strings('device')
    .parse();
  const network = flags.value('network');
  if (!(NETWORKS as readonly string[]).includes(network)) {
    throw flags.error(flags.indexOf('network'), `invalid network mode ${goQuote(network)}`);
  }
  const security = flags.value('security');
  if (!(SECURITY as readonly string[]).includes(security)) {
    throw flags.error(flags.indexOf('security'), `security ${goQuote(security)} is not valid`);
  }
  const mounts = flags.values('mount');
  const mountAt = flagIndexes(ctx, 'mount');
  mounts.forEach((raw, i) => {
    const fromError = checkRunMountFrom(raw);
    if (fromError !== undefined) throw flags.error(mountAt[i] ?? -1, fromError);
    if (raw.includes('$')) return; // validated once expanded (parseRunMount with expand)
    try {
      parseRunMount(raw);
    } catch (err) {
      throw flags.error(mountAt[i] ?? -1, (err as Error).message);
    }
  });
  const deviceAt = flagIndexes(ctx, 'device');
  const devices: RunDevice[] = flags.values('device').map((raw, i) => {
    try {
      return parseRunDevice(raw);
    } catch (err) {
      throw flags.error(deviceAt[i] ?? -1, (err as Error).message);
    }
  });
  return {
    keyword: 'run',
    node: ctx.node,
    range: ctx.node.range,
    command: commandLine(ctx),
    mounts,
    network: network as RunInstruction['network'],
    security: security as RunInstruction['security'],
    devices,
    flagsUsed: flags.usedNames(),
  };
}

/** CMD. */
export function toCmd(ctx: InstructionContext): CmdInstruction {
  ctx.flags().parse();
  return { keyword: 'cmd', node: ctx.node, range: ctx.node.range, command: commandLine(ctx) };
}

/** ENTRYPOINT. */
export function toEntrypoint(ctx: InstructionContext): EntrypointInstruction {
  ctx.flags().parse();
  return { keyword: 'entrypoint', node: ctx.node, range: ctx.node.range, command: commandLine(ctx) };
}

/** SHELL (JSON form only). */
export function toShell(ctx: InstructionContext): ShellInstruction {
  ctx.flags().parse();
  ctx.requireArgs();
  if (!ctx.node.json) throw ctx.argError('SHELL requires the arguments to be in JSON form');
  return { keyword: 'shell', node: ctx.node, range: ctx.node.range, shell: [...ctx.node.args] };
}

const DURATION_FLAGS = ['interval', 'timeout', 'start-period', 'start-interval'] as const;
const MIN_INTERVAL_NS = 1_000_000n;

/** HEALTHCHECK. */
export function toHealthcheck(ctx: InstructionContext): HealthcheckInstruction {
  ctx.requireArgs();
  const { node } = ctx;
  const type = (node.args[0] as string).toUpperCase();
  const rest = node.args.slice(1);
  const flags = ctx.flags();
  for (const name of DURATION_FLAGS) flags.string(name);
  flags.string('retries').parse();
  const base = { keyword: 'healthcheck', node, range: node.range } as const;
  if (type === 'NONE') {
    if (rest.length !== 0) throw ctx.argError('HEALTHCHECK NONE takes no arguments');
    return { ...base, test: ['NONE'], interval: 0, timeout: 0, startPeriod: 0, startInterval: 0, retries: 0 };
  }
  if (type !== 'CMD') throw ctx.argError(`Unknown type ${goQuote(type)} in HEALTHCHECK (try CMD)`);
  const command = node.json ? rest : rest.length === 0 ? [] : [rest.join(' ')];
  if (command.length === 0) throw ctx.argError('Missing command after HEALTHCHECK CMD');
  const durations = DURATION_FLAGS.map((name) => {
    const value = flags.value(name);
    if (value === '') return 0;
    let ns: bigint;
    try {
      ns = parseGoDuration(value);
    } catch (err) {
      throw flags.error(flags.indexOf(name), (err as Error).message);
    }
    if (ns !== 0n && ns < MIN_INTERVAL_NS) {
      throw flags.error(flags.indexOf(name), `Interval ${goQuote(name)} cannot be less than 1ms`);
    }
    return Number(ns);
  });
  let retries = 0;
  const retriesText = flags.value('retries');
  if (retriesText !== '') {
    try {
      retries = parseGoInt(retriesText, 32);
    } catch (err) {
      throw flags.error(flags.indexOf('retries'), (err as Error).message);
    }
    if (retries < 0) throw flags.error(flags.indexOf('retries'), `--retries cannot be negative (${retries})`);
  }
  return {
    ...base,
    test: [node.json ? 'CMD' : 'CMD-SHELL', ...command],
    interval: durations[0] as number,
    timeout: durations[1] as number,
    startPeriod: durations[2] as number,
    startInterval: durations[3] as number,
    retries,
  };
}
