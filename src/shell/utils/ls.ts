/** `ls`: lists directory contents. */
import { posix } from 'node:path';
import type { ExecutorStats } from '../../union/fs-contract.js';
import type { UtilityContext, UtilityDefinition } from '../utility.js';
import { readGroups, readPasswd } from '../users.js';
import { compareBytes } from '../glob.js';
import { fsErrorText, parseOptions, usageError } from './common.js';
import { modeString } from './mode.js';
import { currentTime, strftime } from './time.js';
import { fileType, lstatOrUndefined, statOrUndefined } from './tree.js';

interface Entry {
  name: string;
  path: string;
  st: ExecutorStats;
}

interface LsOptions {
  all: boolean;
  almostAll: boolean;
  long: boolean;
  numeric: boolean;
  classify: boolean;
  slash: boolean;
  reverse: boolean;
  byTime: boolean;
  bySize: boolean;
  human: boolean;
  users: Map<number, string>;
  groups: Map<number, string>;
  now: number;
}

function humanSize(n: number): string {
  const units = ['', 'K', 'M', 'G', 'T'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? String(n) : `${v < 10 ? v.toFixed(1) : Math.round(v)}${units[u]}`;
}

function sortEntries(entries: Entry[], o: LsOptions): Entry[] {
  const sorted = [...entries].sort((a, b) => {
    if (o.byTime && a.st.mtimeMs !== b.st.mtimeMs) return b.st.mtimeMs - a.st.mtimeMs;
    if (o.bySize && a.st.size !== b.st.size) return b.st.size - a.st.size;
    return compareBytes(a.name, b.name);
  });
  return o.reverse ? sorted.reverse() : sorted;
}

async function formatEntry(ctx: UtilityContext, e: Entry, o: LsOptions): Promise<string> {
  const type = fileType(e.st);
  let suffix = '';
  if (o.classify || o.slash) {
    if (type === 'directory') suffix = '/';
    else if (o.classify && type === 'symlink') suffix = '@';
    else if (o.classify && type === 'fifo') suffix = '|';
    else if (o.classify && type === 'file' && (e.st.mode & 0o111) !== 0) suffix = '*';
  }
  if (!o.long) return `${e.name + suffix}\n`;
  const user = o.numeric ? String(e.st.uid) : (o.users.get(e.st.uid) ?? String(e.st.uid));
  const group = o.numeric ? String(e.st.gid) : (o.groups.get(e.st.gid) ?? String(e.st.gid));
  const target = type === 'symlink' ? await ctx.fs.readlink(e.path) : undefined;
  const bytes = target === undefined ? e.st.size : Buffer.byteLength(target);
  const size = o.human ? humanSize(bytes) : String(bytes);
  const sixMonths = 182 * 86400000;
  const recent = Math.abs(o.now - e.st.mtimeMs) < sixMonths;
  const when = strftime(recent ? '%b %e %H:%M' : '%b %e  %Y', e.st.mtimeMs);
  const name = target === undefined ? e.name + suffix : `${e.name} -> ${target}`;
  const mode = type === 'symlink' ? 0o777 : e.st.mode;
  return `${modeString(mode, type)} ${String(e.st.nlink).padStart(4)} ${user.padEnd(8)} ${group.padEnd(8)} ${size.padStart(9)} ${when} ${name}\n`;
}

/**
 * `ls [-1aAdlnRFprtSh] [FILE]...`: one name per line (output is never a terminal), sorted
 * bytewise; `-l` is busybox's long format (`-n` numeric ids; names come from the image's
 * `/etc/passwd` and `/etc/group`, numbers when unknown; times in UTC), `-R` recurses, `-d` lists
 * directories themselves, `-a`/`-A` include dotfiles, `-F`/`-p` mark types, `-r`/`-t`/`-S` sort.
 */
export const ls: UtilityDefinition = {
  name: 'ls',
  synopsis: 'ls [-1] [-a|-A] [-d] [-l] [-n] [-R] [-F|-p] [-r] [-t|-S] [-h] [FILE]...',
  description: 'List directory contents one per line, sorted; -l long format like busybox, -R, -d, -a/-A.',
  run: async (ctx) => {
    const opts = parseOptions(ctx.args, {
      flags: '1aAdlnRFprtShCxLHi',
      long: {
        all: 'a',
        'almost-all': 'A',
        directory: 'd',
        recursive: 'R',
        classify: 'F',
        reverse: 'r',
        'human-readable': 'h',
      },
    });
    if ('error' in opts) return usageError(ctx, opts.error);
    const f = opts.flags;
    const long = f.has('l') || f.has('n');
    const o: LsOptions = {
      all: f.has('a'),
      almostAll: f.has('A'),
      long,
      numeric: f.has('n'),
      classify: f.has('F'),
      slash: f.has('p'),
      reverse: f.has('r'),
      byTime: f.has('t'),
      bySize: f.has('S'),
      human: f.has('h'),
      users: new Map(long ? (await readPasswd(ctx.fs)).reverse().map((p) => [p.uid, p.name]) : []),
      groups: new Map(long ? (await readGroups(ctx.fs)).reverse().map((g) => [g.gid, g.name]) : []),
      now: currentTime(ctx.env),
    };
    const operands = opts.operands.length === 0 ? ['.'] : opts.operands;
    let status = 0;
    const files: Entry[] = [];
    const dirs: Entry[] = [];
    for (const op of operands) {
      const abs = ctx.resolve(op);
      const l = await lstatOrUndefined(ctx.fs, abs);
      if (l === undefined) {
        await ctx.error(`${op}: No such file or directory`);
        status = 1;
        continue;
      }
      const followed = l.isSymbolicLink() && !long ? await statOrUndefined(ctx.fs, abs) : undefined;
      const st = followed ?? l;
      if (st.isDirectory() && !f.has('d')) dirs.push({ name: op, path: abs, st });
      else files.push({ name: op, path: abs, st: l });
    }
    for (const e of sortEntries(files, o)) await ctx.stdout.write(await formatEntry(ctx, e, o));
    const headers = operands.length > 1 || f.has('R');
    let first = files.length === 0;
    const listDir = async (dir: Entry): Promise<void> => {
      if (headers) await ctx.stdout.write(`${first ? '' : '\n'}${dir.name}:\n`);
      first = false;
      let names: string[];
      try {
        names = await ctx.fs.readdir(dir.path);
      } catch (err) {
        await ctx.error(`${dir.name}: ${fsErrorText(err)}`);
        status = 1;
        return;
      }
      if (o.all) names = ['.', '..', ...names];
      const entries: Entry[] = [];
      for (const name of names) {
        if (name.startsWith('.') && !o.all && !o.almostAll) continue;
        const path = name === '.' ? dir.path : name === '..' ? posix.dirname(dir.path) : posix.join(dir.path, name);
        const st = await lstatOrUndefined(ctx.fs, path);
        if (st !== undefined) entries.push({ name, path, st });
      }
      const sorted = sortEntries(entries, o);
      if (o.long) {
        const blocks = sorted.reduce((n, e) => n + (e.st.isSymbolicLink() ? 0 : Math.ceil(e.st.size / 4096) * 4), 0);
        await ctx.stdout.write(`total ${blocks}\n`);
      }
      let out = '';
      for (const e of sorted) out += await formatEntry(ctx, e, o);
      await ctx.stdout.write(out);
      if (f.has('R')) {
        for (const e of sorted) {
          if (e.name === '.' || e.name === '..' || !e.st.isDirectory()) continue;
          await listDir({ name: dir.name === '/' ? `/${e.name}` : `${dir.name}/${e.name}`, path: e.path, st: e.st });
        }
      }
    };
    for (const d of sortEntries(dirs, o)) await listDir(d);
    return status;
  },
};
