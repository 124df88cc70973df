/** `rm`: removes files and directories. */
import { posix } from 'node:path';
import type { UtilityDefinition } from '../utility.js';
import { fsErrorText, parseOptions, usageError } from './common.js';

/**
 * `rm [-rRf] [-iv] FILE...`: removes files and symlinks (never their targets); `-r`/`-R`
 * removes directories with their contents; `-f` ignores missing files and never fails for
 * them. Refuses `/`, `.` and `..` like GNU rm.
 */
export const rm: UtilityDefinition = {
  name: 'rm',
  synopsis: 'rm [-r|-R] [-f] [-v] FILE...',
  description: 'Remove files; -r removes directories recursively, -f ignores missing files.',
  run: async (ctx) => {
    const opts = parseOptions(ctx.args, {
      flags: 'rRfivd',
      long: { recursive: 'r', force: 'f', verbose: 'v', dir: 'd', 'no-preserve-root': 'N' },
    });
    if ('error' in opts) return usageError(ctx, opts.error);
    const recursive = opts.flags.has('r') || opts.flags.has('R');
    const force = opts.flags.has('f');
    if (opts.operands.length === 0 && !force) return usageError(ctx, 'missing operand');
    let status = 0;
    for (const file of opts.operands) {
      const abs = ctx.resolve(file);
      const base = posix.basename(file.replace(/\/+$/, ''));
      if (base === '.' || base === '..') {
        await ctx.error(`refusing to remove '.' or '..' directory: skipping '${file}'`);
        status = 1;
        continue;
      }
      if (abs === '/' && recursive && !opts.flags.has('N')) {
        await ctx.error("it is dangerous to operate recursively on '/'");
        status = 1;
        continue;
      }
      try {
        const st = await ctx.fs.lstat(abs);
        if (st.isDirectory()) {
          if (recursive) await ctx.fs.rm(abs, { recursive: true, force: true });
          else if (opts.flags.has('d')) await ctx.fs.rmdir(abs);
          else {
            await ctx.error(`can't remove '${file}': Is a directory`);
            status = 1;
            continue;
          }
        } else {
          await ctx.fs.unlink(abs);
        }
        if (opts.flags.has('v')) await ctx.stdout.write(`removed '${file}'\n`);
      } catch (err) {
        if (force && (err as { code?: string }).code === 'ENOENT') continue;
        await ctx.error(`can't remove '${file}': ${fsErrorText(err)}`);
        status = 1;
      }
    }
    return status;
  },
};
