/** `cut`: selects parts of lines. */
import type { UtilityDefinition } from '../utility.js';
import { toText } from '../io.js';
import { fsErrorText, lastValue, parseOptions, splitLines, usageError } from './common.js';

/** Parses a list like `1,3-5,7-` into a membership test (1-based). */
function parseList(list: string): ((n: number) => boolean) | undefined {
  const ranges: [number, number][] = [];
  for (const part of list.split(',')) {
    const m = /^([0-9]*)(-?)([0-9]*)$/.exec(part);
    if (!m || part === '' || part === '-') return undefined;
    const lo = m[1] === '' ? 1 : Number(m[1]);
    const hi = m[2] === '' ? lo : m[3] === '' ? Infinity : Number(m[3]);
    if (lo < 1 || hi < lo) return undefined;
    ranges.push([lo, hi]);
  }
  return (n) => ranges.some(([lo, hi]) => n >= lo && n <= hi);
}

/**
 * `cut -f LIST [-d DELIM] [-s] | -c LIST | -b LIST [FILE|-]...`: fields (tab-separated unless
 * `-d`), characters or bytes. LIST is `N`, `N-M`, `N-`, `-M`, comma-separated. Lines without the
 * delimiter are printed whole unless `-s`.
 */
export const cut: UtilityDefinition = {
  name: 'cut',
  synopsis: 'cut -f LIST [-d DELIM] [-s] | -c LIST | -b LIST [FILE|-]...',
  description: 'Print selected fields (-f, -d), characters (-c) or bytes (-b) of each line.',
  run: async (ctx) => {
    const opts = parseOptions(ctx.args, {
      flags: 'sn',
      values: 'fcbd',
      long: {
        'fields=': 'f',
        'characters=': 'c',
        'bytes=': 'b',
        'delimiter=': 'd',
        'only-delimited': 's',
        'output-delimiter=': 'o',
      },
    });
    if ('error' in opts) return usageError(ctx, opts.error);
    const fields = lastValue(opts, 'f');
    const chars = lastValue(opts, 'c') ?? lastValue(opts, 'b');
    const listText = fields ?? chars;
    if (listText === undefined) return usageError(ctx, 'you must specify a list of bytes, characters, or fields');
    const inList = parseList(listText);
    if (inList === undefined) return usageError(ctx, `invalid list '${listText}'`);
    const delim = lastValue(opts, 'd') ?? '\t';
    if (fields !== undefined && Array.from(delim).length !== 1)
      return usageError(ctx, 'the delimiter must be a single character');
    const outDelim = lastValue(opts, 'o') ?? delim;
    const files = opts.operands.length === 0 ? ['-'] : opts.operands;
    let status = 0;
    for (const file of files) {
      let text: string;
      try {
        text = toText(await ctx.readInput(file));
      } catch (err) {
        await ctx.error(`${file}: ${fsErrorText(err)}`);
        status = 1;
        continue;
      }
      let out = '';
      for (const line of splitLines(text)) {
        if (fields !== undefined) {
          if (!line.includes(delim)) {
            if (!opts.flags.has('s')) out += `${line}\n`;
            continue;
          }
          out += `${line
            .split(delim)
            .filter((_, k) => inList(k + 1))
            .join(outDelim)}\n`;
        } else {
          out += `${Array.from(line)
            .filter((_, k) => inList(k + 1))
            .join('')}\n`;
        }
      }
      await ctx.stdout.write(out);
    }
    return status;
  },
};
