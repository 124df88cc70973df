/** `wc`: counts lines, words and bytes. */
import type { UtilityDefinition } from '../utility.js';
import { fsErrorText, parseOptions, usageError } from './common.js';

function count(data: Uint8Array): { l: number; w: number; c: number; m: number } {
  let l = 0;
  let w = 0;
  let inWord = false;
  for (const b of data) {
    if (b === 10) l++;
    const space = b === 32 || (b >= 9 && b <= 13);
    if (space) inWord = false;
    else if (!inWord) {
      inWord = true;
      w++;
    }
  }
  const m = Buffer.from(data).toString('utf8').length;
  return { l, w, c: data.length, m };
}

/**
 * `wc [-lwcm] [FILE|-]...`: newline, word and byte (or `-m` character) counts, then a `total`
 * line for several files. Busybox layout: a single count of a single input is printed bare,
 * otherwise each count is right-aligned in 9 columns.
 */
export const wc: UtilityDefinition = {
  name: 'wc',
  synopsis: 'wc [-l] [-w] [-c] [-m] [FILE|-]...',
  description: 'Count lines, words, bytes (-m characters); several files add a total line.',
  run: async (ctx) => {
    const opts = parseOptions(ctx.args, { flags: 'lwcmL', long: { lines: 'l', words: 'w', bytes: 'c', chars: 'm' } });
    if ('error' in opts) return usageError(ctx, opts.error);
    let cols = (['l', 'w', 'm', 'c'] as const).filter((k) => opts.flags.has(k));
    if (cols.length === 0) cols = ['l', 'w', 'c'];
    const files = opts.operands.length === 0 ? [undefined] : opts.operands;
    const bare = cols.length === 1 && files.length === 1;
    const total = { l: 0, w: 0, c: 0, m: 0 };
    let status = 0;
    const line = (counts: typeof total, name: string | undefined): string => {
      const nums = cols.map((k) => (bare ? String(counts[k]) : String(counts[k]).padStart(9)));
      return `${nums.join(' ') + (name === undefined ? '' : ` ${name}`)}\n`;
    };
    for (const file of files) {
      let data: Uint8Array;
      try {
        data = await ctx.readInput(file ?? '-');
      } catch (err) {
        await ctx.error(`can't open '${file ?? '-'}': ${fsErrorText(err)}`);
        status = 1;
        continue;
      }
      const c = count(data);
      for (const k of ['l', 'w', 'c', 'm'] as const) total[k] += c[k];
      await ctx.stdout.write(line(c, file));
    }
    if (files.length > 1) await ctx.stdout.write(line(total, 'total'));
    return status;
  },
};
