/** `cp`: copies files and directories. */
import { posix } from 'node:path';
import type { ExecutorStats } from '../../union/fs-contract.js';
import type { UtilityContext, UtilityDefinition } from '../utility.js';
import { isVirtualDevice } from '../files.js';
import { fsErrorText, parseOptions, usageError } from './common.js';
import { lstatOrUndefined, sortedNames, statOrUndefined } from './tree.js';

interface CopyOptions {
  recursive: boolean;
  preserve: boolean;
  noDeref: boolean;
  noClobber: boolean;
  force: boolean;
  verbose: boolean;
}

/** Applies the source's mode, owner and mtime to a copy (`-p`, `-a`). */
async function preserveAttributes(
  ctx: UtilityContext,
  st: ExecutorStats,
  dst: string,
  symlink: boolean,
): Promise<void> {
  if (symlink) {
    await ctx.fs.lchown(dst, st.uid, st.gid);
    return;
  }
  await ctx.fs.chown(dst, st.uid, st.gid);
  await ctx.fs.chmod(dst, st.mode & 0o7777);
  await ctx.fs.utimes(dst, st.mtimeMs / 1000, st.mtimeMs / 1000);
}

/**
 * Copies one entry to `dst` (its final path); returns false after printing an error. Public so
 * that `mv` can copy when a rename is impossible.
 */
export async function copyEntry(
  ctx: UtilityContext,
  src: string,
  dst: string,
  o: CopyOptions,
  shown = { src, dst },
): Promise<boolean> {
  const fs = ctx.fs;
  const st = o.noDeref ? await lstatOrUndefined(fs, src) : await statOrUndefined(fs, src);
  if (st === undefined) {
    await ctx.error(`can't stat '${shown.src}': No such file or directory`);
    return false;
  }
  const existing = await lstatOrUndefined(fs, dst);
  try {
    if (st.isDirectory()) {
      if (!o.recursive) {
        await ctx.error(`omitting directory '${shown.src}'`);
        return false;
      }
      if (dst === src || dst.startsWith(src === '/' ? '/' : `${src}/`)) {
        await ctx.error(`cannot copy a directory, '${shown.src}', into itself, '${shown.dst}'`);
        return false;
      }
      const existingDir = existing !== undefined && (await statOrUndefined(fs, dst))?.isDirectory() === true;
      if (existing !== undefined && !existingDir) {
        await ctx.error(`cannot overwrite non-directory '${shown.dst}' with directory '${shown.src}'`);
        return false;
      }
      if (!existingDir) {
        const mode = o.preserve ? st.mode & 0o7777 : st.mode & 0o777 & ~ctx.umask;
        await fs.mkdir(dst, { mode: mode | 0o700 });
        await fs.chmod(dst, mode | 0o700);
        if (!o.preserve) await ctx.ownCreated(dst);
        if (o.verbose) await ctx.stdout.write(`'${shown.src}' -> '${shown.dst}'\n`);
      }
      let ok = true;
      for (const name of await sortedNames(fs, src)) {
        const r = await copyEntry(ctx, posix.join(src, name), posix.join(dst, name), o, {
          src: posix.join(shown.src, name),
          dst: posix.join(shown.dst, name),
        });
        ok &&= r;
      }
      if (o.preserve) await preserveAttributes(ctx, st, dst, false);
      else if (!existingDir) await fs.chmod(dst, st.mode & 0o777 & ~ctx.umask);
      return ok;
    }
    if (st.isSymbolicLink()) {
      if (existing !== undefined) {
        if (o.noClobber) return true;
        if (existing.isDirectory()) {
          await ctx.error(`cannot overwrite directory '${shown.dst}' with non-directory`);
          return false;
        }
        await fs.unlink(dst);
      }
      await fs.symlink(await fs.readlink(src), dst);
      if (o.preserve) await preserveAttributes(ctx, st, dst, true);
      else await ctx.ownCreated(dst, { symlink: true });
      if (o.verbose) await ctx.stdout.write(`'${shown.src}' -> '${shown.dst}'\n`);
      return true;
    }
    if (!st.isFile()) {
      await ctx.error(`'${shown.src}': special files are not supported by the virtual shell`);
      return false;
    }
    const target = existing === undefined ? undefined : await statOrUndefined(fs, dst);
    if (target?.isDirectory()) {
      await ctx.error(`cannot overwrite directory '${shown.dst}' with non-directory`);
      return false;
    }
    if (existing !== undefined && o.noClobber) return true;
    if (
      existing !== undefined &&
      (await fs.realpath(dst).catch(() => dst)) === (await fs.realpath(src).catch(() => src))
    ) {
      await ctx.error(`'${shown.src}' and '${shown.dst}' are the same file`);
      return false;
    }
    const data = await fs.readFile(src);
    if (target !== undefined) {
      try {
        await fs.writeFile(dst, data);
      } catch (err) {
        if (!o.force) throw err;
        await fs.unlink(dst);
        await fs.writeFile(dst, data);
      }
    } else {
      if (existing !== undefined) await fs.unlink(dst);
      const mode = st.mode & 0o777 & ~ctx.umask;
      await fs.writeFile(dst, data, { mode });
      await fs.chmod(dst, mode);
      if (!o.preserve) await ctx.ownCreated(dst);
    }
    if (o.preserve) await preserveAttributes(ctx, st, dst, false);
    if (o.verbose) await ctx.stdout.write(`'${shown.src}' -> '${shown.dst}'\n`);
    return true;
  } catch (err) {
    await ctx.error(`can't create '${shown.dst}': ${fsErrorText(err)}`);
    return false;
  }
}

