/** Containers: create, containers, rm, diff, commit; and squash. */
import { fstatSync } from 'node:fs';
import { commitContainer, createContainer, diffContainer, openContainer } from '../../container/containers.js';
import { createVirtualShell } from '../../shell/executor.js';
import { formatAgo } from '../../report/format.js';
import { linuxExecutor } from '../../builder/executors/linux.js';
import { listContainerStates as listContainers, removeRuntime, containerStatus } from '../../runtime/lifecycle.js';
import { loadImage } from '../../image/image.js';
import { setCreateOptions } from '../../runtime/state.js';
import { execContainer } from '../../runtime/run-container.js';
import { squashImage } from '../../container/squash.js';
import { runEnvironment } from '../../builder/run-env.js';
import { stringOption, type Command } from '../command.js';
import { SHELL_NOT_FOUND_ADVICE } from '../hints.js';
import { RUN_OPTIONS, runSpecOptions } from './run.js';

/** run's options less those that only make sense when running now. */
function withoutRunOnly(options: Command['options']): Command['options'] {
  const { detach: _d, monitor: _m, ...rest } = options;
  return rest;
}
import { println, style, table, UsageError } from '../output.js';

/** `layerkit create`: its summary, usage, options and examples are the help text below. */
export const createCommand: Command = {
  name: 'create',
  summary: 'Create a container: a named, persistent writable layer over an image (start runs it)',
  usage: 'REF --name NAME [RUN OPTIONS] [-- COMMAND [ARG...]]',
  description:
    "Takes run's options (-e, -u, -w, -v, --memory, --cpus, ...); 'layerkit start NAME' runs the command with them, detached. Without a command, start runs the image's Entrypoint and Cmd.",
  examples: [
    'layerkit create hello --name work',
    'layerkit ls work /etc',
    "layerkit create app:1 --name web --memory 64m -- sh -c 'exec server' && layerkit start web",
  ],
  options: {
    ...withoutRunOnly(RUN_OPTIONS),
    name: { type: 'string', value: 'NAME', description: 'the container name (required)' },
  },
  args: { min: 1, max: Number.MAX_SAFE_INTEGER },
  async run(ctx, [ref, ...cmd], options) {
    const name = stringOption(options, 'name');
    if (!name) throw new UsageError('create needs --name NAME');
    const runOptions = runSpecOptions(options, cmd);
    const store = await ctx.store();
    const info = await createContainer({ store, image: ref!, name });
    setCreateOptions({ store, name, options: runOptions, autoRemove: options.rm === true });
    println(ctx.output, `created ${info.name} from ${ref} (${info.image.slice(0, 19)})`);
  },
};

/** `layerkit containers`: its summary, usage, options and examples are the help text below. */
export const containersCommand: Command = {
  name: 'containers',
  summary: 'List containers',
  usage: '[--json]',
  examples: ['layerkit containers', 'layerkit containers --json'],
  options: { json: { type: 'boolean', description: 'one JSON object per line' } },
  args: { min: 0, max: 0 },
  async run(ctx, _args, options) {
    const list = listContainers({ store: await ctx.store() });
    if (options.json) {
      for (const c of list)
        println(ctx.output, JSON.stringify({ name: c.name, image: c.image, imageRef: c.imageRef, created: c.created }));
      return;
    }
    for (const line of table([
      ['NAME', 'IMAGE', 'DIGEST', 'CREATED'],
      ...list.map((c) => [c.name, c.imageRef, c.image.slice(7, 19), formatAgo(c.created, Date.now())]),
    ]))
      println(ctx.output, line);
  },
};

/** `layerkit rm`: its summary, usage, options and examples are the help text below. */
export const rmCommand: Command = {
  name: 'rm',
  summary: "Remove containers and their writable layers (their images stay; 'gc' may collect them)",
  usage: '[-f] NAME...',
  examples: ['layerkit rm work', 'layerkit rm -f web'],
  options: { force: { type: 'boolean', short: 'f', description: 'kill a running container first' } },
  args: { min: 1, max: Number.MAX_SAFE_INTEGER },
  async run(ctx, names, options) {
    const store = await ctx.store();
    for (const name of names) {
      await removeRuntime({ store, name, force: options.force === true });
      println(ctx.output, `removed ${name}`);
    }
  },
};

