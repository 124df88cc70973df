/** `echo`: prints its arguments. */
import type { UtilityDefinition } from '../utility.js';
import { interpretEscapes } from './escapes.js';

/**
 * `echo [-neE] [ARG]...`: arguments joined by spaces plus a newline. `-n` drops the newline,
 * `-e` interprets backslash escapes (`\n`, `\t`, `\0NNN`, `\xHH`, `\c`), `-E` (the default, as
 * in bash and busybox) does not. Only leading arguments made of `n`, `e`, `E` are options.
 */
export const echo: UtilityDefinition = {
  name: 'echo',
  synopsis: 'echo [-n] [-e|-E] [ARG]...',
  description: 'Print the arguments separated by spaces; escapes only with -e (bash/busybox behaviour, not dash).',
  run: async (ctx) => {
    let newline = true;
    let escapes = false;
    let i = 0;
    for (; i < ctx.args.length; i++) {
      const a = ctx.args[i] as string;
      if (!/^-[neE]+$/.test(a)) break;
      for (const c of a.slice(1)) {
        if (c === 'n') newline = false;
        else if (c === 'e') escapes = true;
        else escapes = false;
      }
    }
    const text = ctx.args.slice(i).join(' ');
    if (!escapes) {
      await ctx.stdout.write(newline ? `${text}\n` : text);
      return 0;
    }
    const { bytes, stop } = interpretEscapes(text, 'echo');
    await ctx.stdout.write(bytes);
    if (newline && !stop) await ctx.stdout.write('\n');
    return 0;
  },
};
