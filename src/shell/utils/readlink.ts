/** `readlink`: symlink targets and canonical paths. */
import { posix } from 'node:path';
import type { UtilityContext, UtilityDefinition } from '../utility.js';

/** The operand as an absolute path without lexical normalisation (`link/..` must follow `link` first). */
export function physical(ctx: UtilityContext, file: string): string {
  return file.startsWith('/') ? file : `${ctx.cwd === '/' ? '' : ctx.cwd}/${file}`;
}

/** Resolves every symlink of an absolute path; with `missingOk`, the last component may not exist. */
export async function canonical(ctx: UtilityContext, path: string, missingOk: boolean): Promise<string> {
  try {
    return await ctx.fs.realpath(path);
  } catch (err) {
    if (!missingOk) throw err;
    const parent = await ctx.fs.realpath(posix.dirname(path));
    return posix.join(parent, posix.basename(path));
  }
}

/** `readlink [-f|-e|-m] [-n] FILE...`: a symlink's target, or with `-f`/`-e`/`-m` the canonical path. */
export const readlink: UtilityDefinition = {
  name: 'readlink',
  synopsis: 'readlink [-f|-e|-m] [-n] FILE...',
  description: "Print a symlink's target, or the canonical path with -f/-e/-m.",
  run: async (ctx) => {
    const flags = new Set<string>();
    const files: string[] = [];
    for (const a of ctx.args) {
      if (/^-[femnqsvz]+$/.test(a)) for (const c of a.slice(1)) flags.add(c);
      else files.push(a);
    }
    let status = 0;
    for (const file of files) {
      const abs = physical(ctx, file);
      try {
        let out: string;
        if (flags.has('f') || flags.has('m')) out = await canonical(ctx, abs, true);
        else if (flags.has('e')) out = await ctx.fs.realpath(abs);
        else out = await ctx.fs.readlink(abs);
        await ctx.stdout.write(out + (flags.has('n') ? '' : '\n'));
      } catch {
        status = 1;
      }
    }
    return status;
  },
};
