/** `env`: prints the environment or runs a command with a changed one. */
import type { UtilityDefinition } from '../utility.js';
import { usageError } from './common.js';

/**
 * `env [-i] [-u NAME]... [NAME=VALUE]... [COMMAND [ARG]...]`: prints the environment, or runs
 * COMMAND (a utility or script, never a shell function) with a changed one. `-i`/`-` starts
 * empty. Exit status is COMMAND's, 127 when it is not found.
 */
export const env: UtilityDefinition = {
  name: 'env',
  synopsis: 'env [-i] [-u NAME]... [NAME=VALUE]... [COMMAND [ARG]...]',
  description: 'Print the environment or run a command with a modified one; -i empties it, -u removes a name.',
  run: async (ctx) => {
    const vars: Record<string, string> = { ...ctx.env };
    const args = [...ctx.args];
    while (args.length > 0) {
      const a = args[0] as string;
      if (a === '-i' || a === '-' || a === '--ignore-environment') {
        for (const k of Object.keys(vars)) delete vars[k];
        args.shift();
      } else if (a === '-u' || a === '--unset') {
        const name = args[1];
        if (name === undefined) return usageError(ctx, "option requires an argument -- 'u'");
        delete vars[name];
        args.splice(0, 2);
      } else if (/^-u./.test(a)) {
        delete vars[a.slice(2)];
        args.shift();
      } else if (a === '--') {
        args.shift();
        break;
      } else if (a.startsWith('-') && a.length > 1) {
        return usageError(ctx, `invalid option -- '${a.slice(1)}'`);
      } else break;
    }
    while (args.length > 0 && /^[^=]+=/.test(args[0] as string)) {
      const a = args.shift() as string;
      const eq = a.indexOf('=');
      vars[a.slice(0, eq)] = a.slice(eq + 1);
    }
    if (args.length === 0) {
      await ctx.stdout.write(
        Object.entries(vars)
          .map(([k, v]) => `${k}=${v}\n`)
          .join(''),
      );
      return 0;
    }
    return ctx.exec(args, { env: vars });
  },
};
