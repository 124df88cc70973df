/** `ln`: makes links. */
import { posix } from 'node:path';
import type { UtilityDefinition } from '../utility.js';
import { fsErrorText, parseOptions, usageError } from './common.js';
import { lstatOrUndefined, statOrUndefined } from './tree.js';

/**
 * `ln [-sfnvT] TARGET... LINK|DIR`: hard links, or symlinks with `-s` (the target is stored as
 * written). `-f` replaces an existing link name, `-n` does not descend into a symlink to a
 * directory given as LINK, `-T` always treats LINK as the link name. With one operand the link
 * is made in the working directory.
 */
export const ln: UtilityDefinition = {
  name: 'ln',
  synopsis: 'ln [-s] [-f] [-n] [-v] [-T] TARGET... LINK|DIR',
  description: 'Make hard links, or symbolic links with -s; -f replaces, -n/-T treat LINK as a name.',
  run: async (ctx) => {
    const opts = parseOptions(ctx.args, {
      flags: 'sfnvTLP',
      long: { symbolic: 's', force: 'f', 'no-dereference': 'n', verbose: 'v', 'no-target-directory': 'T' },
    });
    if ('error' in opts) return usageError(ctx, opts.error);
    const f = opts.flags;
    if (opts.operands.length === 0) return usageError(ctx, 'missing file operand');
    const operands = opts.operands.length === 1 ? [opts.operands[0] as string, '.'] : opts.operands;
    const dest = operands[operands.length - 1] as string;
    const targets = operands.slice(0, -1);
    const destAbs = ctx.resolve(dest);
    let destIsDir = false;
    if (!f.has('T')) {
      const l = await lstatOrUndefined(ctx.fs, destAbs);
      if (l?.isDirectory()) destIsDir = true;
      else if (l?.isSymbolicLink() && !f.has('n'))
        destIsDir = (await statOrUndefined(ctx.fs, destAbs))?.isDirectory() === true;
    }
    // Into a directory reached through a symlink: make the links in the real directory.
    const destDir = destIsDir ? await ctx.fs.realpath(destAbs).catch(() => destAbs) : destAbs;
    if (targets.length > 1 && !destIsDir) {
      await ctx.error(`target '${dest}' is not a directory`);
      return 1;
    }
    let status = 0;
    for (const target of targets) {
      const linkAbs = destIsDir ? posix.join(destDir, posix.basename(target.replace(/\/+$/, ''))) : destAbs;
      const shown = destIsDir ? posix.join(dest, posix.basename(target)) : dest;
      try {
        const existing = await lstatOrUndefined(ctx.fs, linkAbs);
        if (existing !== undefined) {
          if (!f.has('f')) {
            await ctx.error(`${shown}: File exists`);
            status = 1;
            continue;
          }
          if (existing.isDirectory()) {
            await ctx.error(`${shown}: cannot overwrite directory`);
            status = 1;
            continue;
          }
          await ctx.fs.unlink(linkAbs);
        }
        if (f.has('s')) {
          await ctx.fs.symlink(target, linkAbs);
          await ctx.ownCreated(linkAbs, { symlink: true });
        } else {
          const st = await ctx.fs.stat(ctx.resolve(target));
          if (st.isDirectory()) {
            await ctx.error(`${target}: hard link not allowed for directory`);
            status = 1;
            continue;
          }
          await ctx.fs.link(ctx.resolve(target), linkAbs);
        }
        if (f.has('v')) await ctx.stdout.write(`'${shown}' -> '${target}'\n`);
      } catch (err) {
        await ctx.error(`${f.has('s') ? shown : target}: ${fsErrorText(err)}`);
        status = 1;
      }
    }
    return status;
  },
};
