/**
 * `layerkit build`: a Dockerfile into the store, with BuildKit-like progress and a cache report that
 * explains misses. This module parses the flags and asks the build memo; the builder runs in
 * ./build-run.ts, loaded only when no memo answers.
 */
import { isAbsolute, resolve } from 'node:path';
import { BuildOutputTypes, type BuildOutput } from '../../builder/build-output-types.js';
import { normalizeReference } from '../../oci/reference.js';
import { PULL_POLICIES, type PullPolicy } from '../../builder/pull-policy.js';
import { parseCacheExport, parseCacheImport, type CacheExport, type CacheImport } from '../../builder/remote-cache.js';
import type { RegistryOptions } from '../../registry/client.js';
import type { BuildSecret } from '../../builder/steps/run-mounts.js';
import { parseRemoteContext, redactUrl } from '../../builder/remote-context-url.js';
import { buildMemoSession, buildMemosEnabled, type BuildMemoSession } from '../build-memo.js';
import { stringOption, type Command, type CommandContext, type OptionValues } from '../command.js';
import { isTerminal, UsageError } from '../output.js';
import {
  COMPRESSION_OPTION,
  CONNECTION_OPTIONS,
  compressionOption,
  connection,
  registryOf,
} from './registry-options.js';
import { ProgressModes, type ProgressMode } from '../progress/renderer.js';

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
  /** `--label K=V`: labels added to the image's config. */
  labels: Record<string, string>;
  /** `-q`: no progress; only the image ID on standard output. */
  quiet: boolean;
  /** `--iidfile FILE`: where to write the image ID. */
  iidfile: string | undefined;
  /** `--metadata-file FILE`: where to write buildx's metadata JSON. */
  metadataFile: string | undefined;
  /** `--output`/`-o` (repeatable, as buildx ≥ 0.13): the result besides the store; `dest: '-'` is standard output. */
  outputs: BuildOutput[];
  /** `--build-context NAME=VALUE`: folders (absolute), `docker-image://`, `oci-layout://` (absolute), git and HTTP(S) URLs. */
  buildContexts: Record<string, string>;
  /** `--pull[=always|missing|never]`: when images the build reads are pulled. */
  pull: PullPolicy;
  /** `--push`: push the image to every `-t` name's registry once built. */
  push: boolean;
  /** `--compression estargz`: the image's layers in eStargz. */
  compression: 'estargz' | undefined;
  /** `--cert-dir`, `--insecure`: how the build's pulls and pushes reach registries. */
  registry: RegistryOptions;
  /** `--cache-from type=registry,ref=REF` (or a bare REF) or `type=local,src=DIR`, repeatable. */
  cacheFrom: CacheImport[];
  /** `--cache-to type=registry,ref=REF[,mode=min|max]`, `type=local,dest=DIR[,mode=…]` or `type=inline`, repeatable. */
  cacheTo: CacheExport[];
}

/**
 * One `--output` value, buildx's way: `type=local,dest=DIR`, `type=tar,dest=FILE`,
 * `type=oci|docker,dest=FILE[,name=REF]`; a bare `DIR` is `type=local,dest=DIR` and `-` is a tar
 * on standard output. `type=image` is the store alone (the default).
 */
