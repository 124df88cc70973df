/** `layerkit build`: a Dockerfile into the store, with BuildKit-like progress and a cache report that explains misses. */
import { isAbsolute, resolve } from 'node:path';
import { text } from 'node:stream/consumers';
import {
  autoExecutor,
  build,
  createVirtualShell,
  linuxExecutor,
  parsePlatform,
  type BuildEvent,
  type BuildOptions,
  type BuildResult,
  type BuildSecret,
} from '../../index.js';
import { stringOption, type Command, type OptionValues } from '../command.js';
import { SHELL_NOT_FOUND_ADVICE } from '../hints.js';
import { println, UsageError } from '../output.js';
import {
  createProgressRenderer,
  formatExplainReport,
  formatStepLogs,
  progressColor,
  ProgressModes,
  resolveProgressMode,
  VertexNumbers,
  type ProgressMode,
} from '../progress/index.js';

/** What the command line asks for, before the store is opened. */
export interface BuildRequest {
  context: string;
  /** An absolute path, or undefined for CONTEXT/Dockerfile; '-' reads standard input. */
  dockerfile: string | undefined;
  tags: string[];
  target: string | undefined;
  buildArgs: Record<string, string>;
  noCache: boolean;
  explain: boolean;
  showLogs: boolean;
  progress: ProgressMode;
  platform: string | undefined;
  sourceDateEpoch: number | undefined;
  /** `shell` (the virtual shell, default) or `linux` (real binaries in namespaces). */
  executor: 'auto' | 'shell' | 'linux';
  /** `--network default|none|host`: the network of RUN steps without their own `--network`. */
  network: 'default' | 'none' | 'host';
  /** `--secret id=ID[,src=FILE|,env=VAR]`, as `docker build --secret` takes them. */
  secrets: Record<string, BuildSecret>;
  /** `--allow network.host|security.insecure` (entitlements, as `docker buildx build --allow`). */
  allow: Array<'network.host' | 'security.insecure'>;
}

/**
 * One `--secret` value, docker's way: `id=ID,src=FILE` (also `source=`), `id=ID,env=VAR`, or
 * `id=ID` alone (an environment variable named ID, else a file named ID); `type=file|env` picks.
 */
export function parseSecretFlag(raw: string, cwd: string): [string, BuildSecret] {
  const fields = new Map<string, string>();
  for (const part of raw.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new UsageError(`--secret ${JSON.stringify(raw)}: expected id=ID,src=FILE or id=ID,env=VAR`);
    fields.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1));
  }
  const id = fields.get('id');
  if (!id)
    throw new UsageError(
      `--secret ${JSON.stringify(raw)}: id= is required (the id RUN --mount=type=secret,id=… names)`,
    );
  const src = fields.get('src') ?? fields.get('source');
  const envName = fields.get('env');
  const type = fields.get('type');
  for (const key of fields.keys())
    if (!['id', 'src', 'source', 'env', 'type'].includes(key))
      throw new UsageError(`--secret ${JSON.stringify(raw)}: unknown field ${key}= (use id, src, env, type)`);
  if (type !== undefined && type !== 'file' && type !== 'env')
    throw new UsageError(`--secret ${JSON.stringify(raw)}: type= is file or env`);
  if (type === 'env' || envName !== undefined) return [id, { env: envName ?? src ?? id }];
  if (src !== undefined || type === 'file') return [id, { file: resolve(cwd, src ?? id) }];
  return [id, process.env[id] !== undefined ? { env: id } : { file: resolve(cwd, id) }];
}

function strings(options: OptionValues, name: string): string[] {
  const v = options[name];
  if (Array.isArray(v)) return v.map(String);
  return typeof v === 'string' ? [v] : [];
}

/**
 * Checks and normalises the arguments: `-f` is relative to the current folder (as with docker),
 * `--build-arg NAME` without `=` takes NAME's value from the environment (and is left out when
 * unset), `SOURCE_DATE_EPOCH` must be whole seconds.
 */
