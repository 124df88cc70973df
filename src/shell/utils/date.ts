/** `date`: prints a date. */
import type { UtilityDefinition } from '../utility.js';
import { lastValue, parseOptions, usageError } from './common.js';
import { currentTime, parseDate, strftime } from './time.js';
import { statOrUndefined } from './tree.js';

/**
 * `date [-u] [-R] [-I[date|seconds]] [-d DATE] [-r FILE] [+FORMAT]`: the time in UTC
 * (the virtual shell has no time zones), which is SOURCE_DATE_EPOCH when the environment sets
 * it, so that builds are reproducible. Setting the clock is refused.
 */
export const date: UtilityDefinition = {
  name: 'date',
  synopsis: 'date [-u] [-R] [-I[date|seconds]] [-d DATE] [-r FILE] [+FORMAT]',
  description: 'Print the date in UTC; honours SOURCE_DATE_EPOCH; -d parses @secs and ISO dates.',
  run: async (ctx) => {
    const args = ctx.args.map((a) =>
      a === '-Iseconds' || a === '-Idate' || a === '-I' ? a.replace('-I', '--iso=') : a,
    );
    const opts = parseOptions(args, {
      flags: 'uR',
      values: 'dr',
      long: { utc: 'u', 'rfc-2822': 'R', 'date=': 'd', 'reference=': 'r', 'iso=': 'I' },
    });
    if ('error' in opts) return usageError(ctx, opts.error);
    let time = currentTime(ctx.env);
    const d = lastValue(opts, 'd');
    const r = lastValue(opts, 'r');
    if (d !== undefined) {
      const v = parseDate(d, time);
      if (v === undefined) {
        await ctx.error(`invalid date '${d}'`);
        return 1;
      }
      time = v;
    } else if (r !== undefined) {
      const st = await statOrUndefined(ctx.fs, ctx.resolve(r));
      if (st === undefined) {
        await ctx.error(`${r}: No such file or directory`);
        return 1;
      }
      time = st.mtimeMs;
    }
    let format = '%a %b %e %H:%M:%S %Z %Y';
    if (opts.flags.has('R')) format = '%a, %d %b %Y %H:%M:%S +0000';
    const iso = lastValue(opts, 'I');
    if (iso !== undefined) format = iso === 'seconds' ? '%Y-%m-%dT%H:%M:%S+00:00' : '%Y-%m-%d';
    for (const op of opts.operands) {
      if (!op.startsWith('+')) return usageError(ctx, `setting the date is not supported: '${op}'`);
      format = op.slice(1);
    }
    await ctx.stdout.write(`${strftime(format, time)}\n`);
    return 0;
  },
};
