/** Commands that talk to registries: pull, push, login, logout. */
import { loginRegistry, logoutRegistry } from '../../registry/login.js';
import { formatPlatform, parsePlatform, platformMatches } from '../../image/platform.js';
import { pullImage, type PullResult } from '../../registry/pull.js';
import { pullAllTags } from '../../registry/pull-all-tags.js';
import { formatSize } from '../../report/format.js';
import { pushImage } from '../../registry/push.js';
import { stringOption, type Command, type OptionSpec, type OptionValues } from '../command.js';
import {
  COMPRESSION_OPTION,
  CONNECTION_OPTIONS,
  compressionOption,
  connection,
  registryOf,
} from './registry-options.js';
import { println, UsageError } from '../output.js';
import { ProgressModes, type ProgressMode } from '../progress/index.js';
import { transferRenderer } from './transfer-progress.js';

const PROGRESS_OPTION: OptionSpec = {
  type: 'string',
  value: 'MODE',
  description: 'auto (default) | tty (a bar per blob) | plain (a line per blob) | json (events on stdout)',
};

function progressMode(options: OptionValues): ProgressMode {
  const mode = stringOption(options, 'progress') ?? 'auto';
  if (!(ProgressModes as readonly string[]).includes(mode))
    throw new UsageError(`--progress ${JSON.stringify(mode)}: use one of ${ProgressModes.join(', ')}`);
  return mode as ProgressMode;
}

/** `layerkit pull`: its summary, usage, options and examples are the help text below. */
export const pullCommand: Command = {
  name: 'pull',
  summary: 'Pull an image from a registry into the store',
  usage: '[--platform OS/ARCH[/VARIANT]] [--all-platforms] [-t NAME]... [--progress MODE] REF | --all-tags REPO',
  description:
    'REF is normalised as docker does (alpine is docker.io/library/alpine:latest). Only blobs the store lacks are downloaded, each verified while it streams; a failed or interrupted pull leaves the store as it was. --all-tags (-a) pulls every tag of a repository, as docker pull -a does, each under its own name; blobs the tags share are downloaded once. Credentials come from docker login / layerkit login (~/.docker/config.json, credential helpers, REGISTRY_AUTH_FILE). HTTPS_PROXY, HTTP_PROXY and NO_PROXY are honoured as docker and podman read them.',
  examples: [
    'layerkit pull alpine:3.20',
    'layerkit pull --platform linux/arm64 127.0.0.1:5000/app:1',
    'layerkit pull -t app:1 -t app:stable 127.0.0.1:5000/team/app:1',
    'layerkit pull --all-tags 127.0.0.1:5000/team/app',
    'layerkit pull --all-platforms --cert-dir ./certs.d registry.example:5001/team/app@sha256:…',
  ],
  options: {
    platform: {
      type: 'string',
      value: 'OS/ARCH',
      description: 'platform to pick from an index (default: this machine)',
    },
    'all-platforms': { type: 'boolean', description: 'keep the whole index: every platform' },
    'all-tags': {
      type: 'boolean',
      short: 'a',
      description: 'pull every tag of the repository REPO (listed with the registry’s tags API)',
    },
    tag: {
      type: 'string',
      short: 't',
      multiple: true,
      value: 'NAME',
      description: 'name to give the image in the store (default: REF); repeat for several names',
    },
    progress: PROGRESS_OPTION,
    ...CONNECTION_OPTIONS,
    json: { type: 'boolean', description: 'print the result as JSON' },
  },
  args: { min: 1, max: 1 },
  async run(ctx, [ref], options) {
    const store = await ctx.store();
    const platform = stringOption(options, 'platform');
    const mode = options.json ? 'plain' : progressMode(options);
    const names = ([] as unknown[]).concat(options.tag ?? []).map(String);
    const allTags = options['all-tags'] === true;
    if (allTags && names.length > 0) throw new UsageError('--all-tags names each image REPO:TAG; it takes no --tag');
    const renderer = transferRenderer({ output: ctx.output, mode });
    const common = {
      store,
      ref: ref!,
      ...(platform ? { platform: parsePlatform(platform) } : {}),
      allPlatforms: options['all-platforms'] === true,
      ...connection(options, () => registryOf(ref!)),
      signal: ctx.signal,
      onProgress: renderer.onEvent.bind(renderer),
    };
    const report = (result: PullResult): void => {
      if (options.json) {
        println(
          ctx.output,
          JSON.stringify({
            ref: result.ref.full,
            tag: result.tag,
            tags: result.tags,
            digest: result.resolved.digest,
            manifest: result.image.descriptor.digest,
            bytesDownloaded: result.bytesDownloaded,
            blobs: result.blobs,
          }),
        );
        return;
      }
      // A single-platform image has nothing to pick from: say when it is not the platform asked for
      // (podman warns the same way; the image is kept, as a build may still use it under emulation).
      const config = result.image.config;
      const have = {
        os: config.os,
        architecture: config.architecture,
        ...(config.variant ? { variant: config.variant } : {}),
      };
      if (platform && !platformMatches(have, parsePlatform(platform)))
        ctx.output.err.write(`warning: ${result.ref.full} is ${formatPlatform(have)} only, not ${platform}\n`);
      if (mode === 'json') return;
      const moved = result.blobs.filter((b) => b.status === 'pulled').length;
      println(
        ctx.output,
        `pulled ${result.tags.join(', ')} ${result.resolved.digest} (${moved} of ${result.blobs.length} blobs downloaded, ${formatSize(result.bytesDownloaded)})`,
      );
    };
    if (allTags) {
      const all = await pullAllTags({ ...common, onTag: report }).finally(() => renderer.finish());
      if (!options.json && mode !== 'json')
        println(
          ctx.output,
          `pulled ${all.tags.length} tag${all.tags.length === 1 ? '' : 's'} of ${ref} (${formatSize(all.bytesDownloaded)})`,
        );
      return;
    }
    const result = await pullImage({ ...common, ...(names.length > 0 ? { tags: names } : {}) }).finally(() =>
      renderer.finish(),
    );
    report(result);
  },
};

