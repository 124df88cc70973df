/**
 * The shape of a CLI command: its help text is generated from the same metadata its arguments are
 * parsed with (node:util parseArgs, strict), so help and behaviour cannot drift apart.
 */
import { parseArgs } from 'node:util';
import type { Store } from '../store/store.js';
import { UsageError, type Output } from './output.js';

/** One option of a command. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** Shown in help, e.g. `REF` for `--tag REF`. */
  value?: string;
  /**
   * A string option given bare (`--pull`) takes this value; another value needs `=` (`--pull=never`),
   * as podman's and Cobra's optional values do.
   */
  bareValue?: string;
  description: string;
}

/** What a command gets to work with. */
export interface CommandContext {
  output: Output;
  /** The whole command line after the program name, as given (a build memo is keyed by it). */
  argv: readonly string[];
  /** Opens the store named by --store / $LAYERKIT_STORE / the default. */
  store(): Promise<Store>;
  signal: AbortSignal;
}

/** Parsed options. */
export type OptionValues = Record<string, string | boolean | string[] | boolean[] | undefined>;

/** A CLI command. */
export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** `layerkit NAME ...` synopsis after the name. */
  usage: string;
  description?: string;
  examples: string[];
  options: Record<string, OptionSpec>;
  /** Positional arguments allowed. */
  args: { min: number; max: number };
  /** Options end at the first positional (`run IMAGE CMD -x`: `-x` belongs to CMD), as docker run's do. */
  optionsBeforeArgs?: boolean;
  run(ctx: CommandContext, args: string[], options: OptionValues): Promise<number | void>;
}

/** Options every command accepts. */
export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  store: {
    type: 'string',
    value: 'DIR',
    description: 'the store folder (default: $LAYERKIT_STORE, else ~/.local/share/layerkit)',
  },
  debug: { type: 'boolean', description: 'print stack traces with errors' },
  help: { type: 'boolean', short: 'h', description: 'show help' },
};

/** Parses a command's arguments strictly; unknown options and wrong counts are usage errors. */
export function parseCommandArgs(command: Command, argv: string[]): { args: string[]; options: OptionValues } {
  const spec = { ...GLOBAL_OPTIONS, ...command.options };
  argv = withBareValues(argv, spec);
  if (command.optionsBeforeArgs) argv = endOptionsAtFirstArg(argv, spec);
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: Object.fromEntries(
        Object.entries(spec).map(([k, v]) => [
          k,
          { type: v.type, ...(v.short ? { short: v.short } : {}), ...(v.multiple ? { multiple: true } : {}) },
        ]),
      ),
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new UsageError(
      `${command.name}: ${(err as Error).message.replace(/\. To specify a positional argument.*$/, '')}`,
      `run 'layerkit ${command.name} --help'`,
    );
  }
  const options = parsed.values as OptionValues;
  if (options.help) return { args: parsed.positionals, options };
  const n = parsed.positionals.length;
  if (n < command.args.min || n > command.args.max) {
    throw new UsageError(
      `${command.name} takes ${argumentCount(command.args)}, got ${n}: layerkit ${command.name} ${command.usage}`,
      `run 'layerkit ${command.name} --help'`,
    );
  }
  return { args: parsed.positionals, options };
}

/** Gives bare options their `bareValue` (`--pull` → `--pull=always`), up to `--`. */
function withBareValues(argv: string[], spec: Record<string, OptionSpec>): string[] {
  const end = argv.indexOf('--');
  return argv.map((a, i) => {
    if ((end >= 0 && i > end) || !a.startsWith('--')) return a;
    const bare = spec[a.slice(2)]?.bareValue;
    return bare === undefined ? a : `${a}=${bare}`;
  });
}

/** Inserts `--` after the first positional argument, so what follows it is never parsed as options. */
function endOptionsAtFirstArg(argv: string[], spec: Record<string, OptionSpec>): string[] {
  const takesValue = (token: string): boolean => {
    if (token.startsWith('--')) return !token.includes('=') && spec[token.slice(2)]?.type === 'string';
    const letters = token.slice(1);
    for (let i = 0; i < letters.length; i++) {
      const opt = Object.values(spec).find((o) => o.short === letters[i]);
      if (opt?.type === 'string') return i === letters.length - 1; // `-eK=V` carries its value
    }
    return false;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return argv;
    if (a.startsWith('-') && a !== '-') {
      if (takesValue(a)) i++;
      continue;
    }
    return [...argv.slice(0, i + 1), '--', ...argv.slice(i + 1)];
  }
  return argv;
}

/** `1 argument`, `0 to 1 arguments`, `at least 1 argument`. */
function argumentCount({ min, max }: { min: number; max: number }): string {
  if (max === Number.MAX_SAFE_INTEGER) return `at least ${min} argument${min === 1 ? '' : 's'}`;
  if (min === max) return `${min} argument${min === 1 ? '' : 's'}`;
  return `${min} to ${max} arguments`;
}

/** The help text of a command. */
export function commandHelp(command: Command): string {
  const lines = [`Usage: layerkit ${command.name} ${command.usage}`, '', command.summary];
  if (command.description) lines.push('', command.description);
  const opts = Object.entries({ ...command.options, ...GLOBAL_OPTIONS });
  lines.push('', 'Options:');
  const rows = opts.map(([k, v]) => [
    `  ${v.short ? `-${v.short}, ` : '    '}--${k}${v.value ? `${v.bareValue !== undefined ? '[=' : ' '}${v.value}${v.bareValue !== undefined ? ']' : ''}` : ''}`,
    v.description,
  ]);
  const w = Math.max(...rows.map((r) => r[0]!.length));
  for (const [a, b] of rows) lines.push(`${a!.padEnd(w)}  ${b}`);
  if (command.examples.length > 0) {
    lines.push('', 'Examples:');
    for (const e of command.examples) lines.push(`  ${e}`);
  }
  return lines.join('\n');
}

/** A string option's value (the last one when repeated). */
export function stringOption(options: OptionValues, name: string): string | undefined {
  const v = options[name];
  if (Array.isArray(v)) return v.length ? String(v[v.length - 1]) : undefined;
  return typeof v === 'string' ? v : undefined;
}
