/** Containers: create, containers, rm, diff, commit; and squash. */
import { commitContainer, createContainer, diffContainer, listContainers, loadImage, removeContainer, squashImage } from '../../index.js';
import { stringOption, type Command } from '../command.js';
import { println, style, table, UsageError } from '../output.js';

export const createCommand: Command = {
  name: 'create',
  summary: 'Create a container: a named, persistent writable layer over an image',
  usage: 'REF --name NAME',
  examples: ['layerkit create hello --name work', 'layerkit ls work /etc'],
  options: { name: { type: 'string', value: 'NAME', description: 'the container name (required)' } },
  args: { min: 1, max: 1 },
  async run(ctx, [ref], options) {
    const name = stringOption(options, 'name');
    if (!name) throw new UsageError('create needs --name NAME');
    const info = await createContainer({ store: await ctx.store(), image: ref!, name });
    println(ctx.output, `created ${info.name} from ${ref} (${info.image.slice(0, 19)})`);
  },
};

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
      for (const c of list) println(ctx.output, JSON.stringify({ name: c.name, image: c.image, imageRef: c.imageRef, created: c.created }));
      return;
    }
    for (const line of table([['NAME', 'IMAGE', 'DIGEST', 'CREATED'], ...list.map((c) => [c.name, c.imageRef, c.image.slice(7, 19), c.created.replace(/\.\d+Z$/, 'Z')])])) println(ctx.output, line);
  },
};

export const rmCommand: Command = {
  name: 'rm',
  summary: "Remove containers and their writable layers (their images stay; 'gc' may collect them)",
  usage: 'NAME...',
  examples: ['layerkit rm work'],
  options: {},
  args: { min: 1, max: Number.MAX_SAFE_INTEGER },
  async run(ctx, names) {
    const store = await ctx.store();
    for (const name of names) {
      await removeContainer({ store, name });
      println(ctx.output, `removed ${name}`);
    }
  },
};

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
        const letter = c.kind === 'added' ? style(ctx.output, 'green', 'A') : c.kind === 'deleted' ? style(ctx.output, 'red', 'D') : style(ctx.output, 'yellow', 'C');
        println(ctx.output, `${letter} ${c.path}`);
      }
    }
  },
};

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
    const { image, diffId } = await commitContainer({ store: await ctx.store(), name: name!, tag: ref!, message: stringOption(options, 'message'), author: stringOption(options, 'author') });
    println(ctx.output, `${ref} ${image.descriptor.digest} (new layer ${diffId.slice(0, 19)})`);
  },
};

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
