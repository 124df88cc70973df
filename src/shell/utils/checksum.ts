/** Checksum utilities' shared code: print or check `HASH  FILE` lines. */
import { createHash } from '#platform';
import type { UtilityContext, UtilityDefinition } from '../utility.js';
import { toText } from '../io.js';
import { fsErrorText, parseOptions, splitLines, usageError } from './common.js';

/** Prints `HASH  FILE` lines, or checks them with `-c` (`--status`, `--quiet`). */
export async function checksum(ctx: UtilityContext, algorithm: 'sha256' | 'sha1' | 'sha512' | 'md5'): Promise<number> {
  const opts = parseOptions(ctx.args, {
    flags: 'cbtwsz',
    long: { check: 'c', binary: 'b', text: 't', quiet: 'q', status: 's', strict: 'S', warn: 'w' },
  });
  if ('error' in opts) return usageError(ctx, opts.error);
  const files = opts.operands.length === 0 ? ['-'] : opts.operands;
  const hash = (data: Uint8Array): string => createHash(algorithm).update(data).digest('hex');
  let status = 0;
  if (!opts.flags.has('c')) {
    for (const file of files) {
      try {
        await ctx.stdout.write(`${hash(await ctx.readInput(file))}  ${file}\n`);
      } catch (err) {
        await ctx.error(`${file}: ${fsErrorText(err)}`);
        status = 1;
      }
    }
    return status;
  }
  const quiet = opts.flags.has('q') || opts.flags.has('s');
  let failed = 0;
  for (const list of files) {
    let text: string;
    try {
      text = toText(await ctx.readInput(list));
    } catch (err) {
      await ctx.error(`${list}: ${fsErrorText(err)}`);
      status = 1;
      continue;
    }
    for (const line of splitLines(text)) {
      const m = /^([0-9a-fA-F]+) [ *](.+)$/.exec(line);
      if (!m) continue;
      const file = m[2] as string;
      let ok: boolean;
      try {
        ok = hash(await ctx.readInput(file)) === (m[1] as string).toLowerCase();
      } catch (err) {
        if (!opts.flags.has('s')) await ctx.error(`${file}: ${fsErrorText(err)}`);
        ok = false;
      }
      if (!ok) failed++;
      if (!opts.flags.has('s') && (!ok || !quiet)) await ctx.stdout.write(`${file}: ${ok ? 'OK' : 'FAILED'}\n`);
    }
  }
  if (failed > 0) {
    if (!opts.flags.has('s'))
      await ctx.error(`WARNING: ${failed} computed checksum${failed === 1 ? '' : 's'} did NOT match`);
    status = 1;
  }
  return status;
}

/** A checksum utility for one algorithm. */
export function checksumUtility(name: string, algorithm: 'sha256' | 'sha1' | 'sha512' | 'md5'): UtilityDefinition {
  return {
    name,
    synopsis: `${name} [-c] [--status] [FILE|-]...`,
    description: `Print or check (-c) ${algorithm.toUpperCase()} checksums.`,
    run: (ctx) => checksum(ctx, algorithm),
  };
}
