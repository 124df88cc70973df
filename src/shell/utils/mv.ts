/** `mv`: moves and renames. */
import { posix } from 'node:path';
import type { UtilityDefinition } from '../utility.js';
import { errorCode, fsErrorText, parseOptions, usageError } from './common.js';
import { copyEntry } from './cp.js';
import { lstatOrUndefined, statOrUndefined } from './tree.js';

/**
 * `mv [-fnvT] SOURCE... DEST`: renames, or moves into DEST when it is a directory (across
 * directories too; a rename the filesystem refuses with EXDEV becomes copy-and-delete). `-n`
 * never overwrites; a directory never replaces a file or the reverse.
 */
export const mv: UtilityDefinition = {
  name: 'mv',
  synopsis: 'mv [-f] [-n] [-v] [-T] SOURCE... DEST',
  description: 'Move or rename files and directories; -n never overwrites.',
  run: async (ctx) => {
    const opts = parseOptions(ctx.args, {
      flags: 'fnivT',
      long: { force: 'f', 'no-clobber': 'n', verbose: 'v', 'no-target-directory': 'T' },
    });
    if ('error' in opts) return usageError(ctx, opts.error);
    if (opts.operands.length < 2) return usageError(ctx, 'missing destination file operand');
    const dest = opts.operands[opts.operands.length - 1] as string;
    const sources = opts.operands.slice(0, -1);
    const destAbs = ctx.resolve(dest);
    const destIsDir = !opts.flags.has('T') && (await statOrUndefined(ctx.fs, destAbs))?.isDirectory() === true;
    if (sources.length > 1 && !destIsDir) {
      await ctx.error(`target '${dest}' is not a directory`);
      return 1;
    }
    let status = 0;
    for (const src of sources) {
      const srcAbs = ctx.resolve(src);
      const target = destIsDir ? posix.join(destAbs, posix.basename(srcAbs)) : destAbs;
      const st = await lstatOrUndefined(ctx.fs, srcAbs);
      if (st === undefined) {
        await ctx.error(`can't stat '${src}': No such file or directory`);
        status = 1;
        continue;
      }
      if (target === srcAbs) continue;
      if (st.isDirectory() && target.startsWith(`${srcAbs}/`)) {
        await ctx.error(`cannot move '${src}' to a subdirectory of itself, '${dest}'`);
        status = 1;
        continue;
      }
      const existing = await lstatOrUndefined(ctx.fs, target);
      if (existing !== undefined) {
        if (opts.flags.has('n')) continue;
        if (existing.isDirectory() && !st.isDirectory()) {
          await ctx.error(`cannot overwrite directory '${target}' with non-directory`);
          status = 1;
          continue;
        }
        if (!existing.isDirectory() && st.isDirectory()) {
          await ctx.error(`cannot overwrite non-directory '${target}' with directory '${src}'`);
          status = 1;
          continue;
        }
      }
      try {
        if (existing !== undefined && !existing.isDirectory()) await ctx.fs.unlink(target);
        await ctx.fs.rename(srcAbs, target);
      } catch (err) {
        if (errorCode(err) === 'EXDEV') {
          const ok = await copyEntry(ctx, srcAbs, target, {
            recursive: true,
            preserve: true,
            noDeref: true,
            noClobber: false,
            force: true,
            verbose: false,
          });
          if (ok) await ctx.fs.rm(srcAbs, { recursive: true, force: true });
          else status = 1;
          continue;
        }
        await ctx.error(`can't rename '${src}': ${fsErrorText(err)}`);
        status = 1;
        continue;
      }
      if (opts.flags.has('v')) await ctx.stdout.write(`renamed '${src}' -> '${target}'\n`);
    }
    return status;
  },
};
