/** `stat`: file status. */
import type { ExecutorStats } from '../../union/fs-contract.js';
import type { UtilityContext, UtilityDefinition } from '../utility.js';
import { readGroups, readPasswd } from '../users.js';
import { fsErrorText } from './common.js';
import { interpretEscapes } from './escapes.js';
import { modeString } from './mode.js';
import { strftime } from './time.js';
import { fileType } from './tree.js';

const TYPE_TEXT = {
  file: 'regular file',
  directory: 'directory',
  symlink: 'symbolic link',
  fifo: 'fifo',
  char: 'character special file',
  block: 'block special file',
  socket: 'socket',
} as const;

async function format(
  ctx: UtilityContext,
  fmt: string,
  name: string,
  path: string,
  st: ExecutorStats,
): Promise<string> {
  const type = fileType(st);
  const link = type === 'symlink' ? await ctx.fs.readlink(path) : undefined;
  const mode = link === undefined ? st.mode : (st.mode & ~0o7777) | 0o777;
  const size = link === undefined ? st.size : Buffer.byteLength(link);
  const users = await readPasswd(ctx.fs);
  const groups = await readGroups(ctx.fs);
  const mtime = Math.floor(st.mtimeMs / 1000);
  const human = (): string =>
    strftime('%Y-%m-%d %H:%M:%S.', st.mtimeMs) +
    String(Math.floor((st.mtimeMs % 1000) * 1e6)).padStart(9, '0') +
    ' +0000';
  const fields: Record<string, () => Promise<string> | string> = {
    n: () => name,
    N: () => (link === undefined ? `'${name}'` : `'${name}' -> '${link}'`),
    s: () => String(size),
    a: () => (mode & 0o7777).toString(8),
    A: () => modeString(mode, type),
    f: () => mode.toString(16),
    u: () => String(st.uid),
    U: () => users.find((u) => u.uid === st.uid)?.name ?? 'UNKNOWN',
    g: () => String(st.gid),
    G: () => groups.find((g) => g.gid === st.gid)?.name ?? 'UNKNOWN',
    F: () => (type === 'file' && size === 0 ? 'regular empty file' : TYPE_TEXT[type]),
    h: () => String(st.nlink),
    b: () => String(Math.ceil(size / 512)),
    B: () => '512',
    o: () => '4096',
    i: () => '0',
    Y: () => String(mtime),
    X: () => String(mtime),
    Z: () => String(mtime),
    W: () => '0',
    y: human,
    x: human,
    z: human,
    w: () => '-',
    '%': () => '%',
  };
  let out = '';
  for (let i = 0; i < fmt.length; i++) {
    const c = fmt[i] as string;
    if (c !== '%' || i === fmt.length - 1) {
      out += c;
      continue;
    }
    const n = fmt[++i] as string;
    const fn = fields[n];
    out += fn === undefined ? `%${n}` : await fn();
  }
  return out;
}

/**
 * `stat [-L] [-c FORMAT | --printf FORMAT] FILE...`: FORMAT takes `%n %N %s %a %A %f %u %U %g %G
 * %F %h %b %Y %y %X %x %Z %z %%` (times are the modification time, in UTC). Without a format,
 * a short GNU-like block.
 */
export const stat: UtilityDefinition = {
  name: 'stat',
  synopsis: 'stat [-L] [-c FORMAT | --printf FORMAT] FILE...',
  description: 'Print file status; -c/--format and --printf take %n %s %a %A %u %U %g %G %F %h %Y %y...',
  run: async (ctx) => {
    let fmt: string | undefined;
    let printf = false;
    let follow = false;
    const files: string[] = [];
    const args = [...ctx.args];
    while (args.length > 0) {
      const a = args.shift() as string;
      if (a === '-c' || a === '--format') fmt = args.shift();
      else if (a.startsWith('--format=')) fmt = a.slice(9);
      else if (a.startsWith('-c') && a.length > 2) fmt = a.slice(2);
      else if (a === '--printf') {
        fmt = args.shift();
        printf = true;
      } else if (a.startsWith('--printf=')) {
        fmt = a.slice(9);
        printf = true;
      } else if (a === '-L' || a === '--dereference') follow = true;
      else if (a === '--') files.push(...args.splice(0));
      else if (a.startsWith('-') && a !== '-') {
        await ctx.error(`invalid option -- '${a.slice(1)}'`);
        return 2;
      } else files.push(a);
    }
    if (files.length === 0) {
      await ctx.error('missing operand');
      return 2;
    }
    let status = 0;
    for (const file of files) {
      const path = ctx.resolve(file);
      let st: ExecutorStats;
      try {
        st = follow ? await ctx.fs.stat(path) : await ctx.fs.lstat(path);
      } catch (err) {
        await ctx.error(`can't stat '${file}': ${fsErrorText(err)}`);
        status = 1;
        continue;
      }
      if (fmt !== undefined) {
        const text = await format(ctx, fmt, file, path, st);
        if (printf) await ctx.stdout.write(interpretEscapes(text, 'printf').bytes);
        else await ctx.stdout.write(`${text}\n`);
        continue;
      }
      const block = [
        '  File: %N',
        '  Size: %s\tBlocks: %b\tIO Block: 4096   %F',
        'Access: (0%a/%A)  Uid: (%u/%U)   Gid: (%g/%G)',
        'Modify: %y',
      ].join('\n');
      await ctx.stdout.write(`${await format(ctx, block, file, path, st)}\n`);
    }
    return status;
  },
};
