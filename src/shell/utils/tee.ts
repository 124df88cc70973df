/** `tee`: copies standard input to files and standard output. */
import type { Writer } from '../io.js';
import type { UtilityDefinition } from '../utility.js';
import { parseOptions, usageError } from './common.js';

/** `tee [-a] [FILE]...`: writes standard input to standard output and to each file (`-a` appends). */
export const tee: UtilityDefinition = {
  name: 'tee',
  synopsis: 'tee [-a] [FILE]...',
  description: 'Copy standard input to standard output and to files; -a appends.',
  run: async (ctx) => {
    const opts = parseOptions(ctx.args, { flags: 'ai', long: { append: 'a' } });
    if ('error' in opts) return usageError(ctx, opts.error);
    let status = 0;
    const writers: Writer[] = [ctx.stdout];
    for (const file of opts.operands) {
      try {
        writers.push(await ctx.openOutput(file, { append: opts.flags.has('a') }));
      } catch (err) {
        await ctx.error(err instanceof Error ? err.message : String(err));
        status = 1;
      }
    }
    for (let c = await ctx.stdin.read(); c !== null; c = await ctx.stdin.read()) {
      for (const w of writers) await w.write(c);
    }
    return status;
  },
};
