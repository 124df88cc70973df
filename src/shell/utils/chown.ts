/** `chown`: changes file owners. */
import type { UtilityContext, UtilityDefinition } from '../utility.js';
import { readGroups, readPasswd } from '../users.js';
import { fsErrorText, usageError } from './common.js';
import { walk } from './tree.js';

/** Parses `OWNER[:[GROUP]]` or `:GROUP` against the image's passwd and group files. */
async function parseOwner(ctx: UtilityContext, spec: string): Promise<{ uid?: number; gid?: number } | string> {
  const i = spec.indexOf(':');
  const user = i < 0 ? spec : spec.slice(0, i);
  const group = i < 0 ? undefined : spec.slice(i + 1);
  const out: { uid?: number; gid?: number } = {};
  if (user !== '') {
    if (/^[0-9]+$/.test(user)) out.uid = Number(user);
    else {
      const p = (await readPasswd(ctx.fs)).find((e) => e.name === user);
      if (p === undefined) return `unknown user ${user}`;
      out.uid = p.uid;
      if (group === '') out.gid = p.gid;
    }
    if (group === '' && out.gid === undefined) {
      const p = (await readPasswd(ctx.fs)).find((e) => e.uid === out.uid);
      if (p !== undefined) out.gid = p.gid;
    }
  }
  if (group !== undefined && group !== '') {
    if (/^[0-9]+$/.test(group)) out.gid = Number(group);
    else {
      const g = (await readGroups(ctx.fs)).find((e) => e.name === group);
      if (g === undefined) return `unknown group ${group}`;
      out.gid = g.gid;
    }
  }
  return out;
}

/** Shared by `chown` and `chgrp`: parses flags and an owner, then changes each operand (recursively with -R). */
export async function changeOwners(ctx: UtilityContext, groupOnly: boolean): Promise<number> {
  const flags = new Set<string>();
  const operands: string[] = [];
  let end = false;
  for (const a of ctx.args) {
    if (!end && a === '--') end = true;
    else if (!end && /^-[RhfvcHLP]+$/.test(a)) for (const c of a.slice(1)) flags.add(c);
    else if (!end && a === '--recursive') flags.add('R');
    else if (!end && a === '--no-dereference') flags.add('h');
    else if (!end && a.startsWith('--')) return usageError(ctx, `unrecognized option '${a}'`);
    else operands.push(a);
  }
  const spec = operands[0];
  if (spec === undefined || operands.length < 2) return usageError(ctx, 'missing operand');
  const owner = await parseOwner(ctx, groupOnly ? `:${spec}` : spec);
  if (typeof owner === 'string') {
    await ctx.error(owner);
    return 1;
  }
  let status = 0;
  for (const file of operands.slice(1)) {
    const abs = ctx.resolve(file);
    try {
      const walkOptions: { maxDepth?: number } = {};
      if (!flags.has('R')) walkOptions.maxDepth = 0;
      for await (const entry of walk(ctx.fs, abs, walkOptions)) {
        const link = entry.stats.isSymbolicLink();
        const noDeref = flags.has('h') || (entry.depth > 0 && link);
        const st = link && !noDeref ? await ctx.fs.stat(entry.path) : entry.stats;
        const uid = owner.uid ?? st.uid;
        const gid = owner.gid ?? st.gid;
        if (noDeref) await ctx.fs.lchown(entry.path, uid, gid);
        else await ctx.fs.chown(entry.path, uid, gid);
        if (flags.has('v')) await ctx.stdout.write(`ownership of '${entry.path}' retained as ${uid}:${gid}\n`);
      }
    } catch (err) {
      if (!flags.has('f')) await ctx.error(`${file}: ${fsErrorText(err)}`);
      status = 1;
    }
  }
  return status;
}

/**
 * `chown [-R] [-h] [-f] OWNER[:[GROUP]]|:GROUP FILE...`: names are looked up in the image's
 * `/etc/passwd` and `/etc/group` (numeric ids need no entry); `OWNER:` uses the owner's login
 * group; `-h` changes symlinks themselves; `-R` recurses without following symlinks.
 */
export const chown: UtilityDefinition = {
  name: 'chown',
  synopsis: 'chown [-R] [-h] [-f] [-v] OWNER[:[GROUP]]|:GROUP FILE...',
  description: "Change owner and group, by name (the image's /etc/passwd and /etc/group) or number; -R, -h.",
  run: (ctx) => changeOwners(ctx, false),
};
