/**
 * Users and groups of the image: `/etc/passwd` and `/etc/group` read from the shell's
 * filesystem, and Docker's `USER` resolution (`name`, `uid`, `uid:gid`, `name:group`) with the
 * same "unable to find user" errors.
 */
import type { ExecutorFs } from '../union/fs-contract.js';

/** One `/etc/passwd` line. */
export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

/** One `/etc/group` line. */
export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/** A resolved USER: ids, name and home when `/etc/passwd` knows them, supplementary groups. */
export interface ResolvedUser {
  uid: number;
  gid: number;
  name?: string;
  home: string;
  /** Supplementary group ids (groups listing the user as a member), sorted, without `gid`. */
  groups: number[];
}

/** Thrown when a USER names a user or group the image does not have. */
export class UserLookupError extends Error {
  override readonly name = 'UserLookupError';
}

async function readLines(fs: ExecutorFs, path: string): Promise<string[][]> {
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.split(':'));
}

/** The entries of `/etc/passwd` (empty when the file is missing). */
export async function readPasswd(fs: ExecutorFs): Promise<PasswdEntry[]> {
  return (await readLines(fs, '/etc/passwd'))
    .filter((f) => f.length >= 4 && /^[0-9]+$/.test(f[2] ?? '') && /^[0-9]+$/.test(f[3] ?? ''))
    .map((f) => ({ name: f[0] ?? '', uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '', shell: f[6] ?? '' }));
}

/** The entries of `/etc/group` (empty when the file is missing). */
export async function readGroups(fs: ExecutorFs): Promise<GroupEntry[]> {
  return (await readLines(fs, '/etc/group'))
    .filter((f) => f.length >= 3 && /^[0-9]+$/.test(f[2] ?? ''))
    .map((f) => ({ name: f[0] ?? '', gid: Number(f[2]), members: (f[3] ?? '').split(',').filter((m) => m !== '') }));
}

/**
 * Resolves a Dockerfile USER value against the image's `/etc/passwd` and `/etc/group`.
 * Empty means root. A numeric uid need not exist (its gid is then 0, its home `/`).
 * @throws UserLookupError naming the user or group that is missing.
 */
export async function resolveUser(options: { fs: ExecutorFs; user: string }): Promise<ResolvedUser> {
  const spec = options.user.trim();
  const colon = spec.indexOf(':');
  const userPart = colon < 0 ? spec : spec.slice(0, colon);
  const groupPart = colon < 0 ? undefined : spec.slice(colon + 1);
  const passwd = await readPasswd(options.fs);
  let entry: PasswdEntry | undefined;
  let uid: number;
  if (userPart === '') {
    uid = 0;
    entry = passwd.find((p) => p.uid === 0);
  } else if (/^[0-9]+$/.test(userPart)) {
    uid = Number(userPart);
    entry = passwd.find((p) => p.uid === uid);
  } else {
    entry = passwd.find((p) => p.name === userPart);
    if (entry === undefined)
      throw new UserLookupError(`unable to find user ${userPart}: no matching entries in passwd file`);
    uid = entry.uid;
  }
  let gid = entry?.gid ?? 0;
  const groups = await readGroups(options.fs);
  if (groupPart !== undefined && groupPart !== '') {
    if (/^[0-9]+$/.test(groupPart)) {
      gid = Number(groupPart);
    } else {
      const g = groups.find((x) => x.name === groupPart);
      if (g === undefined)
        throw new UserLookupError(`unable to find group ${groupPart}: no matching entries in group file`);
      gid = g.gid;
    }
  }
  const name = entry?.name;
  const supplementary =
    name === undefined || groupPart !== undefined
      ? []
      : [...new Set(groups.filter((g) => g.members.includes(name) && g.gid !== gid).map((g) => g.gid))].sort(
          (a, b) => a - b,
        );
  const resolved: ResolvedUser = { uid, gid, home: entry?.home || '/', groups: supplementary };
  if (name !== undefined) resolved.name = name;
  return resolved;
}