/** `layerkit diff`: its summary, usage, options and examples are the help text below. */
export const diffCommand: Command = {
  name: 'diff',
  summary: 'Show what a container changed (A added, C changed, D deleted), like docker diff',
  usage: '[--json] NAME',
  examples: ['layerkit diff work'],
  options: { json: { type: 'boolean', description: 'one JSON object per line' } },
  args: { min: 1, max: 1 },
  async run(ctx, [name], options) {
    const changes = await diffContainer({ store: await ctx.store(), name: name! });
    for (const c of changes) {
      if (options.json) println(ctx.output, JSON.stringify(c));
      else {
        const letter =
          c.kind === 'added'
            ? style(ctx.output, 'green', 'A')
            : c.kind === 'deleted'
              ? style(ctx.output, 'red', 'D')
              : style(ctx.output, 'yellow', 'C');
        println(ctx.output, `${letter} ${c.path}`);
      }
    }
  },
};

/** `layerkit commit`: its summary, usage, options and examples are the help text below. */
export const commitCommand: Command = {
  name: 'commit',
  summary: "Commit a container's changes as a new image (one new layer)",
  usage: 'NAME REF [-m MESSAGE] [--author NAME]',
  examples: ['layerkit commit work hello:v2 -m "add config"'],
  options: {
    message: { type: 'string', short: 'm', value: 'TEXT', description: 'history comment' },
    author: { type: 'string', value: 'NAME', description: 'author recorded in the config and history' },
  },
  args: { min: 2, max: 2 },
  async run(ctx, [name, ref], options) {
    const { image, diffId } = await commitContainer({
      store: await ctx.store(),
      name: name!,
      tags: [ref!],
      message: stringOption(options, 'message'),
      author: stringOption(options, 'author'),
    });
    println(ctx.output, `${ref} ${image.descriptor.digest} (new layer ${diffId.slice(0, 19)})`);
  },
};

/** `layerkit squash`: its summary, usage, options and examples are the help text below. */
export const squashCommand: Command = {
  name: 'squash',
  summary: 'Write an image as a one-layer image (its flattened tree)',
  usage: 'REF NEWREF',
  examples: ['layerkit squash app:1 app:1-squashed'],
  options: {},
  args: { min: 2, max: 2 },
  async run(ctx, [ref, newRef]) {
    const store = await ctx.store();
    const image = await squashImage({ store, image: await loadImage({ store, image: ref! }), tags: [newRef!] });
    println(ctx.output, `${newRef} ${image.descriptor.digest} (1 layer)`);
  },
};

