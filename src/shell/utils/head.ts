/** `head`: the first lines or bytes of files. */
import type { InputStream } from '../io.js';
import type { UtilityContext, UtilityDefinition } from '../utility.js';
import { concatBytes } from '../io.js';
import { fsErrorText, lastValue, parseOptions, usageError, type ParsedOptions } from './common.js';

/** Reads lines from a stream until `n` are read, leaving the rest unread (so `yes | head` ends). */
async function firstLines(stream: InputStream, n: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let count = 0;
  while (count < n) {
    const c = await stream.read();
    if (c === null) break;
    let i = 0;
    for (; i < c.length && count < n; i++) if (c[i] === 10) count++;
    chunks.push(c.subarray(0, i));
    if (i < c.length) stream.unread(c.subarray(i));
  }
  return concatBytes(chunks);
}

async function firstBytes(stream: InputStream, n: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  while (total < n) {
    const c = await stream.read();
    if (c === null) break;
    const take = Math.min(c.length, n - total);
    chunks.push(c.subarray(0, take));
    total += take;
    if (take < c.length) stream.unread(c.subarray(take));
  }
  return concatBytes(chunks);
}

function allButLast(data: Uint8Array, n: number, lines: boolean): Uint8Array {
  if (!lines) return data.subarray(0, Math.max(0, data.length - n));
  const ends: number[] = [];
  for (let i = 0; i < data.length; i++) if (data[i] === 10) ends.push(i + 1);
  if (data.length > 0 && data[data.length - 1] !== 10) ends.push(data.length);
  const keep = ends.length - n;
  return keep <= 0 ? new Uint8Array(0) : data.subarray(0, ends[keep - 1]);
}

/** Parses a count with an optional multiplier suffix (`b`, `k`, `m`). */
export function parseSize(text: string): number | undefined {
  const m = /^([0-9]+)(b|k|K|kB|m|M|MB)?$/.exec(text);
  if (!m) return undefined;
  const mult: Record<string, number> = { b: 512, k: 1024, K: 1024, kB: 1000, m: 1048576, M: 1048576, MB: 1000000 };
  return Number(m[1]) * (m[2] === undefined ? 1 : (mult[m[2]] as number));
}

/** What head and tail read from their options: lines or bytes, the count as written, the inputs and whether to print headers. */
export interface CountRequest {
  byBytes: boolean;
  /** The count as written (`10`, `-3`, `+2`). */
  raw: string;
  count: number;
  files: string[];
  headers: boolean;
}

/** Reads head's and tail's shared options (`-n`, `-c`, the last one wins; `-q`, `-v`). */
export function countRequest(opts: ParsedOptions): CountRequest | { error: string } {
  const byBytes = opts.values.has('c') && opts.order.lastIndexOf('c') > opts.order.lastIndexOf('n');
  const raw = (byBytes ? lastValue(opts, 'c') : lastValue(opts, 'n')) ?? '10';
  const count = parseSize(raw.replace(/^[-+]/, ''));
  if (count === undefined) return { error: `invalid number '${raw}'` };
  const files = opts.operands.length === 0 ? ['-'] : opts.operands;
  return { byBytes, raw, count, files, headers: opts.flags.has('v') || (files.length > 1 && !opts.flags.has('q')) };
}

/**
 * `head [-n N|-N] [-c N] [-qv] [FILE|-]...`: the first N lines (default 10) or bytes; a
 * negative N prints all but the last N. Several files get `==> name <==` headers.
 */
export const head: UtilityDefinition = {
  name: 'head',
  synopsis: 'head [-n [-]N | -N] [-c [-]N] [-q|-v] [FILE|-]...',
  description:
    'Print the first lines (default 10) or bytes of each input; a negative count prints all but the last ones.',
  run: async (ctx: UtilityContext) => {
    const opts = parseOptions(ctx.args, {
      flags: 'qv',
      values: 'nc',
      numeric: 'n',
      long: { 'lines=': 'n', 'bytes=': 'c', quiet: 'q', verbose: 'v' },
    });
    if ('error' in opts) return usageError(ctx, opts.error);
    const req = countRequest(opts);
    if ('error' in req) return usageError(ctx, req.error);
    const { byBytes, count, files, headers } = req;
    const negative = req.raw.startsWith('-');
    let status = 0;
    for (const [i, file] of files.entries()) {
      let out: Uint8Array;
      try {
        if (file === '-' && !negative) {
          out = byBytes ? await firstBytes(ctx.stdin, count) : await firstLines(ctx.stdin, count);
        } else {
          const data = await ctx.readInput(file);
          if (negative) out = allButLast(data, count, !byBytes);
          else if (byBytes) out = data.subarray(0, count);
          else {
            let n = 0;
            let end = 0;
            while (end < data.length && n < count) if (data[end++] === 10) n++;
            out = data.subarray(0, end);
          }
        }
      } catch (err) {
        await ctx.error(`can't open '${file}': ${fsErrorText(err)}`);
        status = 1;
        continue;
      }
      if (headers) await ctx.stdout.write(`${i > 0 ? '\n' : ''}==> ${file === '-' ? 'standard input' : file} <==\n`);
      await ctx.stdout.write(out);
    }
    return status;
  },
};
