/**
 * The commands acting on containers that run: ps, start, stop, kill, pause, unpause, wait, logs,
 * stats, and the shape `inspect` gives a container. `run` itself is in run.ts.
 */
import {
  containerLogs,
  containerStats,
  killContainer,
  listContainerStates as listContainers,
  pauseContainer,
  resumeContainer,
  stopContainer,
  waitContainer,
  type ContainerDetails,
} from '../../runtime/lifecycle.js';
import { formatSize, humanDuration } from '../../report/format.js';
import { startContainer } from '../../runtime/run-container.js';
import { stringOption, type Command, type OptionValues } from '../command.js';
import { println, table, UsageError } from '../output.js';

/** A container as `docker container inspect` shows it (the fields layerkit has). */
export function dockerContainerShape(d: ContainerDetails): Record<string, unknown> {
  const r = d.config?.resources;
  return {
    Id: d.id ?? '',
    Name: d.name,
    Created: d.created,
    Image: d.image,
    ImageRef: d.imageRef,
    State: {
      Status: d.status,
      Running: d.running,
      Paused: d.paused,
      OOMKilled: d.oomKilled,
      Pid: d.pid,
      ExitCode: d.exitCode ?? 0,
      StartedAt: d.startedAt ?? '',
      FinishedAt: d.finishedAt ?? '',
    },
    Config: {
      Cmd: d.config?.cmd ?? null,
      Entrypoint: d.config?.entrypoint ?? null,
      Env: d.config?.env ?? [],
      User: d.config?.user ?? '',
      WorkingDir: d.config?.workdir ?? '',
      Hostname: d.config?.hostname ?? '',
      Tty: d.config?.tty ?? false,
    },
    HostConfig: {
      Memory: r?.memory ?? 0,
      MemorySwap: r?.memorySwap ?? (r?.memory !== undefined ? 2 * r.memory : 0),
      NanoCpus: r?.cpus !== undefined ? Math.round(r.cpus * 1e9) : 0,
      PidsLimit: r?.pids ?? 0,
      NetworkMode: d.config?.network ?? 'none',
      ReadonlyRootfs: d.config?.readOnly ?? false,
      Binds: (d.config?.mounts ?? []).map((m) => `${m.source}:${m.destination}${m.readOnly ? ':ro' : ''}`),
    },
    Limits: d.limits ?? null,
  };
}

function age(iso: string | undefined): string {
  if (!iso) return '';
  return humanDuration(Math.max(0, Date.now() - Date.parse(iso)));
}

/** `layerkit ps`: its summary, usage, options and examples are the help text below. */
export const psCommand: Command = {
  name: 'ps',
  summary: 'List running containers (-a: all) with their state',
  usage: '[-a] [--json]',
  examples: ['layerkit ps', 'layerkit ps -a --json'],
  options: {
    all: { type: 'boolean', short: 'a', description: 'include created and exited containers' },
    json: { type: 'boolean', description: 'one JSON object per line' },
  },
  args: { min: 0, max: 0 },
  async run(ctx, _args, options) {
    const all = listContainers({ store: await ctx.store(), all: options.all === true });
    if (options.json) {
      for (const c of all) println(ctx.output, JSON.stringify(c));
      return;
    }
    const status = (c: (typeof all)[number]) =>
      c.status === 'exited'
        ? `Exited (${c.exitCode ?? '?'}) ${age(c.finishedAt)} ago`
        : c.status === 'running'
          ? `Up ${age(c.startedAt)}`
          : c.status === 'paused'
            ? `Up ${age(c.startedAt)} (Paused)`
            : 'Created';
    for (const line of table([
      ['CONTAINER ID', 'IMAGE', 'COMMAND', 'STATUS', 'NAMES'],
      ...all.map((c) => [
        (c.id ?? '').slice(0, 12),
        c.imageRef,
        c.command ? JSON.stringify(c.command.join(' ')) : '',
        status(c),
        c.name,
      ]),
    ]))
      println(ctx.output, line);
  },
};

function each(
  name: string,
  summary: string,
  action: (
    ctx: Parameters<Command['run']>[0],
    store: Awaited<ReturnType<Parameters<Command['run']>[0]['store']>>,
    n: string,
    o: OptionValues,
  ) => Promise<void | string>,
  extra: Pick<Command, 'options' | 'examples'> & { usage?: string },
): Command {
  return {
    name,
    summary,
    usage: extra.usage ?? 'CONTAINER...',
    examples: extra.examples,
    options: extra.options,
    args: { min: 1, max: Number.MAX_SAFE_INTEGER },
    async run(ctx, names, options) {
      const store = await ctx.store();
      for (const n of names) println(ctx.output, (await action(ctx, store, n, options)) ?? n);
    },
  };
}

/** `layerkit start`. */
export const startCommand = each(
  'start',
  'Start created or exited containers (detached, with the options they were run with)',
  async (ctx, store, name) => {
    await startContainer({ store, name, signal: ctx.signal });
  },
  { options: {}, examples: ['layerkit start web'] },
);

