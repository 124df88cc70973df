/** `cat`: concatenates files. */
import type { UtilityDefinition } from '../utility.js';
import { fsErrorText, parseOptions, usageError } from './common.js';

/**
 * `cat [-nb] [FILE|-]...`: copies each file (or standard input for `-` or no operand) to
 * standard output. `-n` numbers every line, `-b` only non-empty ones (`%6d<TAB>`).
 */
export const cat: UtilityDefinition = {
  name: 'cat',
  synopsis: 'cat [-n|-b] [FILE|-]...',
  description: 'Concatenate files or standard input; -n numbers lines, -b numbers non-empty lines.',
  run: async (ctx) => {
    const opts = parseOptions(ctx.args, { flags: 'nbuvetA', long: { number: 'n', 'number-nonblank': 'b' } });
    if ('error' in opts) return usageError(ctx, opts.error);
    const number = opts.flags.has('n') || opts.flags.has('b');
    const nonblank = opts.flags.has('b');
    const operands = opts.operands.length === 0 ? ['-'] : opts.operands;
    let status = 0;
    let lineNo = 0;
    let atLineStart = true;
    for (const file of operands) {
      if (file === '-' && !number) {
        for (let c = await ctx.stdin.read(); c !== null; c = await ctx.stdin.read()) await ctx.stdout.write(c);
        continue;
      }
      let data: Uint8Array;
      try {
        data = await ctx.readInput(file);
      } catch (err) {
        await ctx.error(`can't open '${file}': ${fsErrorText(err)}`);
        status = 1;
        continue;
      }
      if (!number) {
        await ctx.stdout.write(data);
        continue;
      }
      const out: (Uint8Array | string)[] = [];
      let start = 0;
      while (start < data.length) {
        const nl = data.indexOf(10, start);
        const end = nl < 0 ? data.length : nl + 1;
        const line = data.subarray(start, end);
        if (atLineStart && !(nonblank && line[0] === 10)) out.push(`${String(++lineNo).padStart(6)}\t`);
        out.push(line);
        atLineStart = nl >= 0;
        start = end;
      }
      for (const o of out) await ctx.stdout.write(o);
    }
    return status;
  },
};
