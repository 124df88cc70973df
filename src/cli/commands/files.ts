/** Looking inside images: ls, cat, unpack. */
import { flattenImage, listFlat, readFlatFile, type ListedEntry } from '../../image/listing.js';
import { hasContainer, openContainer } from '../../container/containers.js';
import { loadImage } from '../../image/image.js';
import { unpackRootfs } from '../../image/unpack.js';
import { listView } from '../../container/list-view.js';
import { mountImage } from '../../registry/lazy-mount.js';
import type { Command, CommandContext } from '../command.js';
import { println } from '../output.js';
import { CONNECTION_OPTIONS, connection, registryOf } from './registry-options.js';

async function flatOf(ctx: CommandContext, ref: string) {
  const store = await ctx.store();
  const image = await loadImage({ store, image: ref });
  return flattenImage({ store, image, signal: ctx.signal });
}

const TYPE_CHAR: Record<ListedEntry['type'], string> = {
  file: '-',
  directory: 'd',
  symlink: 'l',
  hardlink: 'h',
  char: 'c',
  block: 'b',
  fifo: 'p',
};

/** `drwxr-xr-x` from a type and permission bits. */
export function modeString(type: ListedEntry['type'], mode: number): string {
  const rwx = (bits: number, special: boolean, ch: string) =>
    `${bits & 4 ? 'r' : '-'}${bits & 2 ? 'w' : '-'}${special ? (bits & 1 ? ch : ch.toUpperCase()) : bits & 1 ? 'x' : '-'}`;
  return (
    TYPE_CHAR[type] +
    rwx(mode >> 6, (mode & 0o4000) !== 0, 's') +
    rwx(mode >> 3, (mode & 0o2000) !== 0, 's') +
    rwx(mode, (mode & 0o1000) !== 0, 't')
  );
}

/** `layerkit ls`: its summary, usage, options and examples are the help text below. */
export const lsCommand: Command = {
  name: 'ls',
  summary: 'List files of an image (its flattened tree) or of a container',
  usage: '[-R] [--json] REF|CONTAINER [PATH]',
  description:
    'With --json, one object per line: {"path","type","mode","uid","gid","size","sha256"} (linkTarget for links; mode is the permission bits as a number).',
  examples: ['layerkit ls busybox /bin', 'layerkit ls -R --json app:1 | jq -r .path'],
  options: {
    recursive: { type: 'boolean', short: 'R', description: 'list the whole subtree' },
    json: { type: 'boolean', description: 'one JSON object per line' },
  },
  args: { min: 1, max: 2 },
  async run(ctx, [ref, path], options) {
    const store = await ctx.store();
    const recursive = options.recursive === true;
    const entries = hasContainer({ store, name: ref! })
      ? listView(await openContainer({ store, name: ref!, readOnly: true }), { path: path ?? '/', recursive })
      : listFlat(await flatOf(ctx, ref!), { path: path ?? '/', recursive });
    for (const e of entries) {
      if (options.json) {
        const { mtime: _mtime, ...rest } = e;
        println(ctx.output, JSON.stringify(rest));
      } else {
        const link = e.linkTarget !== undefined ? ` -> ${e.linkTarget}` : '';
        println(
          ctx.output,
          `${modeString(e.type, e.mode)} ${`${e.uid}/${e.gid}`.padEnd(11)} ${String(e.size).padStart(10)} ${e.path}${link}`,
        );
      }
    }
  },
};

/** `layerkit cat`: its summary, usage, options and examples are the help text below. */
export const catCommand: Command = {
  name: 'cat',
  summary: 'Print a file of an image or container (symlinks followed inside it)',
  usage: '[--lazy] REF|CONTAINER PATH',
  description:
    'With --lazy, REF is an image on a registry, mounted lazily: for eStargz layers only the footer, the TOC and the chunks of PATH are fetched (verified); for uncompressed layers the tar headers and the bytes of PATH (trusting the transport: only the whole blob has a digest); other layers are pulled whole into the store.',
  examples: [
    'layerkit cat busybox /etc/passwd',
    'layerkit cat work /etc/motd',
    'layerkit cat --lazy registry.example/app:1 /etc/os-release',
  ],
  options: {
    lazy: { type: 'boolean', description: 'read REF from its registry by Range requests, without pulling it' },
    ...CONNECTION_OPTIONS,
  },
  args: { min: 2, max: 2 },
  async run(ctx, [ref, path], options) {
    const store = await ctx.store();
    if (options.lazy === true) {
      const fs = await mountImage({
        store,
        image: ref!,
        lazy: true,
        ...connection(options, () => registryOf(ref!)),
        signal: ctx.signal,
      });
      try {
        ctx.output.out.write(await fs.readFile(path!));
      } finally {
        await fs.close();
      }
      return;
    }
    if (hasContainer({ store, name: ref! }))
      ctx.output.out.write((await openContainer({ store, name: ref!, readOnly: true })).readFileSync(path!));
    else ctx.output.out.write(readFlatFile(await flatOf(ctx, ref!), path!));
  },
};

/** `layerkit unpack`: its summary, usage, options and examples are the help text below. */
export const unpackCommand: Command = {
  name: 'unpack',
  summary: 'Unpack the flattened image into a new or empty folder (owners kept when run as root)',
  usage: 'REF DIR',
  examples: ['sudo layerkit unpack busybox ./rootfs'],
  options: {},
  args: { min: 2, max: 2 },
  async run(ctx, [ref, dir]) {
    const flat = await flatOf(ctx, ref!);
    const report = unpackRootfs({ flat, dir: dir!, signal: ctx.signal });
    for (const w of report.warnings) ctx.output.err.write(`warning: ${w}\n`);
    println(ctx.output, `unpacked ${report.entries} entries into ${dir}`);
  },
};
