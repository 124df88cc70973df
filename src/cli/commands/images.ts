/**
 * Commands about images: import, export, images, inspect, tag, rmi. `images`, `tag` and `rmi` run
 * at every start of a script, so this module imports statically only what they need; import,
 * export and inspect load their parts of the library (and the Go templates) when they run.
 */
import type { ExportFormat } from '../../image/export.js';
import { formatAgo, formatSize } from '../../report/format.js';
import { resolveImageRef } from '../../image/resolve-image.js';
import { listImages, removeImage } from '../../image/images.js';
import { loadImage } from '../../image/image.js';
import { parsePlatform } from '../../image/platform.js';
import { stringOption, type Command } from '../command.js';
import { println, progressBar, table, UsageError } from '../output.js';

/** `layerkit import`: its summary, usage, options and examples are the help text below. */
export const importCommand: Command = {
  name: 'import',
  summary: 'Import images from an OCI layout folder, an oci-archive or a docker-archive (detected)',
  usage: '[--tag REF] [--platform OS/ARCH] PATH',
  description:
    "PATH may be '-' to read a tar from standard input. Every layer is indexed and checked; on any error the store is left as it was.",
  examples: [
    'layerkit import ./busybox.tar',
    'layerkit import --tag app:1 ./oci-layout-dir',
    'skopeo copy oci:src:t docker-archive:/dev/stdout | layerkit import -',
  ],
  options: {
    tag: { type: 'string', short: 't', value: 'REF', description: 'name the image (the source must hold one image)' },
    platform: {
      type: 'string',
      value: 'OS/ARCH',
      description: 'platform to pick from a multi-platform index (default: this machine)',
    },
    json: { type: 'boolean', description: 'print the result as JSON' },
  },
  args: { min: 1, max: 1 },
  async run(ctx, [path], options) {
    const store = await ctx.store();
    const bar = progressBar(ctx.output, 'importing');
    const platform = stringOption(options, 'platform');
    const tag = stringOption(options, 'tag');
    const { importImage } = await import('../../image/import.js');
    const result = await importImage({
      store,
      source: path === '-' ? process.stdin : path!,
      tags: tag !== undefined ? [tag] : undefined,
      platform: platform ? parsePlatform(platform) : undefined,
      signal: ctx.signal,
      onProgress: (n, total) => bar.update(n, total),
    }).finally(() => bar.done());
    if (options.json) {
      println(
        ctx.output,
        JSON.stringify({
          format: result.format,
          images: result.images.map((i) => ({
            names: i.names,
            digest: i.image.descriptor.digest,
            layers: i.image.layers.length,
          })),
        }),
      );
      return;
    }
    for (const { image, names } of result.images) {
      println(
        ctx.output,
        `imported ${names.length ? names.join(', ') : '<untagged>'} ${image.descriptor.digest} (${result.format}, ${image.layers.length} layer${image.layers.length === 1 ? '' : 's'})`,
      );
    }
  },
};

/** `layerkit export`: its summary, usage, options and examples are the help text below. */
export const exportCommand: Command = {
  name: 'export',
  summary: 'Export an image as an OCI layout, oci-archive, docker-archive, rootfs folder or flattened tar',
  usage: 'REF -o PATH [--format oci|oci-archive|docker-archive|rootfs|tar]',
  description:
    "docker-archive is what 'docker load' and 'podman load' read; rootfs unpacks the flattened tree (owners kept when run as root); tar is the flattened tree as one tar, like 'docker export'. -o - writes an archive to standard output.",
  examples: [
    'layerkit export app:1 -o app.tar --format docker-archive',
    'layerkit export app:1 -o ./layout --format oci',
    'layerkit export app:1 -o ./rootfs --format rootfs',
  ],
  options: {
    output: { type: 'string', short: 'o', value: 'PATH', description: 'where to write (required)' },
    format: {
      type: 'string',
      value: 'FORMAT',
      description: 'oci | oci-archive (default) | docker-archive | rootfs | tar',
    },
    name: { type: 'string', value: 'REF', description: 'the name written into the archive (default: the image name)' },
  },
  args: { min: 1, max: 1 },
  async run(ctx, [ref], options) {
    const output = stringOption(options, 'output');
    if (!output) throw new UsageError('export needs -o PATH');
    if (output === '-' && ctx.output.out.isTTY)
      throw new UsageError(
        'cowardly refusing to write an archive to a terminal',
        "use -o FILE, or redirect: 'layerkit export IMAGE -o - > image.tar'",
      );
    const format = (stringOption(options, 'format') ?? 'oci-archive') as ExportFormat;
    const { ExportFormats, exportImage } = await import('../../image/export.js');
    if (!ExportFormats.includes(format))
      throw new UsageError(`unknown export format ${JSON.stringify(format)}; use one of ${ExportFormats.join(', ')}`);
    const store = await ctx.store();
    const image = await loadImage({ store, image: ref! });
    const bar = progressBar(ctx.output, 'exporting');
    const name = stringOption(options, 'name') ?? resolveImageRef({ store, query: ref! }).names[0];
    const result = await exportImage({
      store,
      image,
      format,
      output: output === '-' ? ctx.output.out : output,
      name,
      signal: ctx.signal,
      onProgress: (n, t) => bar.update(n, t),
    }).finally(() => bar.done());
    if (output !== '-') println(ctx.output, `exported ${ref} to ${output} (${format})`);
    for (const w of result.unpack?.warnings ?? []) ctx.output.err.write(`warning: ${w}\n`);
  },
};

