/** `pwd`: prints the working directory. */
import type { UtilityDefinition } from '../utility.js';
import { fsErrorText } from './common.js';

/** `pwd [-L|-P]`: the logical working directory (`$PWD`), or with `-P` the one with symlinks resolved. */
export const pwd: UtilityDefinition = {
  name: 'pwd',
  synopsis: 'pwd [-L|-P]',
  description: 'Print the working directory (logical by default, -P resolves symlinks).',
  run: async (ctx) => {
    let physical = false;
    for (const a of ctx.args) {
      if (a === '-P') physical = true;
      else if (a === '-L') physical = false;
      else {
        await ctx.error(`invalid option -- '${a.replace(/^-/, '')}'`);
        return 2;
      }
    }
    let dir = ctx.cwd;
    if (physical) {
      try {
        dir = await ctx.fs.realpath(ctx.cwd);
      } catch (err) {
        await ctx.error(fsErrorText(err));
        return 1;
      }
    }
    await ctx.stdout.write(`${dir}\n`);
    return 0;
  },
};
