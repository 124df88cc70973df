/** `basename`: the last component of a path. */
import type { UtilityDefinition } from '../utility.js';
import { lastValue, parseOptions, usageError } from './common.js';

/** The last component of a path, as POSIX `basename` computes it. */
export function baseName(path: string): string {
  if (path === '') return '';
  const trimmed = path.replace(/\/+$/, '');
  if (trimmed === '') return '/';
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

/** The directory part of a path, as POSIX `dirname` computes it. */
export function dirName(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  if (trimmed === '') return path.startsWith('/') ? '/' : '.';
  const slash = trimmed.lastIndexOf('/');
  if (slash < 0) return '.';
  const dir = trimmed.slice(0, slash).replace(/\/+$/, '');
  return dir === '' ? '/' : dir;
}

/** `basename NAME [SUFFIX]` or `basename -a [-s SUFFIX] NAME...`. */
export const basename: UtilityDefinition = {
  name: 'basename',
  synopsis: 'basename NAME [SUFFIX] | basename -a [-s SUFFIX] NAME...',
  description: 'Strip directories (and a suffix) from names.',
  run: async (ctx) => {
    const opts = parseOptions(ctx.args, {
      flags: 'az',
      values: 's',
      long: { multiple: 'a', 'suffix=': 's', zero: 'z' },
    });
    if ('error' in opts) return usageError(ctx, opts.error);
    if (opts.operands.length === 0) return usageError(ctx, 'missing operand');
    let suffix = lastValue(opts, 's');
    let names = opts.operands;
    if (!opts.flags.has('a') && suffix === undefined) {
      if (names.length > 2) return usageError(ctx, `extra operand '${names[2] ?? ''}'`);
      suffix = names[1];
      names = names.slice(0, 1);
    }
    const end = opts.flags.has('z') ? '\0' : '\n';
    let out = '';
    for (const n of names) {
      let b = baseName(n);
      if (suffix !== undefined && suffix !== '' && b !== suffix && b.endsWith(suffix)) b = b.slice(0, -suffix.length);
      out += b + end;
    }
    await ctx.stdout.write(out);
    return 0;
  },
};
