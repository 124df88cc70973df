/** `hostname`: the host name. */
import type { UtilityDefinition } from '../utility.js';

/**
 * `hostname`: `$HOSTNAME` when set, else the host name the command was given (a RUN's is
 * `buildkitsandbox`, as BuildKit's UTS namespace), else `/etc/hostname` of the filesystem, else
 * `buildkitsandbox`. Setting it is refused.
 */
export const hostname: UtilityDefinition = {
  name: 'hostname',
  synopsis: 'hostname',
  description: 'Print the host name ($HOSTNAME, /etc/hostname, else buildkitsandbox).',
  run: async (ctx) => {
    if (ctx.args.some((a) => !a.startsWith('-'))) {
      await ctx.error('setting the host name is not supported');
      return 1;
    }
    let name = ctx.env.HOSTNAME || ctx.hostname;
    if (name === undefined || name === '') {
      try {
        name = (await ctx.fs.readFile('/etc/hostname', 'utf8')).trim();
      } catch {
        name = '';
      }
    }
    await ctx.stdout.write(`${name === '' ? 'buildkitsandbox' : name}\n`);
    return 0;
  },
};
