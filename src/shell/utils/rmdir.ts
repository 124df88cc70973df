/** `rmdir`: removes empty directories. */
import { posix } from 'node:path';
import type { UtilityDefinition } from '../utility.js';
import { fsErrorText, parseOptions, usageError } from './common.js';

/** `rmdir [-p] DIR...`: removes empty directories; `-p` then removes each now-empty parent named in DIR. */
export const rmdir: UtilityDefinition = {
  name: 'rmdir',
  synopsis: 'rmdir [-p] DIR...',
  description: 'Remove empty directories; -p also removes the parents named in the path.',
  run: async (ctx) => {
    const opts = parseOptions(ctx.args, { flags: 'pv', long: { parents: 'p', 'ignore-fail-on-non-empty': 'i' } });
    if ('error' in opts) return usageError(ctx, opts.error);
    if (opts.operands.length === 0) return usageError(ctx, 'missing operand');
    let status = 0;
    for (const dir of opts.operands) {
      let cur = dir.replace(/\/+$/, '') || '/';
      for (;;) {
        try {
          const st = await ctx.fs.lstat(ctx.resolve(cur));
          if (!st.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
          await ctx.fs.rmdir(ctx.resolve(cur));
        } catch (err) {
          if (!opts.flags.has('i') || (err as { code?: string }).code !== 'ENOTEMPTY') {
            await ctx.error(`'${cur}': ${fsErrorText(err)}`);
            status = 1;
          }
          break;
        }
        if (!opts.flags.has('p')) break;
        const parent = posix.dirname(cur);
        if (parent === cur || parent === '.' || parent === '/') break;
        cur = parent;
      }
    }
    return status;
  },
};