/**
 * `cp [-rRapPdLfnvT] SOURCE... DEST`: copies files; `-r`/`-R` copies directories (symlinks
 * inside are copied as symlinks); `-p` keeps mode, owner and mtime; `-a` is `-rpP`; `-P`/`-d`
 * copy symlinks as symlinks, `-L` follows them; `-n` never overwrites; `-T` treats DEST as the
 * target itself. Into an existing directory, each source keeps its name (`src/.` copies the
 * contents). New files get the source's mode minus the umask and belong to the running user.
 */
export const cp: UtilityDefinition = {
  name: 'cp',
  synopsis: 'cp [-r|-R] [-a] [-p] [-P|-d|-L] [-f] [-n] [-v] [-T] SOURCE... DEST',
  description: 'Copy files and directories; -a/-p preserve mode, owner and mtime, -a/-P keep symlinks.',
  run: async (ctx) => {
    const opts = parseOptions(ctx.args, {
      flags: 'rRapPdLHfnivTu',
      long: {
        recursive: 'r',
        archive: 'a',
        'no-dereference': 'P',
        dereference: 'L',
        force: 'f',
        'no-clobber': 'n',
        verbose: 'v',
        'no-target-directory': 'T',
      },
    });
    if ('error' in opts) return usageError(ctx, opts.error);
    const f = opts.flags;
    const recursive = f.has('r') || f.has('R') || f.has('a');
    const o: CopyOptions = {
      recursive,
      preserve: f.has('p') || f.has('a'),
      noDeref: !f.has('L') && (f.has('P') || f.has('d') || f.has('a') || recursive),
      noClobber: f.has('n'),
      force: f.has('f'),
      verbose: f.has('v'),
    };
    if (opts.operands.length < 2)
      return usageError(
        ctx,
        opts.operands.length === 0
          ? 'missing file operand'
          : `missing destination file operand after '${opts.operands[0] ?? ''}'`,
      );
    const dest = opts.operands[opts.operands.length - 1] as string;
    const sources = opts.operands.slice(0, -1);
    const destAbs = ctx.resolve(dest);
    const destIsDir = !f.has('T') && (await statOrUndefined(ctx.fs, destAbs))?.isDirectory() === true;
    if (sources.length > 1 && !destIsDir) {
      await ctx.error(`target '${dest}' is not a directory`);
      return 1;
    }
    let status = 0;
    if (isVirtualDevice(destAbs) && (await lstatOrUndefined(ctx.fs, destAbs)) === undefined) {
      // `cp file /dev/null`: read the sources, keep nothing.
      const out = await ctx.openOutput(dest, { append: true });
      for (const src of sources) {
        try {
          await out.write(await ctx.readInput(src));
        } catch (err) {
          await ctx.error(`can't open '${src}': ${fsErrorText(err)}`);
          status = 1;
        }
      }
      return status;
    }
    for (const src of sources) {
      const srcAbs = ctx.resolve(src);
      if (isVirtualDevice(srcAbs) && (await lstatOrUndefined(ctx.fs, srcAbs)) === undefined) {
        // `cp /dev/null file` empties or creates the file.
        const target = destIsDir ? posix.join(destAbs, posix.basename(srcAbs)) : destAbs;
        try {
          const w = await ctx.openOutput(target, { append: false });
          await w.write(await ctx.readInput(src));
        } catch (err) {
          await ctx.error(err instanceof Error ? err.message : String(err));
          status = 1;
        }
        continue;
      }
      const name = posix.basename(src.replace(/\/+$/, '') || '/');
      const target = destIsDir ? posix.join(destAbs, name) : destAbs;
      const shownDst = destIsDir ? posix.join(dest, name) : dest;
      if (!destIsDir && dest.endsWith('/') && (await statOrUndefined(ctx.fs, srcAbs))?.isDirectory() !== true) {
        await ctx.error(`can't create '${dest}': Not a directory`);
        status = 1;
        continue;
      }
      if (!(await copyEntry(ctx, srcAbs, target, o, { src, dst: shownDst }))) status = 1;
    }
    return status;
  },
};
