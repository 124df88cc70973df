/** `printenv`: prints environment variables. */
import type { UtilityDefinition } from '../utility.js';

/** `printenv [NAME]...`: the whole environment, or the values of the names given (status 1 if one is unset). */
export const printenv: UtilityDefinition = {
  name: 'printenv',
  synopsis: 'printenv [NAME]...',
  description: 'Print the environment or the values of the given variables.',
  run: async (ctx) => {
    if (ctx.args.length === 0) {
      await ctx.stdout.write(
        Object.entries(ctx.env)
          .map(([k, v]) => `${k}=${v}\n`)
          .join(''),
      );
      return 0;
    }
    let status = 0;
    for (const name of ctx.args) {
      const v = ctx.env[name];
      if (v === undefined) status = 1;
      else await ctx.stdout.write(`${v}\n`);
    }
    return status;
  },
};
