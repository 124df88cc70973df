/** `tail`: the last lines or bytes of files. */
import type { UtilityDefinition } from '../utility.js';
import { fsErrorText, parseOptions, usageError } from './common.js';
import { countRequest } from './head.js';

function lastLines(data: Uint8Array, n: number): Uint8Array {
  if (n === 0) return new Uint8Array(0);
  let end = data.length;
  if (end > 0 && data[end - 1] === 10) end--;
  let count = 0;
  for (let i = end - 1; i >= 0; i--) {
    if (data[i] === 10 && ++count === n) return data.subarray(i + 1);
  }
  return data;
}

function fromLine(data: Uint8Array, n: number): Uint8Array {
  let line = 1;
  let i = 0;
  while (line < n && i < data.length) if (data[i++] === 10) line++;
  return data.subarray(i);
}

/**
 * `tail [-n [+]N|-N] [-c [+]N] [-qv] [FILE|-]...`: the last N lines (default 10) or bytes;
 * `+N` starts at line (byte) N. `-f` is refused: the virtual shell has nothing to follow.
 */
export const tail: UtilityDefinition = {
  name: 'tail',
  synopsis: 'tail [-n [+]N | -N] [-c [+]N] [-q|-v] [FILE|-]...',
  description: 'Print the last lines (default 10) or bytes of each input; +N starts from line or byte N.',
  run: async (ctx) => {
    const args = ctx.args.map((a, i) => (i === 0 && /^\+[0-9]+$/.test(a) ? `-n${a}` : a));
    const opts = parseOptions(args, {
      flags: 'qvf',
      values: 'nc',
      numeric: 'n',
      long: { 'lines=': 'n', 'bytes=': 'c', quiet: 'q', verbose: 'v' },
    });
    if ('error' in opts) return usageError(ctx, opts.error);
    if (opts.flags.has('f'))
      return usageError(ctx, '-f is not supported: nothing can append to a file while the virtual shell waits');
    const req = countRequest(opts);
    if ('error' in req) return usageError(ctx, req.error);
    const { byBytes, count, files, headers } = req;
    const fromStart = req.raw.startsWith('+');
    let status = 0;
    for (const [i, file] of files.entries()) {
      let data: Uint8Array;
      try {
        data = await ctx.readInput(file);
      } catch (err) {
        await ctx.error(`can't open '${file}': ${fsErrorText(err)}`);
        status = 1;
        continue;
      }
      let out: Uint8Array;
      if (byBytes)
        out = fromStart ? data.subarray(Math.max(0, count - 1)) : data.subarray(Math.max(0, data.length - count));
      else out = fromStart ? fromLine(data, count) : lastLines(data, count);
      if (headers) await ctx.stdout.write(`${i > 0 ? '\n' : ''}==> ${file === '-' ? 'standard input' : file} <==\n`);
      await ctx.stdout.write(out);
    }
    return status;
  },
};
