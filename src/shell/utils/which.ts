/** `which`: locates commands. */
import { posix } from 'node:path';
import type { UtilityDefinition } from '../utility.js';

/**
 * `which [-a] NAME...`: the first (`-a`: every) file named NAME in the PATH directories of the
 * filesystem; a built-in utility with no such file prints `/bin/NAME`, the path the virtual
 * shell runs it by. Status 1 when a name is found nowhere.
 */
export const which: UtilityDefinition = {
  name: 'which',
  synopsis: 'which [-a] NAME...',
  description: 'Print where commands are found in PATH; built-in utilities without a file print /bin/NAME.',
  run: async (ctx) => {
    const all = ctx.args.includes('-a');
    const names = ctx.args.filter((a) => a !== '-a');
    let status = 0;
    for (const name of names) {
      const found: string[] = [];
      if (name.includes('/')) {
        try {
          if ((await ctx.fs.stat(ctx.resolve(name))).isFile()) found.push(name);
        } catch {
          // not there
        }
      } else {
        for (const dir of (ctx.env.PATH ?? '').split(':')) {
          if (!dir.startsWith('/')) continue;
          const p = posix.join(dir, name);
          try {
            if ((await ctx.fs.stat(p)).isFile()) found.push(p);
          } catch {
            continue;
          }
          if (!all) break;
        }
        if (found.length === 0 && ctx.hasUtility(name)) found.push(`/bin/${name}`);
      }
      if (found.length === 0) status = 1;
      else await ctx.stdout.write(found.map((p) => `${p}\n`).join(''));
    }
    return status;
  },
};