/** `layerkit push`: its summary, usage, options and examples are the help text below. */
export const pushCommand: Command = {
  name: 'push',
  summary: 'Push an image from the store to a registry',
  usage: '[--progress MODE] IMAGE [DEST]',
  description:
    'IMAGE is a name or digest in the store; DEST defaults to its name. Blobs the registry has are skipped, blobs known to live in another repository of the same registry are mounted, manifests go last (a failed push tags nothing).',
  examples: [
    'layerkit push 127.0.0.1:5000/app:1',
    'layerkit push app:1 registry.example:5001/team/app:1',
    'layerkit push --progress json app:1 127.0.0.1:5000/app:1 | jq -c .status',
  ],
  options: {
    progress: PROGRESS_OPTION,
    ...CONNECTION_OPTIONS,
    compression: COMPRESSION_OPTION,
    json: { type: 'boolean', description: 'print the result as JSON' },
  },
  args: { min: 1, max: 2 },
  async run(ctx, [image, dest], options) {
    const compression = compressionOption(options);
    const store = await ctx.store();
    const mode = options.json ? 'plain' : progressMode(options);
    const renderer = transferRenderer({ output: ctx.output, mode });
    const target = dest ?? image!;
    const result = await pushImage({
      store,
      image: image!,
      ref: target,
      ...connection(options, () => registryOf(target)),
      ...(compression ? { compression } : {}),
      signal: ctx.signal,
      onProgress: (e) => renderer.onEvent(e),
    }).finally(() => renderer.finish());
    if (options.json) {
      println(
        ctx.output,
        JSON.stringify({
          ref: result.ref.full,
          digest: result.descriptor.digest,
          bytesUploaded: result.bytesUploaded,
          blobs: result.blobs,
        }),
      );
      return;
    }
    if (mode === 'json') return;
    const sent = result.blobs.filter((b) => b.status === 'pushed').length;
    // Blobs mounted from another repository moved no bytes either: say so, or "0 of 3 uploaded" reads like a failure.
    const mounted = result.blobs.filter((b) => b.status === 'mounted').length;
    println(
      ctx.output,
      `pushed ${result.ref.full} ${result.descriptor.digest} (${sent} of ${result.blobs.length} blobs uploaded, ${formatSize(result.bytesUploaded)}${mounted > 0 ? `; ${mounted} mounted from another repository` : ''})`,
    );
  },
};

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** `layerkit login`: its summary, usage, options and examples are the help text below. */
export const loginCommand: Command = {
  name: 'login',
  summary: 'Log in to a registry (credentials saved where docker saves them)',
  usage: '[--username USER] [--password-stdin] HOST',
  description:
    'The credentials are checked against the registry first, then saved to the credential helper ~/.docker/config.json names (credHelpers, credsStore) or to its auths ($DOCKER_CONFIG moves it); a refresh token the registry hands out is saved instead of the password, as docker does. The password is read from standard input with --password-stdin, or asked for on a terminal without echo; it is never taken from the command line.',
  examples: [
    'echo "$TOKEN" | layerkit login --username me --password-stdin ghcr.io',
    'layerkit login -u alice --password-stdin --cert-dir ./certs.d 127.0.0.1:5001 < password.txt',
    'layerkit login registry.example   # asks for the user name and the password',
  ],
  options: {
    username: { type: 'string', short: 'u', value: 'USER', description: 'the user name' },
    'password-stdin': { type: 'boolean', description: 'read the password from standard input' },
    ...CONNECTION_OPTIONS,
  },
  args: { min: 1, max: 1 },
  async run(ctx, [host], options) {
    let username = stringOption(options, 'username');
    let password: string;
    const terminal = process.stdin.isTTY === true && typeof process.stdin.setRawMode === 'function';
    if (options['password-stdin']) {
      if (!username)
        throw new UsageError(
          '--password-stdin needs --username USER',
          'echo "$PASSWORD" | layerkit login -u USER --password-stdin HOST',
        );
      password = await readStdin();
    } else if (terminal) {
      // As docker login does on a terminal: ask, the password without echo.
      const { promptLine } = await import('../prompt.js');
      const streams = { input: process.stdin, output: process.stderr };
      username ||= (await promptLine(streams, 'Username: ', { secret: false })).trim();
      password = await promptLine(streams, 'Password: ', { secret: true });
    } else {
      throw new UsageError(
        'login needs --username USER and --password-stdin when standard input is not a terminal',
        'echo "$PASSWORD" | layerkit login -u USER --password-stdin HOST',
      );
    }
    if (!username || !password) throw new UsageError('login needs a user name and a password');
    const registry = host!.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
    const { where } = await loginRegistry({
      registry: registry === 'index.docker.io' ? 'docker.io' : registry,
      username,
      password,
      ...connection(options, () => registry),
      signal: ctx.signal,
    });
    println(ctx.output, `Login Succeeded (credentials saved to ${where})`);
  },
};

/** `layerkit logout`: its summary, usage, options and examples are the help text below. */
export const logoutCommand: Command = {
  name: 'logout',
  summary: 'Remove the saved credentials of a registry',
  usage: 'HOST',
  examples: ['layerkit logout ghcr.io'],
  options: {},
  args: { min: 1, max: 1 },
  async run(ctx, [host]) {
    const registry = host!.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
    const removed = await logoutRegistry({ registry });
    println(ctx.output, removed ? `Removed login credentials for ${registry}` : `Not logged in to ${registry}`);
  },
};