export function parseBuildRequest(options: {
  context: string;
  values: OptionValues;
  env: NodeJS.ProcessEnv;
  cwd: string;
}): BuildRequest {
  const { values, env, cwd } = options;
  const buildArgs: Record<string, string> = {};
  for (const arg of strings(values, 'build-arg')) {
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg : arg.slice(0, eq);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
      throw new UsageError(
        `--build-arg ${JSON.stringify(arg)}: expected NAME=VALUE (or NAME to take the value from the environment)`,
      );
    if (eq >= 0) buildArgs[name] = arg.slice(eq + 1);
    else if (env[name] !== undefined) buildArgs[name] = env[name];
  }
  const progress = stringOption(values, 'progress') ?? 'auto';
  if (!(ProgressModes as readonly string[]).includes(progress))
    throw new UsageError(`--progress ${JSON.stringify(progress)}: use one of ${ProgressModes.join(', ')}`);
  const file = stringOption(values, 'file');
  const epoch = env.SOURCE_DATE_EPOCH;
  if (epoch !== undefined && epoch !== '' && !/^\d+$/.test(epoch))
    throw new UsageError(
      `SOURCE_DATE_EPOCH=${JSON.stringify(epoch)} is not a whole number of seconds; unset it or set it to e.g. $(git log -1 --format=%ct)`,
    );
  const executor = stringOption(values, 'executor') ?? 'auto';
  if (executor !== 'auto' && executor !== 'shell' && executor !== 'linux')
    throw new UsageError(`--executor ${JSON.stringify(executor)}: use auto, shell or linux`);
  const network = stringOption(values, 'network') ?? 'default';
  if (network !== 'default' && network !== 'none' && network !== 'host')
    throw new UsageError(`--network ${JSON.stringify(network)}: use default, none or host`);
  const tags = strings(values, 'tag');
  for (const t of tags) if (t.trim() === '') throw new UsageError('-t needs a name, e.g. -t app:1');
  const secrets = Object.fromEntries(strings(values, 'secret').map((s) => parseSecretFlag(s, cwd)));
  const allow = strings(values, 'allow').flatMap((a) => a.split(','));
  for (const a of allow)
    if (a !== 'network.host' && a !== 'security.insecure')
      throw new UsageError(`--allow ${JSON.stringify(a)}: the entitlements are network.host and security.insecure`);
  return {
    context: resolve(cwd, options.context),
    dockerfile: file === undefined || file === '-' ? file : isAbsolute(file) ? file : resolve(cwd, file),
    tags,
    target: stringOption(values, 'target'),
    buildArgs,
    noCache: values['no-cache'] === true,
    explain: values.explain === true,
    showLogs: values['show-logs'] === true,
    progress: progress as ProgressMode,
    platform: stringOption(values, 'platform'),
    sourceDateEpoch: epoch !== undefined && epoch !== '' ? Number(epoch) : undefined,
    executor,
    network,
    secrets,
    allow: allow as BuildRequest['allow'],
  };
}

