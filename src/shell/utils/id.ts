/** `id`: user and group ids. */
import type { UtilityDefinition } from '../utility.js';
import { readGroups, readPasswd, resolveUser, UserLookupError, type ResolvedUser } from '../users.js';
import { parseOptions, usageError } from './common.js';

/**
 * `id [-u|-g|-G] [-n] [-r] [USER]`: user and group ids of the running user (the request's USER,
 * root when empty) or of USER, with names from the image's `/etc/passwd` and `/etc/group`
 * (numbers alone when unknown). Always prints `groups=` (GNU style).
 */
export const id: UtilityDefinition = {
  name: 'id',
  synopsis: 'id [-u|-g|-G] [-n] [-r] [USER]',
  description: "Print user and group ids (names from the image's /etc/passwd and /etc/group).",
  run: async (ctx) => {
    const opts = parseOptions(ctx.args, {
      flags: 'ugGnr',
      long: { user: 'u', group: 'g', groups: 'G', name: 'n', real: 'r' },
    });
    if ('error' in opts) return usageError(ctx, opts.error);
    let user: ResolvedUser = ctx.user;
    const who = opts.operands[0];
    if (who !== undefined) {
      try {
        user = await resolveUser({ fs: ctx.fs, user: who });
      } catch (err) {
        if (!(err instanceof UserLookupError)) throw err;
        await ctx.error(`unknown user ${who}`);
        return 1;
      }
      if (user.name === undefined) {
        await ctx.error(`unknown user ${who}`);
        return 1;
      }
    }
    const passwd = await readPasswd(ctx.fs);
    const groupList = await readGroups(ctx.fs);
    const userName = (uid: number): string | undefined => passwd.find((p) => p.uid === uid)?.name;
    const groupName = (gid: number): string | undefined => groupList.find((g) => g.gid === gid)?.name;
    const f = opts.flags;
    const all = [user.gid, ...user.groups];
    const show = (n: number, name: string | undefined): string => (f.has('n') ? (name ?? String(n)) : String(n));
    if (f.has('u')) {
      await ctx.stdout.write(`${show(user.uid, userName(user.uid))}\n`);
      return f.has('n') && userName(user.uid) === undefined ? 1 : 0;
    }
    if (f.has('g')) {
      await ctx.stdout.write(`${show(user.gid, groupName(user.gid))}\n`);
      return 0;
    }
    if (f.has('G')) {
      await ctx.stdout.write(`${all.map((g) => show(g, groupName(g))).join(' ')}\n`);
      return 0;
    }
    const fmt = (n: number, name: string | undefined): string => (name === undefined ? String(n) : `${n}(${name})`);
    const groups = all.map((g) => fmt(g, groupName(g))).join(',');
    await ctx.stdout.write(
      `uid=${fmt(user.uid, userName(user.uid))} gid=${fmt(user.gid, groupName(user.gid))} groups=${groups}\n`,
    );
    return 0;
  },
};