export function parseOutputFlag(raw: string, cwd: string): BuildOutput | undefined {
  if (raw === '-') return { type: 'tar', dest: '-' };
  if (!raw.includes('=')) return { type: 'local', dest: resolve(cwd, raw) };
  const fields = new Map<string, string>();
  for (const part of raw.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new UsageError(`--output ${JSON.stringify(raw)}: expected type=TYPE,dest=PATH or a folder`);
    fields.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1));
  }
  const type = fields.get('type') ?? 'local';
  for (const key of fields.keys())
    if (!['type', 'dest', 'name'].includes(key))
      throw new UsageError(`--output ${JSON.stringify(raw)}: unknown field ${key}= (use type, dest, name)`);
  if (type === 'image') return undefined;
  if (type === 'registry')
    throw new UsageError(
      `--output ${JSON.stringify(raw)}: layerkit builds into its store; push the result after the build`,
      "run 'layerkit push IMAGE' once the build has tagged it",
    );
  if (!(BuildOutputTypes as readonly string[]).includes(type))
    throw new UsageError(
      `--output ${JSON.stringify(raw)}: unknown type ${JSON.stringify(type)}; use local, tar, oci, docker or image`,
    );
  const dest = fields.get('dest');
  if (dest === undefined || dest === '')
    throw new UsageError(
      `--output ${JSON.stringify(raw)}: dest= is required (a ${type === 'local' ? 'folder' : "file, or '-'"})`,
    );
  if (type === 'local') {
    if (dest === '-')
      throw new UsageError(`--output ${JSON.stringify(raw)}: a local output needs a folder; use type=tar for '-'`);
    return { type: 'local', dest: resolve(cwd, dest) };
  }
  const name = fields.get('name');
  return {
    type: type as 'tar' | 'oci' | 'docker',
    dest: dest === '-' ? '-' : resolve(cwd, dest),
    ...(name !== undefined && type !== 'tar' ? { name } : {}),
  };
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
  const remote = parseRemoteContext(options.context) !== undefined;
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
  // A bad name fails here, before the store is opened or a step runs (as docker checks -t first).
  for (const t of tags) normalizeReference(t);
  const secrets = Object.fromEntries(strings(values, 'secret').map((s) => parseSecretFlag(s, cwd)));
  const allow = strings(values, 'allow').flatMap((a) => a.split(','));
  for (const a of allow)
    if (a !== 'network.host' && a !== 'security.insecure')
      throw new UsageError(`--allow ${JSON.stringify(a)}: the entitlements are network.host and security.insecure`);
  const labels: Record<string, string> = {};
  for (const label of strings(values, 'label')) {
    const eq = label.indexOf('=');
    const key = eq < 0 ? label : label.slice(0, eq);
    if (key === '') throw new UsageError(`--label ${JSON.stringify(label)}: expected KEY=VALUE`);
    labels[key] = eq < 0 ? '' : label.slice(eq + 1);
  }
  const buildContexts: Record<string, string> = {};
  for (const c of strings(values, 'build-context')) {
    const eq = c.indexOf('=');
    if (eq <= 0 || eq === c.length - 1)
      throw new UsageError(
        `--build-context ${JSON.stringify(redactUrl(c))}: expected NAME=FOLDER, NAME=docker-image://REF, NAME=oci-layout://PATH or NAME=URL`,
      );
    const value = c.slice(eq + 1);
    buildContexts[c.slice(0, eq)] = value.startsWith('oci-layout://')
      ? `oci-layout://${resolve(cwd, value.slice('oci-layout://'.length))}`
      : /^[a-z][a-z0-9+.-]*:\/\//i.test(value) || parseRemoteContext(value) !== undefined
        ? value
        : resolve(cwd, value);
  }
  const outputs = strings(values, 'output').flatMap((o) => parseOutputFlag(o, cwd) ?? []);
  if (outputs.filter((o) => o.dest === '-').length > 1)
    throw new UsageError('--output: only one output can go to standard output');
  const dests = outputs.map((o) => o.dest);
  const twice = dests.find((d, i) => dests.indexOf(d) !== i);
  if (twice !== undefined) throw new UsageError(`--output: two outputs write to ${twice}`);
  const pullText = stringOption(values, 'pull') ?? 'missing';
  const pull = pullText === 'true' ? 'always' : pullText === 'false' ? 'missing' : pullText;
  if (!(PULL_POLICIES as readonly string[]).includes(pull))
    throw new UsageError(`--pull=${JSON.stringify(pullText)}: use --pull (always), --pull=missing or --pull=never`);
  const push = values.push === true;
  if (push && tags.length === 0) throw new UsageError('--push needs a name to push to: add -t REGISTRY/REPO:TAG');
  // A cache folder is named relative to the working directory, as --output's dest is.
  const cacheFrom = strings(values, 'cache-from')
    .map(parseCacheImport)
    .map((c) => (c.type === 'local' ? { ...c, src: resolve(cwd, c.src) } : c));
  const cacheTo = strings(values, 'cache-to')
    .map(parseCacheExport)
    .map((c) => (c.type === 'local' ? { ...c, dest: resolve(cwd, c.dest) } : c));
  const registry = connection(values, () => registryOf(tags[0] ?? 'localhost'));
  // --insecure covers the cache registries too (they are named on this command line).
  if (Array.isArray(registry.insecure))
    for (const c of [...cacheFrom, ...cacheTo]) if (c.type === 'registry') registry.insecure.push(registryOf(c.ref));
  const iidfile = stringOption(values, 'iidfile');
  const metadataFile = stringOption(values, 'metadata-file');
  return {
    pull: pull as PullPolicy,
    push,
    compression: compressionOption(values),
    registry,
    cacheFrom,
    cacheTo,
    labels,
    quiet: values.quiet === true,
    iidfile: iidfile === undefined ? undefined : resolve(cwd, iidfile),
    metadataFile: metadataFile === undefined ? undefined : resolve(cwd, metadataFile),
    outputs,
    buildContexts,
    // A git or HTTP(S) URL is fetched by the build; -f then names a file inside it, as docker's.
    context: remote ? options.context : resolve(cwd, options.context),
    dockerfile: file === undefined || file === '-' || remote ? file : isAbsolute(file) ? file : resolve(cwd, file),
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
    '[-f FILE] [-t REF]... [--target NAME] [--build-arg K=V]... [--label K=V]... [--build-context NAME=VALUE]... [--secret id=ID,src=FILE]... [-o DEST] [--iidfile FILE] [--metadata-file FILE] [-q] [--no-cache] [--explain] [--show-logs] [--progress auto|tty|plain|json] [--executor auto|shell|linux] [--network default|none|host] CONTEXT',
  description: [
    'Progress goes to standard error: redrawn in place on a terminal (auto, tty), one line per event for logs (plain), or one JSON object per',
    'event on standard output for tools (json; the last line is the result, or an error). RUN output is kept whole: --show-logs prints every',
    "step's complete output after the build. --explain shows each miss's reason in the progress and prints a report of every step: cached,",
    'or missed and why (each changed file, ARG/ENV, parent layer, instruction). SOURCE_DATE_EPOCH, when set, fixes every timestamp so',
    'builds are reproducible. Colours follow NO_COLOR and FORCE_COLOR. --output writes the result besides the store, as buildx does:',
    'type=local,dest=DIR (the files of the target stage; -o DIR for short), type=tar,dest=FILE (them as one tar; -o - for standard output),',
    'type=oci|docker,dest=FILE (the image as an archive). --build-context NAME=DIR lets FROM NAME, COPY --from=NAME and RUN --mount=from=NAME',
    'read another folder; NAME=docker-image://REF is an image (from the store or pulled as FROM pulls it), NAME=oci-layout://PATH[:TAG][@DIGEST]',
    'an image of an OCI layout folder, NAME=https://host/repo.git#REF:SUBDIR (or git://, ssh://, git@, file://) a git repository fetched',
    'shallow with git, NAME=https://host/ctx.tar.gz a tarball; a stage of the same name wins. CONTEXT itself may be a git URL or a tarball URL.',
  ].join(' '),
  examples: [
    'layerkit build -t app:1 .',
    'layerkit build -f docker/Dockerfile --target builder --build-arg VERSION=2 -t app:dev .',
    'layerkit build --explain .                  # why did a step miss the cache?',
    'layerkit build --secret id=npmrc,src=$HOME/.npmrc -t app:1 .   # for RUN --mount=type=secret,id=npmrc',
    'layerkit build --progress plain --show-logs . > build.log 2>&1',
    'layerkit build --progress json . | jq -c \'select(.type == "step") | {step, status, reason}\'',
    'layerkit build -o ./out .                   # the built files into ./out (type=local)',
    'layerkit build -o type=tar,dest=rootfs.tar --label org.opencontainers.image.version=2 .',
    'layerkit build -q --iidfile id.txt --metadata-file meta.json -t app:1 .',
    'layerkit build --build-context shared=../shared -t app:1 .   # COPY --from=shared ...',
    'layerkit build --build-context lib=https://example.com/lib.git#v1.2:src -t app:1 .',
    'layerkit build -t app:1 https://example.com/app.git#main',
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
    label: {
      type: 'string',
      multiple: true,
      value: 'K=V',
      description: "add a label to the image's config (repeatable; over the Dockerfile's LABEL)",
    },
    'build-context': {
      type: 'string',
      multiple: true,
      value: 'NAME=VALUE',
      description:
        'a named context for FROM NAME and COPY --from=NAME: a folder, docker-image://REF, oci-layout://PATH, a git or tarball URL (repeatable)',
    },
    output: {
      type: 'string',
      short: 'o',
      multiple: true,
      value: 'DEST',
      description:
        "type=local,dest=DIR | type=tar,dest=FILE | type=oci|docker,dest=FILE; DIR alone is local, '-' a tar on stdout (repeatable)",
    },
    iidfile: { type: 'string', value: 'FILE', description: 'write the image ID (the config digest) to FILE' },
    'metadata-file': {
      type: 'string',
      value: 'FILE',
      description: "write buildx's build metadata (containerimage.digest, image.name...) as JSON to FILE",
    },
    quiet: { type: 'boolean', short: 'q', description: 'no progress; print only the image ID' },
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
    pull: {
      type: 'string',
      value: 'POLICY',
      bareValue: 'always',
      description:
        'when FROM and --from images are pulled: missing (default: only what the store lacks), always (resolve tags again; bare --pull), never (the store only)',
    },
    push: { type: 'boolean', description: "push the image to each -t name's registry once built" },
    compression: COMPRESSION_OPTION,
    'cache-from': {
      type: 'string',
      multiple: true,
      value: 'SPEC',
      description:
        'reuse steps from a remote cache after a local miss: type=registry,ref=REF or a bare REF (a cache repository written by --cache-to, or an image built with --cache-to type=inline), or type=local,src=DIR[,tag=TAG] (a folder written by --cache-to type=local); repeatable. Keys are computed here; a record is used only when its bytes verify',
    },
    'cache-to': {
      type: 'string',
      multiple: true,
      value: 'SPEC',
      description:
        "export the build's cache: type=registry,ref=REF[,mode=min|max] (one image per step at REF's tag-KEY, an index at REF; min: the final image's steps, the default; max: every stage's) type=local,dest=DIR[,mode=min|max][,tag=TAG] (the same records in an OCI layout folder, the index under TAG, default latest) or type=inline (into the image's config); repeatable",
    },
    ...CONNECTION_OPTIONS,
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
    const memo = memoSession(req, ctx);
    if (memo?.replay(await ctx.store(), ctx.output)) return;
    // The builder, its progress display and the registry client load only when the builder runs.
    const { runBuildCommand } = await import('./build-run.js');
    await runBuildCommand({ ctx, req, memo });
  },
};

