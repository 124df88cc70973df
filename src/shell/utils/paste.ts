/** `paste`: merges lines of files. */
import type { UtilityDefinition } from '../utility.js';
import { toText } from '../io.js';
import { fsErrorText, lastValue, parseOptions, splitLines, usageError } from './common.js';

/** Expands a `-d` list: `\n`, `\t`, `\\` and `\0` (no delimiter). */
function delimiters(list: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < list.length; i++) {
    const c = list[i] as string;
    if (c === '\\' && i + 1 < list.length) {
      const n = list[++i] as string;
      out.push(n === 'n' ? '\n' : n === 't' ? '\t' : n === '0' ? '' : n);
    } else out.push(c);
  }
  return out.length === 0 ? [''] : out;
}

/**
 * `paste [-s] [-d LIST] [FILE|-]...`: joins line N of every file with tabs (or the `-d`
 * delimiters, used in turn); `-s` joins all the lines of each file instead. Several `-` operands
 * share standard input line by line.
 */
export const paste: UtilityDefinition = {
  name: 'paste',
  synopsis: 'paste [-s] [-d LIST] [FILE|-]...',
  description: 'Merge corresponding lines of files (or, with -s, each file into one line), tab- or -d-separated.',
  run: async (ctx) => {
    const opts = parseOptions(ctx.args, { flags: 's', values: 'd', long: { serial: 's', 'delimiters=': 'd' } });
    if ('error' in opts) return usageError(ctx, opts.error);
    const delims = delimiters(lastValue(opts, 'd') ?? '\t');
    const files = opts.operands.length === 0 ? ['-'] : opts.operands;
    const contents: string[][] = [];
    // Several `-` operands take standard input's lines in turn (`paste - -` makes pairs).
    const dashes = files.filter((f) => f === '-').length;
    let stdinLines: string[] | undefined;
    let dashIndex = 0;
    for (const file of files) {
      try {
        if (file === '-') {
          stdinLines ??= splitLines(await ctx.stdin.readAllText());
          const k = dashIndex++;
          contents.push(stdinLines.filter((_, i) => i % dashes === k));
        } else contents.push(splitLines(toText(await ctx.readInput(file))));
      } catch (err) {
        await ctx.error(`${file}: ${fsErrorText(err)}`);
        return 1;
      }
    }
    const join = (parts: string[]): string =>
      parts.reduce((acc, p, i) => (i === 0 ? p : acc + (delims[(i - 1) % delims.length] as string) + p), '');
    let out = '';
    if (opts.flags.has('s')) {
      for (const lines of contents) out += `${join(lines)}\n`;
    } else {
      const rows = Math.max(0, ...contents.map((c) => c.length));
      for (let r = 0; r < rows; r++) out += `${join(contents.map((c) => c[r] ?? ''))}\n`;
    }
    await ctx.stdout.write(out);
    return 0;
  },
};
