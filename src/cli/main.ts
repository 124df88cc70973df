/**
 * The layerkit command line: a thin layer over the public API (it imports only names that
 * `src/index.ts` and `src/low-level.ts` export, from the modules that define them).
 *
 * Start-up is part of every command's time, so this file loads almost nothing: the command table
 * names each command and where its module is, and a command's module (with the parts of the
 * library it uses, in chunks of their own in the build) is imported only when that command runs or
 * its help is shown. `layerkit --version` loads no library code; `layerkit images` loads the store
 * and the image listing, not the builder, the registry client or the runtime.
 */
import { readFileSync } from 'node:fs';
import type { Store } from '../store/store.js';
import { commandHelp, GLOBAL_OPTIONS, parseCommandArgs, stringOption, type Command } from './command.js';
import {
  ExitCodes,
  isClosedOutputError,
  OutputClosedError,
  println,
  onOutputError,
  processOutput,
  reportError,
  UsageError,
  withDebug,
  type Output,
} from './output.js';
import type { HintContext } from './hints.js';

export { ExitCodes } from './output.js';

/** One row of the command table: a command's name and how to load its module. */
export interface CommandEntry {
  readonly name: string;
  /** Imports the command's module (once; later calls reuse it) and returns the command. */
  load(): Promise<Command>;
}

/** Every command, in the order help lists them. */
export const COMMAND_TABLE: readonly CommandEntry[] = [
  { name: 'build', load: async () => (await import('./commands/build.js')).buildCommand },
  { name: 'import', load: async () => (await import('./commands/images.js')).importCommand },
  { name: 'export', load: async () => (await import('./commands/images.js')).exportCommand },
  { name: 'save', load: async () => (await import('./commands/save-load.js')).saveCommand },
  { name: 'load', load: async () => (await import('./commands/save-load.js')).loadCommand },
  { name: 'pull', load: async () => (await import('./commands/registry.js')).pullCommand },
  { name: 'push', load: async () => (await import('./commands/registry.js')).pushCommand },
  { name: 'login', load: async () => (await import('./commands/registry.js')).loginCommand },
  { name: 'logout', load: async () => (await import('./commands/registry.js')).logoutCommand },
  { name: 'images', load: async () => (await import('./commands/images.js')).imagesCommand },
  { name: 'inspect', load: async () => (await import('./commands/images.js')).inspectCommand },
  { name: 'config', load: async () => (await import('./commands/raw.js')).configCommand },
  { name: 'manifest', load: async () => (await import('./commands/raw.js')).manifestCommand },
  { name: 'digest', load: async () => (await import('./commands/raw.js')).digestCommand },
  { name: 'history', load: async () => (await import('./commands/report.js')).historyCommand },
  { name: 'explain', load: async () => (await import('./commands/report.js')).explainCommand },
  { name: 'tag', load: async () => (await import('./commands/images.js')).tagCommand },
  { name: 'rmi', load: async () => (await import('./commands/images.js')).rmiCommand },
  { name: 'ls', load: async () => (await import('./commands/files.js')).lsCommand },
  { name: 'cat', load: async () => (await import('./commands/files.js')).catCommand },
  { name: 'unpack', load: async () => (await import('./commands/files.js')).unpackCommand },
  { name: 'create', load: async () => (await import('./commands/containers.js')).createCommand },
  { name: 'containers', load: async () => (await import('./commands/containers.js')).containersCommand },
  { name: 'run', load: async () => (await import('./commands/run.js')).runCommand },
  { name: 'ps', load: async () => (await import('./commands/lifecycle.js')).psCommand },
  { name: 'start', load: async () => (await import('./commands/lifecycle.js')).startCommand },
  { name: 'stop', load: async () => (await import('./commands/lifecycle.js')).stopCommand },
  { name: 'kill', load: async () => (await import('./commands/lifecycle.js')).killCommand },
  { name: 'pause', load: async () => (await import('./commands/lifecycle.js')).pauseCommand },
  { name: 'unpause', load: async () => (await import('./commands/lifecycle.js')).unpauseCommand },
  { name: 'wait', load: async () => (await import('./commands/lifecycle.js')).waitCommand },
  { name: 'logs', load: async () => (await import('./commands/lifecycle.js')).logsCommand },
  { name: 'stats', load: async () => (await import('./commands/lifecycle.js')).statsCommand },
  { name: 'exec', load: async () => (await import('./commands/containers.js')).execCommand },
  { name: 'diff', load: async () => (await import('./commands/containers.js')).diffCommand },
  { name: 'commit', load: async () => (await import('./commands/containers.js')).commitCommand },
  { name: 'rm', load: async () => (await import('./commands/containers.js')).rmCommand },
  { name: 'squash', load: async () => (await import('./commands/containers.js')).squashCommand },
  { name: 'gc', load: async () => (await import('./commands/store.js')).gcCommand },
  { name: 'verify', load: async () => (await import('./commands/store.js')).verifyCommand },
  { name: 'system', load: async () => (await import('./commands/system.js')).systemCommand },
];

/** Every command, loaded (for the full help and for tests that go through all of them). */
export async function loadCommands(): Promise<Command[]> {
  return Promise.all(COMMAND_TABLE.map((c) => c.load()));
}

/** Opens the store: its code loads with the first command that asks for it. */
async function openStoreAt(root: string | undefined): Promise<Store> {
  const { defaultStorePath, openStore } = await import('./store-access.js');
  return openStore({ root: root ?? defaultStorePath() });
}

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

/** The top-level help text (it loads every command's module for the summaries). */
export async function mainHelp(): Promise<string> {
  const commands = await loadCommands();
  const w = Math.max(...commands.map((c) => c.name.length));
  return [
    'Usage: layerkit [--store DIR] COMMAND [ARGS...]',
    '',
    "Docker's storage and build layers, in-process: a content-addressed OCI layer store, an",
    'overlayfs-faithful union view, and a Dockerfile builder whose cache explains its misses.',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`),
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
  const stopWatchingOutput = onOutputError(output, onOutError);
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
        println(output, await mainHelp());
        return ExitCodes.ok;
      }
      globals.push(a);
      if (a === '--store' && rest.length > 0) globals.push(rest.shift()!);
    }
    const name = rest.shift();
    if (name === undefined) {
      println(output, await mainHelp());
      return ExitCodes.usage;
    }
    if (name === 'help') {
      const c = COMMAND_TABLE.find((x) => x.name === rest[0]);
      println(output, c ? commandHelp(await c.load()) : await mainHelp());
      return ExitCodes.ok;
    }
    const entry = COMMAND_TABLE.find((c) => c.name === name);
    if (!entry)
      throw new UsageError(`unknown command ${JSON.stringify(name)}`, "run 'layerkit --help' for the list of commands");
    hintContext.command = entry.name;
    const command = await entry.load();
    const { args, options } = parseCommandArgs(command, [...globals, ...rest]);
    hintContext.args = args;
    if (options.help) {
      println(output, commandHelp(command));
      return ExitCodes.ok;
    }
    let opened: Promise<Store> | undefined;
    const storeRoot = stringOption(options, 'store');
    const code = await command.run(
      {
        output: withDebug(output, output.debug || options.debug === true),
        argv,
        store: () => (opened ??= openStoreAt(storeRoot)),
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
    return reportError(withDebug(output, output.debug || argv.includes('--debug')), err, hintContext);
  } finally {
    process.removeListener('SIGINT', onSigint);
    stopWatchingOutput();
  }
}
