/** `mktemp`: makes unique temporary files and directories. */
import { createHash } from '#platform';
import type { UtilityDefinition } from '../utility.js';
import { fsErrorText, lastValue, parseOptions, usageError } from './common.js';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/**
 * `mktemp [-d] [-u] [-p DIR] [-t] [TEMPLATE]`: creates a file (mode 0600) or directory (0700)
 * from TEMPLATE's trailing `X`s (default `tmp.XXXXXXXXXX` in `$TMPDIR` or `/tmp`). Names come
 * from a hash of the template and an attempt counter, so a run is reproducible.
 */
export const mktemp: UtilityDefinition = {
  name: 'mktemp',
  synopsis: 'mktemp [-d] [-u] [-q] [-p DIR] [-t] [TEMPLATE]',
  description: 'Create a uniquely named temporary file or directory (-d); names are reproducible.',
  run: async (ctx) => {
    const opts = parseOptions(ctx.args, {
      flags: 'duqt',
      values: 'p',
      long: { directory: 'd', 'dry-run': 'u', quiet: 'q', 'tmpdir=': 'p' },
    });
    if ('error' in opts) return usageError(ctx, opts.error);
    const template = opts.operands[0] ?? 'tmp.XXXXXXXXXX';
    const xs = /X{3,}$/.exec(template);
    if (!xs) return usageError(ctx, `too few X's in template '${template}'`);
    const dirOpt = lastValue(opts, 'p');
    const base =
      opts.operands[0] === undefined || opts.flags.has('t') || dirOpt !== undefined
        ? (dirOpt ?? ctx.env.TMPDIR ?? '/tmp')
        : undefined;
    for (let attempt = 0; attempt < 1000; attempt++) {
      const hex = createHash('sha256').update(`${template}\0${attempt}`).digest('hex');
      const digest = Uint8Array.from(hex.match(/../g)!, (h) => Number.parseInt(h, 16));
      let suffix = '';
      for (let k = 0; k < xs[0].length; k++)
        suffix += ALPHABET[(digest[k % digest.length] as number) % ALPHABET.length];
      const name = template.slice(0, xs.index) + suffix;
      const shown = base === undefined ? name : base.endsWith('/') ? base + name : `${base}/${name}`;
      const abs = ctx.resolve(shown);
      try {
        await ctx.fs.lstat(abs);
        continue;
      } catch {
        // free name
      }
      try {
        if (!opts.flags.has('u')) {
          if (opts.flags.has('d')) {
            await ctx.fs.mkdir(abs, { mode: 0o700 });
            await ctx.fs.chmod(abs, 0o700);
          } else {
            await ctx.fs.writeFile(abs, '', { mode: 0o600, flag: 'wx' });
            await ctx.fs.chmod(abs, 0o600);
          }
          await ctx.ownCreated(abs);
        }
      } catch (err) {
        if (!opts.flags.has('q'))
          await ctx.error(
            `failed to create ${opts.flags.has('d') ? 'directory' : 'file'} via template '${shown}': ${fsErrorText(err)}`,
          );
        return 1;
      }
      await ctx.stdout.write(`${shown}\n`);
      return 0;
    }
    await ctx.error(`cannot find a free name for template '${template}'`);
    return 1;
  },
};