/** `layerkit images`: its summary, usage, options and examples are the help text below. */
export const imagesCommand: Command = {
  name: 'images',
  summary: 'List the images in the store',
  usage: '[--filter KEY=VALUE]... [--json] [REPOSITORY[:TAG]]',
  description:
    "Filters as 'docker images --filter': dangling=true|false (images without a name), reference=PATTERN (a name with or without its tag; * and ? as in paths), label=KEY or label=KEY=VALUE, before=IMAGE and since=IMAGE (created earlier / later than that image), until=DURATION|TIMESTAMP (created before then: 24h, 2024-05-01, 2024-05-01T10:00:00Z or Unix seconds). Different keys must all match; several reference values match when any does; several label values must all match. REPOSITORY[:TAG] is a reference filter.",
  examples: [
    'layerkit images',
    'layerkit images --json | jq .names',
    'layerkit images --filter dangling=true',
    "layerkit images --filter 'reference=app:*' --filter label=org.opencontainers.image.version",
    'layerkit images --filter since=app:1 app',
    'layerkit images --filter until=24h',
  ],
  options: {
    filter: {
      type: 'string',
      short: 'f',
      multiple: true,
      value: 'KEY=VALUE',
      description: 'dangling, reference, label, before, since or until (repeatable)',
    },
    json: { type: 'boolean', description: 'one JSON object per line' },
  },
  args: { min: 0, max: 1 },
  async run(ctx, args, options) {
    const filters = [...((options.filter as string[] | undefined) ?? [])];
    if (args[0] !== undefined) filters.push(`reference=${args[0]}`);
    const store = await ctx.store();
    const images = await listImages({ store, filters });
    if (options.json) {
      for (const i of images) println(ctx.output, JSON.stringify(i));
      return;
    }
    // Tables say how long ago, as docker's do; --json and inspect keep the full timestamp.
    const now = Date.now();
    const rows = [['NAME', 'DIGEST', 'ID', 'CREATED', 'LAYERS', 'SIZE']];
    for (const i of images) {
      for (const name of i.names.length ? i.names : ['<none>']) {
        rows.push([
          name,
          i.digest.slice(7, 19),
          i.id?.slice(7, 19) ?? '?',
          formatAgo(i.created, now),
          String(i.layers),
          formatSize(i.size),
        ]);
      }
    }
    for (const line of table(rows)) println(ctx.output, line);
  },
};

