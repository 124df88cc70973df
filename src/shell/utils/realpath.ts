/** `realpath`: canonical absolute paths. */
import type { UtilityDefinition } from '../utility.js';
import { fsErrorText } from './common.js';
import { canonical, physical } from './readlink.js';

/** `realpath [-e|-m] [-s] FILE...`: canonical absolute paths (`-s`: without resolving symlinks). */
export const realpath: UtilityDefinition = {
  name: 'realpath',
  synopsis: 'realpath [-e|-m] [-s] FILE...',
  description: 'Print canonical absolute paths.',
  run: async (ctx) => {
    const flags = new Set<string>();
    const files: string[] = [];
    for (const a of ctx.args) {
      if (/^-[emsqz]+$/.test(a)) for (const c of a.slice(1)) flags.add(c);
      else files.push(a);
    }
    let status = 0;
    for (const file of files) {
      const abs = physical(ctx, file);
      try {
        const out = flags.has('s')
          ? ctx.resolve(file)
          : flags.has('e')
            ? await ctx.fs.realpath(abs)
            : await canonical(ctx, abs, true);
        await ctx.stdout.write(`${out}\n`);
      } catch (err) {
        await ctx.error(`${file}: ${fsErrorText(err)}`);
        status = 1;
      }
    }
    return status;
  },
};
