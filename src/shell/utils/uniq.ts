/** `uniq`: collapses adjacent repeated lines. */
import type { UtilityDefinition } from '../utility.js';
import { toText } from '../io.js';
import { fsErrorText, lastValue, parseOptions, splitLines, usageError } from './common.js';

/**
 * `uniq [-c] [-d|-u] [-i] [-f N] [-s N] [INPUT [OUTPUT]]`: one line per run of equal adjacent
 * lines; `-c` prefixes counts (`%7d `), `-d` only repeated runs, `-u` only single lines, `-i`
 * ignores case, `-f`/`-s` skip fields/characters when comparing.
 */
export const uniq: UtilityDefinition = {
  name: 'uniq',
  synopsis: 'uniq [-c] [-d|-u] [-i] [-f N] [-s N] [INPUT [OUTPUT]]',
  description: 'Collapse adjacent equal lines; -c counts, -d repeated only, -u unique only.',
  run: async (ctx) => {
    const opts = parseOptions(ctx.args, {
      flags: 'cdui',
      values: 'fsw',
      long: { count: 'c', repeated: 'd', unique: 'u', 'ignore-case': 'i' },
    });
    if ('error' in opts) return usageError(ctx, opts.error);
    const [input, output] = opts.operands;
    let text: string;
    try {
      text = toText(await ctx.readInput(input ?? '-'));
    } catch (err) {
      await ctx.error(`${input ?? '-'}: ${fsErrorText(err)}`);
      return 1;
    }
    const skipFields = Number(lastValue(opts, 'f') ?? 0);
    const skipChars = Number(lastValue(opts, 's') ?? 0);
    const key = (line: string): string => {
      let s = line;
      for (let k = 0; k < skipFields; k++) s = s.replace(/^[ \t]*[^ \t]*/, '');
      s = s.slice(skipChars);
      return opts.flags.has('i') ? s.toLowerCase() : s;
    };
    let out = '';
    const lines = splitLines(text);
    for (let i = 0; i < lines.length; ) {
      let j = i + 1;
      while (j < lines.length && key(lines[j] as string) === key(lines[i] as string)) j++;
      const n = j - i;
      const show = (!opts.flags.has('d') || n > 1) && (!opts.flags.has('u') || n === 1);
      if (show) out += `${(opts.flags.has('c') ? `${String(n).padStart(7)} ` : '') + lines[i]}\n`;
      i = j;
    }
    if (output !== undefined) {
      const w = await ctx.openOutput(output, { append: false });
      await w.write(out);
    } else {
      await ctx.stdout.write(out);
    }
    return 0;
  },
};
