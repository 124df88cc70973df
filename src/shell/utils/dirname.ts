/** `dirname`: the directory part of a path. */
import type { UtilityDefinition } from '../utility.js';
import { dirName } from './basename.js';
import { usageError } from './common.js';

/** `dirname NAME...`. */
export const dirname: UtilityDefinition = {
  name: 'dirname',
  synopsis: 'dirname NAME...',
  description: 'Strip the last component from names.',
  run: async (ctx) => {
    const names = ctx.args[0] === '--' ? ctx.args.slice(1) : ctx.args;
    if (names.length === 0) return usageError(ctx, 'missing operand');
    await ctx.stdout.write(names.map((n) => `${dirName(n)}\n`).join(''));
    return 0;
  },
};