/** `layerkit stop`. */
export const stopCommand = each(
  'stop',
  "Stop running containers: the image's StopSignal (SIGTERM), then SIGKILL after -t seconds",
  async (ctx, store, name, options) => {
    const t = stringOption(options, 'time');
    if (t !== undefined && !/^[0-9]+$/.test(t)) throw new UsageError(`-t ${JSON.stringify(t)}: give whole seconds`);
    await stopContainer({ store, name, timeout: t === undefined ? 10 : Number(t), signal: ctx.signal });
  },
  {
    usage: '[-t SECS] CONTAINER...',
    options: {
      time: { type: 'string', short: 't', value: 'SECS', description: 'seconds before SIGKILL (default 10)' },
    },
    examples: ['layerkit stop web', 'layerkit stop -t 0 web'],
  },
);

/** `layerkit kill`. */
export const killCommand = each(
  'kill',
  "Send a signal (default SIGKILL) to running containers' init processes",
  async (_ctx, store, name, options) => {
    await killContainer({ store, name, signal: stringOption(options, 'signal') ?? 'KILL' });
  },
  {
    usage: '[-s SIGNAL] CONTAINER...',
    options: { signal: { type: 'string', short: 's', value: 'SIG', description: 'TERM, HUP, 15... (default KILL)' } },
    examples: ['layerkit kill web', 'layerkit kill -s HUP web'],
  },
);

/** `layerkit pause`. */
export const pauseCommand = each(
  'pause',
  "Freeze every process of running containers (the cgroup's freezer)",
  async (_ctx, store, name) => pauseContainer({ store, name }),
  { options: {}, examples: ['layerkit pause web'] },
);

/** `layerkit unpause`. */
export const unpauseCommand = each(
  'unpause',
  'Thaw paused containers',
  async (_ctx, store, name) => resumeContainer({ store, name }),
  { options: {}, examples: ['layerkit unpause web'] },
);

/** `layerkit wait`. */
export const waitCommand = each(
  'wait',
  'Wait for containers to exit and print their exit codes',
  async (ctx, store, name) => String((await waitContainer({ store, name, signal: ctx.signal })).exitCode),
  { options: {}, examples: ['layerkit wait web'] },
);

/** `layerkit logs`: its summary, usage, options and examples are the help text below. */
export const logsCommand: Command = {
  name: 'logs',
  summary: "Print a detached container's output (stdout and stderr as it wrote them)",
  usage: '[-f] [--timestamps] CONTAINER',
  examples: ['layerkit logs web', 'layerkit logs -f web'],
  options: {
    follow: { type: 'boolean', short: 'f', description: 'keep printing until the container exits' },
    timestamps: { type: 'boolean', description: 'prefix each line with its time' },
  },
  args: { min: 1, max: 1 },
  async run(ctx, [name], options) {
    const store = await ctx.store();
    for await (const line of containerLogs({
      store,
      name: name!,
      follow: options.follow === true,
      signal: ctx.signal,
    })) {
      const text = options.timestamps ? `${line.time} ${line.log}` : line.log;
      (line.stream === 'stderr' ? ctx.output.err : ctx.output.out).write(text);
    }
  },
};

function bytes(n: number | undefined): string {
  return n === undefined ? 'unlimited' : formatSize(n);
}

/** `layerkit stats`: its summary, usage, options and examples are the help text below. */
export const statsCommand: Command = {
  name: 'stats',
  summary: 'Show running containers’ CPU %, memory use and limit, and pids, from their cgroup files',
  usage: '[--no-stream] [--json] [CONTAINER...]',
  examples: ['layerkit stats --no-stream', 'layerkit stats web'],
  options: {
    'no-stream': { type: 'boolean', description: 'print one reading and exit' },
    json: { type: 'boolean', description: 'one JSON object per line' },
  },
  args: { min: 0, max: Number.MAX_SAFE_INTEGER },
  async run(ctx, names, options) {
    const store = await ctx.store();
    for (;;) {
      const targets = names.length > 0 ? names : listContainers({ store, all: false }).map((c) => c.name);
      const rows = await Promise.all(targets.map((name) => containerStats({ store, name }).catch(() => undefined)));
      const live = rows.filter((r) => r !== undefined);
      if (options.json) for (const r of live) println(ctx.output, JSON.stringify(r));
      else
        for (const line of table([
          ['NAME', 'CPU %', 'MEM USAGE / LIMIT', 'PIDS'],
          ...live.map((r) => [
            r.name,
            `${r.cpuPercent.toFixed(2)}%`,
            `${bytes(r.memoryUsage)} / ${bytes(r.memoryLimit)}`,
            `${r.pids}${r.pidsLimit !== undefined ? ` / ${r.pidsLimit}` : ''}`,
          ]),
        ]))
          println(ctx.output, line);
      if (options['no-stream'] || ctx.signal.aborted || live.length === 0) return;
      await new Promise((r) => setTimeout(r, 500));
    }
  },
};