/**
 * The memo session of a request the build memo can vouch for (../build-memo.ts), else undefined:
 * a local context and Dockerfile, at least one tag, nothing written or fetched besides the store
 * (no outputs, pushes, cache imports or exports, named contexts, ID or metadata files), the cache
 * consulted as usual (no `--no-cache`, no `--pull`), and plain progress or none on outputs that are
 * not terminals (a replay writes the same bytes again).
 */
function memoSession(req: BuildRequest, ctx: CommandContext): BuildMemoSession | undefined {
  if (!buildMemosEnabled(process.env)) return undefined;
  if (req.tags.length === 0 || req.dockerfile === '-' || parseRemoteContext(req.context) !== undefined)
    return undefined;
  if (req.noCache || req.pull === 'always' || req.push || req.outputs.length > 0) return undefined;
  if (req.cacheFrom.length > 0 || req.cacheTo.length > 0 || Object.keys(req.buildContexts).length > 0) return undefined;
  if (req.iidfile !== undefined || req.metadataFile !== undefined) return undefined;
  if (req.progress === 'tty' || req.progress === 'json') return undefined;
  if (isTerminal(ctx.output, 'out') || isTerminal(ctx.output, 'err')) return undefined;
  return buildMemoSession({ argv: ctx.argv, cwd: process.cwd(), env: process.env });
}