/** `layerkit build`: its summary, usage, options and examples are the help text below. */
export const buildCommand: Command = {
  name: 'build',
  summary: 'Build an image from a Dockerfile; the cache says why a step missed',
  usage:
    '[-f FILE] [-t REF]... [--target NAME] [--build-arg K=V]... [--secret id=ID,src=FILE]... [--no-cache] [--explain] [--show-logs] [--progress auto|tty|plain|json] [--executor auto|shell|linux] [--network default|none|host] CONTEXT',
  description: [
    'Progress goes to standard error: redrawn in place on a terminal (auto, tty), one line per event for logs (plain), or one JSON object per',
    'event on standard output for tools (json; the last line is the result, or an error). RUN output is kept whole: --show-logs prints every',
    "step's complete output after the build. --explain shows each miss's reason in the progress and prints a report of every step: cached,",
    'or missed and why (each changed file, ARG/ENV, parent layer, instruction). SOURCE_DATE_EPOCH, when set, fixes every timestamp so',
    'builds are reproducible. Colours follow NO_COLOR and FORCE_COLOR.',
  ].join(' '),
  examples: [
    'layerkit build -t app:1 .',
    'layerkit build -f docker/Dockerfile --target builder --build-arg VERSION=2 -t app:dev .',
    'layerkit build --explain .                  # why did a step miss the cache?',
    'layerkit build --secret id=npmrc,src=$HOME/.npmrc -t app:1 .   # for RUN --mount=type=secret,id=npmrc',
    'layerkit build --progress plain --show-logs . > build.log 2>&1',
    'layerkit build --progress json . | jq -c \'select(.type == "step") | {step, status, reason}\'',
  ],
  options: {
    file: {
      type: 'string',
      short: 'f',
      value: 'FILE',
      description: "the Dockerfile (default: CONTEXT/Dockerfile; '-' reads it from standard input)",
    },
    tag: { type: 'string', short: 't', multiple: true, value: 'REF', description: 'name the image (repeatable)' },
    target: {
      type: 'string',
      value: 'NAME',
      description: 'the stage to build (default: the last); stages it does not need are skipped',
    },
    'build-arg': {
      type: 'string',
      multiple: true,
      value: 'K=V',
      description: 'set an ARG (repeatable; K alone takes the value from the environment)',
    },
    allow: {
      type: 'string',
      multiple: true,
      value: 'ENTITLEMENT',
      description:
        'let RUN --network=host (network.host) or RUN --security=insecure (security.insecure) run (linux executor)',
    },
    secret: {
      type: 'string',
      multiple: true,
      value: 'id=ID,src=FILE',
      description:
        'a secret for RUN --mount=type=secret (repeatable; env=VAR reads an environment variable); never in a layer or the cache key',
    },
    'no-cache': { type: 'boolean', description: 'rebuild every step (the cache is still written)' },
    explain: {
      type: 'boolean',
      description: 'show why each step missed the cache, and print a cache report after the build',
    },
    'show-logs': { type: 'boolean', description: "print every step's complete output after the build" },
    progress: {
      type: 'string',
      value: 'MODE',
      description: 'auto (default: tty on a terminal, else plain) | tty | plain | json',
    },
    platform: { type: 'string', value: 'OS/ARCH', description: 'the target platform (default: this machine)' },
    executor: {
      type: 'string',
      value: 'NAME',
      description:
        "how RUN runs: auto (default: linux where the host can and the image has a shell, else shell), shell (layerkit's virtual shell) or linux (the image's real binaries in namespaces; Linux, root)",
    },
    network: {
      type: 'string',
      value: 'MODE',
      description:
        "the network of RUN steps: default (slirp4netns's NAT where installed, else the host's network), none (loopback only), host (needs --allow network.host); RUN --network=none|host overrides it",
    },
  },
  args: { min: 1, max: 1 },
  async run(ctx, [contextArg], values) {
    const req = parseBuildRequest({ context: contextArg!, values, env: process.env, cwd: process.cwd() });
    const { output } = ctx;
    const dockerfileText = req.dockerfile === '-' ? await text(process.stdin) : undefined;
    const mode = resolveProgressMode({ mode: req.progress, stream: output.err, env: process.env });
    const numbers = new VertexNumbers();
    const progress = createProgressRenderer({
      mode,
      err: output.err,
      out: output.out,
      color: progressColor({ stream: output.err, env: process.env }),
      explain: req.explain,
      numbers,
    });
    const bases = new Map<string, string>();
    const store = await ctx.store();
    const options: BuildOptions = {
      store,
      context: req.context,
      dockerfile: req.dockerfile === '-' ? '<stdin>' : req.dockerfile,
      dockerfileText,
      tags: req.tags,
      target: req.target,
      buildArgs: req.buildArgs,
      secrets: req.secrets,
      allow: req.allow,
      noCache: req.noCache,
      executor:
        req.executor === 'linux'
          ? linuxExecutor()
          : req.executor === 'shell'
            ? createVirtualShell({ notFoundAdvice: SHELL_NOT_FOUND_ADVICE })
            : autoExecutor({ memory: store.memory, shell: { notFoundAdvice: SHELL_NOT_FOUND_ADVICE } }),
      network: req.network,
      platform: req.platform !== undefined ? parsePlatform(req.platform) : undefined,
      sourceDateEpoch: req.sourceDateEpoch,
      signal: ctx.signal,
      onEvent: (event: BuildEvent) => {
        if (event.type === 'stage' && event.status === 'started' && event.base !== undefined)
          bases.set(event.stage, event.base);
        progress.onEvent(event);
      },
    };
    let result: BuildResult;
    try {
      result = await build(options);
    } catch (error) {
      progress.finish({ error });
      throw error;
    }
    progress.finish({ result });

    // With --progress json, standard output carries only the JSON lines; the reports go to stderr.
    const json = mode === 'json';
    const report = (textOut: string) => (json ? output.err : output.out).write(textOut);
    const color = json ? progressColor({ stream: output.err, env: process.env }) : output.color;
    if (req.showLogs) report(formatStepLogs({ steps: result.steps, color, numbers }));
    if (req.explain) {
      if (req.showLogs) report('\n');
      report(formatExplainReport({ steps: result.steps, target: result.target, color, numbers, bases }));
    }
    if (json) return;
    println(output, `built ${result.image.descriptor.digest}`);
    for (const tag of req.tags) println(output, `tagged ${tag}`);
  },
};
