/**
 * `--user` resolution as moby's `user.GetExecUser` does it, from the text of the image's own
 * `/etc/passwd` and `/etc/group` (never the host's): names are looked up, numbers are copied, an
 * unknown name is an error, and with no group given the user's supplementary groups are every
 * group listing it. Pure: the caller reads the two files.
 */
import { ErrorCodes, LayerkitError } from '../errors.js';

/** A resolved user: what `process.user` and `HOME` need. */
export interface ExecUser {
  uid: number;
  gid: number;
  /** The primary gid first, then the supplementary groups (as podman writes them; no primary when no user was given). */
  additionalGids: number[];
  /** From the passwd entry; `/` when there is none (`/root` for a root without an entry). */
  home: string;
}

const NUMERIC = /^[0-9]+$/;

function rows(text: string | undefined, min: number): string[][] {
  if (text === undefined) return [];
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.split(':'))
    .filter((f) => f.length >= min);
}

/** Options for {@link resolveExecUser}. */
export interface ResolveExecUserOptions {
  /** `user`, `uid`, `user:group`, `uid:gid` (empty: root). */
  user: string;
  /** The image's `/etc/passwd` (undefined when it has none). */
  passwd?: string | undefined;
  /** The image's `/etc/group` (undefined when it has none). */
  group?: string | undefined;
}

/**
 * Resolves a user spec against an image's passwd and group text.
 * @throws `ERR_CONTAINER_USER` naming the user or group the image does not have.
 */
export function resolveExecUser({ user, passwd, group }: ResolveExecUserOptions): ExecUser {
  const spec = user.trim();
  const colon = spec.indexOf(':');
  const userPart = colon < 0 ? spec : spec.slice(0, colon);
  const groupPart = colon < 0 ? undefined : spec.slice(colon + 1);
  const users = rows(passwd, 4)
    .filter((f) => NUMERIC.test(f[2]!) && NUMERIC.test(f[3]!))
    .map((f) => ({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '' }));
  const groups = rows(group, 3)
    .filter((f) => NUMERIC.test(f[2]!))
    .map((f) => ({ name: f[0]!, gid: Number(f[2]), members: (f[3] ?? '').split(',').filter((m) => m !== '') }));
  const lookup = userPart === '' ? '0' : userPart;
  const entry = NUMERIC.test(lookup)
    ? users.find((u) => u.uid === Number(lookup))
    : users.find((u) => u.name === lookup);
  if (entry === undefined && !NUMERIC.test(lookup))
    throw new LayerkitError(
      ErrorCodes.ERR_CONTAINER_USER,
      `unable to find user ${lookup}: no matching entries in the image's /etc/passwd`,
      { user: spec },
    );
  const uid = entry?.uid ?? Number(lookup);
  let gid = entry?.gid ?? 0;
  let supplementary: number[] = [];
  if (groupPart !== undefined && groupPart !== '') {
    const g = NUMERIC.test(groupPart)
      ? groups.find((x) => x.gid === Number(groupPart))
      : groups.find((x) => x.name === groupPart);
    if (g === undefined && !NUMERIC.test(groupPart))
      throw new LayerkitError(
        ErrorCodes.ERR_CONTAINER_USER,
        `unable to find group ${groupPart}: no matching entries in the image's /etc/group`,
        { user: spec },
      );
    gid = g?.gid ?? Number(groupPart);
  } else if (entry !== undefined) {
    supplementary = groups.filter((g) => g.members.includes(entry.name)).map((g) => g.gid);
  }
  // With no user given, only the groups listing the user (as podman does); else the primary gid first.
  const additionalGids = (spec === '' ? supplementary : [gid, ...supplementary]).filter(
    (g, i, a) => a.indexOf(g) === i,
  );
  return { uid, gid, additionalGids, home: entry?.home || (uid === 0 && entry === undefined ? '/root' : '/') };
}
