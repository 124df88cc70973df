/** `mkdir`: makes directories. */
import { posix } from 'node:path';
import type { UtilityDefinition } from '../utility.js';
import { errorCode, fsErrorText, lastValue, parseOptions, usageError } from './common.js';
import { applyMode } from './mode.js';
import { statOrUndefined } from './tree.js';

/**
 * `mkdir [-p] [-m MODE] [-v] DIR...`: creates each directory with mode `0777 & ~umask` (or
 * MODE, octal or symbolic); `-p` also creates missing parents and accepts existing directories.
 * New directories belong to the running user.
 */
export const mkdir: UtilityDefinition = {
  name: 'mkdir',
  synopsis: 'mkdir [-p] [-m MODE] [-v] DIR...',
  description: 'Create directories; -p creates parents and accepts existing ones, -m sets the mode.',
  run: async (ctx) => {
    const opts = parseOptions(ctx.args, {
      flags: 'pv',
      values: 'm',
      long: { parents: 'p', verbose: 'v', 'mode=': 'm' },
    });
    if ('error' in opts) return usageError(ctx, opts.error);
    if (opts.operands.length === 0) return usageError(ctx, 'missing operand');
    const base = 0o777 & ~ctx.umask;
    const modeSpec = lastValue(opts, 'm');
    let mode = base;
    if (modeSpec !== undefined) {
      const m = applyMode(modeSpec, 0o777, { isDirectory: true, umask: ctx.umask });
      if (m === undefined) return usageError(ctx, `invalid mode '${modeSpec}'`);
      mode = m;
    }
    const parents = opts.flags.has('p');
    let status = 0;
    const make = async (path: string, m: number): Promise<void> => {
      await ctx.fs.mkdir(path, { mode: m });
      await ctx.fs.chmod(path, m);
      await ctx.ownCreated(path);
      if (opts.flags.has('v')) await ctx.stdout.write(`mkdir: created directory '${path}'\n`);
    };
    for (const dir of opts.operands) {
      const abs = ctx.resolve(dir);
      try {
        if (parents) {
          const parts = abs.split('/').filter((p) => p !== '');
          let cur = '/';
          for (const [i, part] of parts.entries()) {
            cur = posix.join(cur, part);
            const st = await statOrUndefined(ctx.fs, cur);
            if (st?.isDirectory()) continue;
            if (st !== undefined) throw Object.assign(new Error('exists'), { code: 'EEXIST' });
            await make(cur, i === parts.length - 1 ? mode : base | 0o300);
          }
        } else {
          await make(abs, mode);
        }
      } catch (err) {
        const code = errorCode(err);
        await ctx.error(`can't create directory '${dir}': ${code === 'EEXIST' ? 'File exists' : fsErrorText(err)}`);
        status = 1;
      }
    }
    return status;
  },
};
