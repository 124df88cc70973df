/** `touch`: creates files and sets their times. */
import type { UtilityDefinition } from '../utility.js';
import { fsErrorText, lastValue, parseOptions, usageError } from './common.js';
import { currentTime, parseDate, parseTouchStamp } from './time.js';
import { statOrUndefined } from './tree.js';

/**
 * `touch [-c] [-am] [-d DATE|-t STAMP|-r REF] FILE...`: creates missing files (mode
 * `0666 & ~umask`, owned by the running user) and sets the modification time to now
 * (SOURCE_DATE_EPOCH when set), to DATE (`@secs`, `YYYY-MM-DD[ HH:MM[:SS]]`), STAMP
 * (`[[CC]YY]MMDDhhmm[.ss]`) or REF's time. `-c` does not create.
 */
export const touch: UtilityDefinition = {
  name: 'touch',
  synopsis: 'touch [-c] [-a] [-m] [-d DATE | -t STAMP | -r REF] FILE...',
  description: 'Create files or update their times; -c does not create, -d/-t/-r set the time.',
  run: async (ctx) => {
    const opts = parseOptions(ctx.args, {
      flags: 'camfh',
      values: 'dtr',
      long: { 'no-create': 'c', 'date=': 'd', 'reference=': 'r' },
    });
    if ('error' in opts) return usageError(ctx, opts.error);
    if (opts.operands.length === 0) return usageError(ctx, 'missing file operand');
    let time = currentTime(ctx.env);
    const d = lastValue(opts, 'd');
    const t = lastValue(opts, 't');
    const r = lastValue(opts, 'r');
    if (d !== undefined) {
      const v = parseDate(d, time);
      if (v === undefined) return usageError(ctx, `invalid date '${d}'`);
      time = v;
    } else if (t !== undefined) {
      const v = parseTouchStamp(t);
      if (v === undefined) return usageError(ctx, `invalid date format '${t}'`);
      time = v;
    } else if (r !== undefined) {
      const st = await statOrUndefined(ctx.fs, ctx.resolve(r));
      if (st === undefined) {
        await ctx.error(`${r}: No such file or directory`);
        return 1;
      }
      time = st.mtimeMs;
    }
    let status = 0;
    for (const file of opts.operands) {
      const abs = ctx.resolve(file);
      try {
        const st = await statOrUndefined(ctx.fs, abs);
        if (st === undefined) {
          if (opts.flags.has('c')) continue;
          const mode = 0o666 & ~ctx.umask;
          await ctx.fs.writeFile(abs, '', { mode, flag: 'a' });
          await ctx.fs.chmod(abs, mode);
          await ctx.ownCreated(abs);
        }
        await ctx.fs.utimes(abs, time / 1000, time / 1000);
      } catch (err) {
        await ctx.error(`${file}: ${fsErrorText(err)}`);
        status = 1;
      }
    }
    return status;
  },
};