/** `layerkit exec`: its summary, usage, options and examples are the help text below. */
export const execCommand: Command = {
  name: 'exec',
  summary: "Run a command against a container's filesystem and keep its changes",
  usage: '[-i] [-t] [--executor shell|linux] [-e K=V]... [-w DIR] [-u USER] CONTAINER -- COMMAND [ARGS...]',
  description:
    "On a running container (layerkit run -d), the command runs inside it through runc exec. Otherwise the default executor is layerkit's virtual shell (POSIX sh with built-in utilities, works everywhere, in memory). --executor linux runs real binaries from the image in namespaces over a kernel overlay (Linux, root). The command's exit status becomes layerkit's. Standard input reaches the command with -i, as with docker, and also without it when it is a pipe, socket or file (echo data | layerkit exec ...); the executors read it to its end before the command starts. -t is accepted as docker's: the command gets no terminal of its own, and -it refuses a standard input that is not a terminal.",
  examples: [
    "layerkit exec work -- sh -c 'echo hello > /greeting'",
    "echo data | layerkit exec work -- sh -c 'cat > /data'",
    'layerkit exec --executor linux work -- /bin/busybox ls /',
    'layerkit diff work && layerkit commit work hello:v2',
  ],
  options: {
    executor: { type: 'string', value: 'NAME', description: 'shell (default) or linux' },
    env: {
      type: 'string',
      short: 'e',
      multiple: true,
      value: 'K=V',
      description: "environment (added to the image's Env)",
    },
    workdir: {
      type: 'string',
      short: 'w',
      value: 'DIR',
      description: "working directory (default: the image's WORKDIR)",
    },
    user: { type: 'string', short: 'u', value: 'USER', description: "user (default: the image's USER)" },
    interactive: {
      type: 'boolean',
      short: 'i',
      description: 'pass standard input to the command (a pipe or file is passed without it too)',
    },
    tty: {
      type: 'boolean',
      short: 't',
      description: "docker's -t: accepted; with -i, standard input must be a terminal",
    },
  },
  args: { min: 2, max: Number.MAX_SAFE_INTEGER },
  async run(ctx, [name, ...argv], options) {
    const input = ctx.output.in;
    if (options.interactive === true && options.tty === true && input?.isTTY !== true)
      throw new UsageError('the input device is not a TTY', 'leave out -t when standard input is a pipe or a file');
    const store = await ctx.store();
    if (stringOption(options, 'executor') === undefined && containerStatus({ store, name: name! }) === 'running') {
      // A running container: a new process in its namespaces (docker exec), not a second writer of its layer.
      const r = await execContainer({
        store,
        name: name!,
        cmd: argv,
        env: (options.env as string[] | undefined) ?? [],
        user: stringOption(options, 'user'),
        workdir: stringOption(options, 'workdir'),
        stdio: 'inherit',
        signal: ctx.signal,
      });
      return r.exitCode;
    }
    if (containerStatus({ store, name: name! }) === 'paused')
      throw new UsageError(`container ${name} is paused; 'layerkit unpause ${name}' first`);
    // The executors take standard input whole (a running container above inherits it instead).
    const stdin =
      input && (options.interactive === true || isPipeOrFile(input)) ? await readAll(input, ctx.signal) : undefined;
    const fs = await openContainer({ store, name: name! });
    const config = fs.image?.config.config ?? {};
    const env: Record<string, string> = {};
    for (const e of [...(config.Env ?? []), ...((options.env as string[] | undefined) ?? [])]) {
      const i = e.indexOf('=');
      env[i < 0 ? e : e.slice(0, i)] = i < 0 ? '' : e.slice(i + 1);
    }
    const kind = stringOption(options, 'executor') ?? 'shell';
    if (kind !== 'shell' && kind !== 'linux')
      throw new UsageError(`unknown executor ${JSON.stringify(kind)}; use shell or linux`);
    const executor =
      kind === 'linux' ? linuxExecutor() : createVirtualShell({ notFoundAdvice: SHELL_NOT_FOUND_ADVICE });
    const user = stringOption(options, 'user') ?? config.User ?? '';
    const { exitCode } = await executor.run({
      argv,
      env: await runEnvironment({ env, user, fs }),
      cwd: stringOption(options, 'workdir') ?? (config.WorkingDir || '/'),
      user,
      fs,
      signal: ctx.signal,
      ...(stdin === undefined ? {} : { stdin }),
      stdout: (c) => ctx.output.out.write(c),
      stderr: (c) => ctx.output.err.write(c),
    });
    await fs.save();
    return exitCode;
  },
};

/**
 * True when the stream is the process's stdin and that is a pipe, a socket (what a parent
 * process's pipe is) or a regular file: not a terminal, /dev/null or nothing.
 */
function isPipeOrFile(input: NodeJS.ReadableStream): boolean {
  if (input !== process.stdin) return false;
  try {
    const st = fstatSync(0);
    return st.isFIFO() || st.isSocket() || st.isFile();
  } catch {
    return false;
  }
}

/** Reads a stream to its end (the executors take standard input whole). */
async function readAll(input: NodeJS.ReadableStream, signal: AbortSignal): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of input) {
    signal.throwIfAborted();
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}
