/** `chmod`: changes file modes. */
import type { UtilityDefinition } from '../utility.js';
import { fsErrorText, usageError } from './common.js';
import { applyMode } from './mode.js';
import { walk } from './tree.js';

/**
 * `chmod [-R] [-v] [-f] MODE FILE...`: MODE is octal (`755`, `4755`) or symbolic
 * (`u+x,go-w`, `a=r`, `+x`, `g=u`, `X`, `s`, `t`). Symlinks named on the command line are
 * followed; symlinks met by `-R` are skipped, as GNU chmod does.
 */
export const chmod: UtilityDefinition = {
  name: 'chmod',
  synopsis: 'chmod [-R] [-v] [-f] MODE FILE...',
  description: 'Change mode bits, octal or symbolic (u+x,go-w,a=r,+x); -R recurses.',
  run: async (ctx) => {
    const flags = new Set<string>();
    const operands: string[] = [];
    let endOfOptions = false;
    for (const a of ctx.args) {
      if (!endOfOptions && a === '--') endOfOptions = true;
      else if (!endOfOptions && operands.length === 0 && /^-[Rvcf]+$/.test(a)) for (const c of a.slice(1)) flags.add(c);
      else if (!endOfOptions && a === '--recursive') flags.add('R');
      else operands.push(a);
    }
    const spec = operands[0];
    if (spec === undefined || operands.length < 2) return usageError(ctx, 'missing operand');
    if (applyMode(spec, 0, { isDirectory: false, umask: ctx.umask }) === undefined)
      return usageError(ctx, `invalid mode '${spec}'`);
    let status = 0;
    for (const file of operands.slice(1)) {
      const abs = ctx.resolve(file);
      try {
        const walkOptions: { followRoot: boolean; maxDepth?: number } = { followRoot: true };
        if (!flags.has('R')) walkOptions.maxDepth = 0;
        for await (const entry of walk(ctx.fs, abs, walkOptions)) {
          if (entry.depth > 0 && entry.stats.isSymbolicLink()) continue;
          const mode = applyMode(spec, entry.stats.mode, {
            isDirectory: entry.stats.isDirectory(),
            umask: ctx.umask,
          }) as number;
          await ctx.fs.chmod(entry.path, mode);
          if (flags.has('v'))
            await ctx.stdout.write(`mode of '${entry.path}' changed to ${mode.toString(8).padStart(4, '0')}\n`);
        }
      } catch (err) {
        if (!flags.has('f')) await ctx.error(`cannot access '${file}': ${fsErrorText(err)}`);
        status = 1;
      }
    }
    return status;
  },
};
