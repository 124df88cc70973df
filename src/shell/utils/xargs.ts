/** `xargs`: builds command lines from standard input. */
import { InputStream } from '../io.js';
import type { UtilityDefinition } from '../utility.js';
import { lastValue, parseOptions, usageError } from './common.js';

/** Splits xargs input into arguments: blanks and newlines separate, quotes and backslashes group. */
function splitArgs(text: string): string[] | string {
  const out: string[] = [];
  let cur = '';
  let has = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0 || text.slice(i + 1, end).includes('\n')) return `unmatched ${c === "'" ? 'single' : 'double'} quote`;
      cur += text.slice(i + 1, end);
      has = true;
      i = end;
    } else if (c === '\\' && i + 1 < text.length) {
      cur += text[++i];
      has = true;
    } else if (c === ' ' || c === '\t' || c === '\n') {
      if (has) out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += c;
      has = true;
    }
  }
  if (has) out.push(cur);
  return out;
}

/**
 * `xargs [-0] [-d DELIM] [-n N] [-I REPLACE] [-r] [-t] [COMMAND [ARG]...]`: runs COMMAND (default
 * `echo`; a utility or script, never a shell function) with arguments read from standard input,
 * all at once or `-n N` at a time; `-I` runs once per line replacing REPLACE in the arguments.
 * Status 123 when a run fails, 127/126 when COMMAND cannot run.
 */
export const xargs: UtilityDefinition = {
  name: 'xargs',
  synopsis: 'xargs [-0] [-d DELIM] [-n N] [-I REPLACE] [-r] [-t] [COMMAND [ARG]...]',
  description: 'Run a command with arguments read from standard input; -n batches, -I replaces, -0 NUL-separated.',
  run: async (ctx) => {
    const opts = parseOptions(ctx.args, {
      flags: '0rtx',
      values: 'nIdLsiP',
      stopAtOperand: true,
      long: { null: '0', 'no-run-if-empty': 'r', verbose: 't', 'max-args=': 'n', 'replace=': 'I', 'delimiter=': 'd' },
    });
    if ('error' in opts) return usageError(ctx, opts.error);
    const command = opts.operands.length > 0 ? opts.operands : ['echo'];
    const text = await ctx.stdin.readAllText();
    const replace = lastValue(opts, 'I') ?? lastValue(opts, 'i');
    const delim = opts.flags.has('0') ? '\0' : lastValue(opts, 'd');
    let items: string[];
    if (replace !== undefined)
      items = text
        .split('\n')
        .map((l) => l.replace(/^[ \t]+/, ''))
        .filter((l) => l !== '');
    else if (delim !== undefined) {
      const d = delim === '\\n' ? '\n' : delim === '\\t' ? '\t' : delim;
      items = text.split(d);
      if (items[items.length - 1] === '' || (d !== '\n' && items[items.length - 1] === '\n')) items.pop();
    } else {
      const s = splitArgs(text);
      if (typeof s === 'string') {
        await ctx.error(s);
        return 1;
      }
      items = s;
    }
    const nText = lastValue(opts, 'n') ?? lastValue(opts, 'L');
    const n = nText === undefined ? Infinity : Number(nText);
    if (!(n >= 1)) return usageError(ctx, `invalid number '${nText ?? ''}'`);
    const batches: string[][] = [];
    if (replace !== undefined) {
      for (const item of items) batches.push(command.map((a) => a.split(replace).join(item)));
    } else {
      for (let i = 0; i < items.length; i += n === Infinity ? Math.max(1, items.length) : n) {
        batches.push([...command, ...items.slice(i, n === Infinity ? undefined : i + n)]);
      }
      if (batches.length === 0 && !opts.flags.has('r')) batches.push([...command]);
    }
    let status = 0;
    for (const argv of batches) {
      if (opts.flags.has('t')) await ctx.stderr.write(`${argv.join(' ')}\n`);
      const s = await ctx.exec(argv, { stdin: InputStream.empty() });
      if (s === 126 || s === 127) return s;
      if (s === 255) {
        await ctx.error(`${argv[0] ?? ''}: exited with status 255; aborting`);
        return 124;
      }
      if (s !== 0) status = 123;
    }
    return status;
  },
};
