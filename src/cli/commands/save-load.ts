/**
 * `save` and `load` with docker's meaning: image archives in and out (several images per
 * archive). `import`/`export` stay layerkit's general converters (layout folders, rootfs, flat tar).
 */
import { importImage } from '../../image/import.js';
import { parsePlatform } from '../../image/platform.js';
import { SaveFormats, saveImages, type SaveFormat } from '../../image/export.js';
import { stringOption, type Command } from '../command.js';
import { println, progressBar, UsageError } from '../output.js';

/** `layerkit save IMG... [-o FILE]`: docker save. */
export const saveCommand: Command = {
  name: 'save',
  summary: 'Save images to a tar archive (docker save): a docker-archive by default, or an oci-archive',
  usage: '[-o FILE] [--format docker-archive|oci-archive] IMAGE...',
  description:
    "Writes to standard output unless -o is given, and refuses to write to a terminal. A name with a tag saves that name; a repository without a tag saves all its tags; a digest or ID saves the image without a name. The archive is what 'docker load', 'podman load' and 'layerkit load' read. ('layerkit export' writes one image in more forms: a layout folder, a rootfs, a flat tar.)",
  examples: [
    'layerkit save app:1 -o app.tar',
    'layerkit save app:1 base:2 | gzip > images.tar.gz',
    'layerkit save --format oci-archive app:1 -o app.oci.tar',
    'layerkit save app:1 | docker load',
  ],
  options: {
    output: { type: 'string', short: 'o', value: 'FILE', description: 'write to a file instead of standard output' },
    format: { type: 'string', value: 'FORMAT', description: 'docker-archive (default) | oci-archive' },
  },
  args: { min: 1, max: Number.MAX_SAFE_INTEGER },
  async run(ctx, images, options) {
    const file = stringOption(options, 'output');
    const format = (stringOption(options, 'format') ?? 'docker-archive') as SaveFormat;
    if (!SaveFormats.includes(format))
      throw new UsageError(
        `unknown save format ${JSON.stringify(format)}; use one of ${SaveFormats.join(', ')}`,
        "run 'layerkit save --help'",
      );
    if ((file === undefined || file === '-') && ctx.output.out.isTTY)
      throw new UsageError(
        'cowardly refusing to write an archive to a terminal',
        "use -o FILE, or redirect: 'layerkit save IMAGE > image.tar'",
      );
    const store = await ctx.store();
    const bar = progressBar(ctx.output, 'saving');
    await saveImages({
      store,
      images,
      format,
      output: file === undefined || file === '-' ? ctx.output.out : file,
      signal: ctx.signal,
      onProgress: (n, t) => bar.update(n, t),
    }).finally(() => bar.done());
  },
};

/** `layerkit load [-i FILE]`: docker load. */
export const loadCommand: Command = {
  name: 'load',
  summary: 'Load images from a tar archive or standard input (docker load)',
  usage: '[-i FILE] [-q] [--platform OS/ARCH]',
  description:
    "Reads a docker-archive (docker save, any version), an oci-archive, or either compressed with gzip or zstd; from standard input unless -i is given. Prints 'Loaded image: NAME' for each name and 'Loaded image ID: sha256:...' for an image without one, as docker does. On any error the store is left as it was.",
  examples: [
    'layerkit load -i app.tar',
    'docker save busybox | layerkit load',
    'layerkit load < images.tar.gz',
    'layerkit save app:1 | layerkit --store ./other load',
  ],
  options: {
    input: { type: 'string', short: 'i', value: 'FILE', description: 'read from a file instead of standard input' },
    quiet: { type: 'boolean', short: 'q', description: 'no progress bar' },
    platform: {
      type: 'string',
      value: 'OS/ARCH',
      description: 'platform to pick from a multi-platform index (default: this machine)',
    },
  },
  args: { min: 0, max: 0 },
  async run(ctx, _args, options) {
    const file = stringOption(options, 'input');
    const fromStdin = file === undefined || file === '-';
    if (fromStdin && process.stdin.isTTY)
      throw new UsageError(
        'requested load from standard input, but it is a terminal',
        "use -i FILE, or redirect: 'layerkit load < image.tar'",
      );
    const store = await ctx.store();
    const bar = options.quiet ? { update: () => undefined, done: () => undefined } : progressBar(ctx.output, 'loading');
    const platform = stringOption(options, 'platform');
    const result = await importImage({
      store,
      source: fromStdin ? process.stdin : file,
      platform: platform ? parsePlatform(platform) : undefined,
      signal: ctx.signal,
      onProgress: (n, total) => bar.update(n, total),
    }).finally(() => bar.done());
    for (const { image, names } of result.images) {
      if (names.length === 0) println(ctx.output, `Loaded image ID: ${image.manifest.config.digest}`);
      for (const name of names) println(ctx.output, `Loaded image: ${name}`);
    }
  },
};
