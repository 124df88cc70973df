/**
 * The layerkit command line: a thin layer over the public API (it imports only `src/index.ts`).
 */
import { readFileSync } from 'node:fs';
import { defaultStorePath, openStore, type Store } from '../index.js';
import { commandHelp, GLOBAL_OPTIONS, parseCommandArgs, stringOption, type Command } from './command.js';
import { buildCommand } from './commands/build.js';
import { catCommand, lsCommand, unpackCommand } from './commands/files.js';
import {
  exportCommand,
  imagesCommand,
  importCommand,
  inspectCommand,
  rmiCommand,
  tagCommand,
} from './commands/images.js';
import { gcCommand, verifyCommand } from './commands/store.js';
import { configCommand, digestCommand, manifestCommand } from './commands/raw.js';
import { loadCommand, saveCommand } from './commands/save-load.js';
import { loginCommand, logoutCommand, pullCommand, pushCommand } from './commands/registry.js';
import { systemCommand } from './commands/system.js';
import { explainCommand, historyCommand } from './commands/report.js';
import {
  commitCommand,
  containersCommand,
  createCommand,
  diffCommand,
  execCommand,
  rmCommand,
  squashCommand,
} from './commands/containers.js';
import {
  killCommand,
  logsCommand,
  pauseCommand,
  psCommand,
  runCommand,
  startCommand,
  statsCommand,
  stopCommand,
  unpauseCommand,
  waitCommand,
} from './commands/run.js';
import {
  ExitCodes,
  isClosedOutputError,
  OutputClosedError,
  println,
  processOutput,
  reportError,
  UsageError,
  type Output,
} from './output.js';
import type { HintContext } from './hints.js';

/** Every command, in the order help lists them. */
export const COMMANDS: Command[] = [
  buildCommand,
  importCommand,
  exportCommand,
  saveCommand,
  loadCommand,
  pullCommand,
  pushCommand,
  loginCommand,
  logoutCommand,
  imagesCommand,
  inspectCommand,
  configCommand,
  manifestCommand,
  digestCommand,
  historyCommand,
  explainCommand,
  tagCommand,
  rmiCommand,
  lsCommand,
  catCommand,
  unpackCommand,
  createCommand,
  containersCommand,
  runCommand,
  psCommand,
  startCommand,
  stopCommand,
  killCommand,
  pauseCommand,
  unpauseCommand,
  waitCommand,
  logsCommand,
  statsCommand,
  execCommand,
  diffCommand,
  commitCommand,
  rmCommand,
  squashCommand,
  gcCommand,
  verifyCommand,
  systemCommand,
];

function version(): string {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      return (JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { version: string }).version;
    } catch {
      // try the next location (dist/ vs src/cli/)
    }
  }
  return 'unknown';
}

/** The top-level help text. */
export function mainHelp(): string {
  const w = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'Usage: layerkit [--store DIR] COMMAND [ARGS...]',
    '',
    "Docker's storage and build layers, in-process: a content-addressed OCI layer store, an",
    'overlayfs-faithful union view, and a Dockerfile builder whose cache explains its misses.',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`),
    '',
    'Global options:',
    ...Object.entries(GLOBAL_OPTIONS).map(([k, v]) => `  --${k}${v.value ? ` ${v.value}` : ''}  ${v.description}`),
    '  --version  print the version',
    '',
    "Run 'layerkit COMMAND --help' for a command's options and examples.",
    'Exit status: 0 ok, 1 failed, 2 usage error, 3 verify found problems, 130 interrupted.',
  ].join('\n');
}

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function main(
  argv: string[],
  output: Output = processOutput({ debug: argv.includes('--debug') }),
): Promise<number> {
  const controller = new AbortController();
  const onSigint = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSigint);
  // A reader that goes away (`layerkit ls -R IMG | head -1`) stops the command quietly.
  const onOutError = (err: unknown) => {
    if (isClosedOutputError(err)) controller.abort(new OutputClosedError());
  };
  output.out.on('error', onOutError);
  const hintContext: HintContext = {};
  try {
    // Global options may come before the command.
    const rest = [...argv];
    const globals: string[] = [];
    while (rest.length > 0 && rest[0]!.startsWith('-')) {
      const a = rest.shift()!;
      if (a === '--version') {
        println(output, version());
        return ExitCodes.ok;
      }
      if (a === '--help' || a === '-h') {
        println(output, mainHelp());
        return ExitCodes.ok;
      }
      globals.push(a);
      if (a === '--store' && rest.length > 0) globals.push(rest.shift()!);
    }
    const name = rest.shift();
    if (name === undefined) {
      println(output, mainHelp());
      return ExitCodes.usage;
    }
    if (name === 'help') {
      const c = COMMANDS.find((x) => x.name === rest[0]);
      println(output, c ? commandHelp(c) : mainHelp());
      return ExitCodes.ok;
    }
    const command = COMMANDS.find((c) => c.name === name);
    if (!command)
      throw new UsageError(`unknown command ${JSON.stringify(name)}`, "run 'layerkit --help' for the list of commands");
    hintContext.command = command.name;
    const { args, options } = parseCommandArgs(command, [...globals, ...rest]);
    hintContext.args = args;
    if (options.help) {
      println(output, commandHelp(command));
      return ExitCodes.ok;
    }
    let opened: Store | undefined;
    const storeRoot = stringOption(options, 'store') ?? defaultStorePath();
    const code = await command.run(
      {
        output: { ...output, debug: output.debug || options.debug === true },
        store: async () => (opened ??= await openStore({ root: storeRoot })),
        signal: controller.signal,
      },
      args,
      options,
    );
    return code ?? ExitCodes.ok;
  } catch (err) {
    // A closed standard output ends the command quietly with status 0, as documented in the README.
    if (isClosedOutputError(err) || controller.signal.reason instanceof OutputClosedError) return ExitCodes.ok;
    // --debug anywhere on the line asks for the stack, whatever Output the caller passed.
    return reportError({ ...output, debug: output.debug || argv.includes('--debug') }, err, hintContext);
  } finally {
    process.removeListener('SIGINT', onSigint);
    output.out.removeListener('error', onOutError);
  }
}