/** `layerkit inspect`: its summary, usage, options and examples are the help text below. */
export const inspectCommand: Command = {
  name: 'inspect',
  summary:
    'Print an image (names, descriptor, manifest, config) or a container (state, exit code, OOMKilled, pid, limits, times) as JSON, or through a Go template',
  usage: '[--format TEMPLATE] [--platform OS/ARCH] REF|CONTAINER...',
  description:
    "Without --format: one JSON object per image ({names, descriptor, manifest, config}). With --format, a Go text/template runs on each image as 'docker image inspect' describes it (Id, RepoTags, RepoDigests, Created, Author, Config, Architecture, Variant, Os, Size, RootFS, Metadata, Descriptor), one line per image: fields (.Config.Cmd), json, join, split, index, len, range, if/else, with, printf, println, upper, lower, title, pad, truncate. Values print as Go prints them: [a b] for lists, map[k:v] for maps. '--format json' prints docker's shape as JSON.",
  examples: [
    'layerkit inspect app:1',
    'layerkit inspect app:1 | jq .config.config.Env',
    "layerkit inspect --format '{{.Config.Cmd}}' app:1",
    "layerkit inspect --format '{{json .Config.Env}}' app:1",
    "layerkit inspect --format '{{range .Config.Env}}{{println .}}{{end}}' app:1",
    'layerkit inspect --format \'{{index .Config.Labels "org.opencontainers.image.version"}}\' app:1',
    "layerkit inspect --format '{{.Os}}/{{.Architecture}} {{len .RootFS.Layers}} layers' app:1 base:2",
    "layerkit inspect --format '{{.State.Status}} {{.State.ExitCode}} {{.State.OOMKilled}}' web",
  ],
  options: {
    format: { type: 'string', short: 'f', value: 'TEMPLATE', description: "a Go template, or 'json' (docker's shape)" },
    platform: { type: 'string', value: 'OS/ARCH', description: 'platform to pick from an index' },
  },
  args: { min: 1, max: Number.MAX_SAFE_INTEGER },
  async run(ctx, refs, options) {
    const store = await ctx.store();
    const platformText = stringOption(options, 'platform');
    const platform = platformText ? parsePlatform(platformText) : undefined;
    const format = stringOption(options, 'format');
    const { hasContainer } = await import('../../container/containers.js');
    const { inspectTemplateData, parseFormat } = await import('../inspect-format.js');
    if (refs.every((ref) => hasContainer({ store, name: ref }))) {
      const { inspectContainer } = await import('../../runtime/lifecycle.js');
      const { dockerContainerShape } = await import('./lifecycle.js');
      // Containers: docker's container inspect shape (State.Status, State.OOMKilled, HostConfig.Memory...).
      const render = format === undefined || format === 'json' ? undefined : parseFormat(format);
      const shown = [];
      for (const ref of refs) shown.push(dockerContainerShape(await inspectContainer({ store, name: ref })));
      if (render) for (const c of shown) println(ctx.output, render(c));
      else if (format === 'json') for (const c of shown) println(ctx.output, JSON.stringify(c));
      else println(ctx.output, JSON.stringify(shown.length === 1 ? shown[0] : shown, null, 2));
      return;
    }
    if (format !== undefined) {
      const render = format === 'json' ? undefined : parseFormat(format);
      const lines: string[] = [];
      const { inspectImage } = await import('../../image/inspect.js');
      for (const ref of refs) {
        const inspect = await inspectImage({ store, image: ref, platform });
        lines.push(render ? render(inspectTemplateData(inspect)) : JSON.stringify(inspect));
      }
      for (const line of lines) println(ctx.output, line);
      return;
    }
    const shown = [];
    for (const ref of refs) {
      const image = await loadImage({ store, image: ref, ...(platform ? { platform } : {}) });
      shown.push({ names: image.names, descriptor: image.descriptor, manifest: image.manifest, config: image.config });
    }
    println(ctx.output, JSON.stringify(shown.length === 1 ? shown[0] : shown, null, 2));
  },
};

/** `layerkit tag`: its summary, usage, options and examples are the help text below. */
export const tagCommand: Command = {
  name: 'tag',
  summary: 'Point a name at an image (retagging an old image is a rollback)',
  usage: 'SOURCE TARGET',
  examples: ['layerkit tag app:1 app:stable', 'layerkit tag sha256:3f2a app:stable   # roll back to an earlier build'],
  options: {},
  args: { min: 2, max: 2 },
  async run(ctx, [source, target]) {
    const store = await ctx.store();
    const { descriptor } = resolveImageRef({ store, query: source! });
    await store.tag(target!, descriptor);
    println(ctx.output, `${target} -> ${descriptor.digest}`);
  },
};

/** `layerkit rmi`: its summary, usage, options and examples are the help text below. */
export const rmiCommand: Command = {
  name: 'rmi',
  summary: "Remove a name, or an image with all its names (blobs stay until 'gc')",
  usage: 'REF...',
  examples: ['layerkit rmi app:old', 'layerkit rmi sha256:3f2a && layerkit gc'],
  options: {},
  args: { min: 1, max: Number.MAX_SAFE_INTEGER },
  async run(ctx, refs) {
    const store = await ctx.store();
    for (const ref of refs) {
      const { removed, digest } = await removeImage({ store, ref });
      println(ctx.output, removed.length ? `untagged ${removed.join(', ')}` : `removed ${digest}`);
    }
  },
};
