/**
 * File mode strings as `chmod`, `mkdir -m` and `umask` take them: octal (`755`, `4755`) or
 * symbolic clauses (`u+x,go-w`, `a=r`, `+x`, `g=u`, `X`, `s`, `t`), applied like GNU chmod
 * (with no `ugoa`, bits in the umask are left alone for `+`/`-`/`=`). Also the `ls -l` mode text.
 */

const WHO_BITS: Readonly<Record<string, number>> = { u: 0o4700, g: 0o2070, o: 0o1007, a: 0o7777 };

/**
 * Applies a mode spec to `mode` (permission bits `& 0o7777`); undefined when the spec is invalid.
 */
export function applyMode(
  spec: string,
  mode: number,
  options: { isDirectory: boolean; umask: number },
): number | undefined {
  if (/^[0-7]{1,4}$/.test(spec)) return parseInt(spec, 8);
  let current = mode & 0o7777;
  for (const clause of spec.split(',')) {
    const m = /^([ugoa]*)((?:[-+=](?:[rwxXst]*|[ugo]))+)$/.exec(clause);
    if (!m) return undefined;
    const whoText = m[1] as string;
    let who = 0;
    for (const w of whoText) who |= WHO_BITS[w] as number;
    const implicit = whoText === '';
    if (implicit) who = 0o7777;
    const ops = (m[2] as string).match(/[-+=](?:[ugo]|[rwxXst]*)/g) ?? [];
    for (const op of ops) {
      const action = op[0] as string;
      const perms = op.slice(1);
      let bits = 0;
      if (perms === 'u' || perms === 'g' || perms === 'o') {
        const shift = perms === 'u' ? 6 : perms === 'g' ? 3 : 0;
        const rwx = (current >> shift) & 7;
        bits = (rwx << 6) | (rwx << 3) | rwx;
      } else {
        for (const p of perms) {
          if (p === 'r') bits |= 0o444;
          else if (p === 'w') bits |= 0o222;
          else if (p === 'x') bits |= 0o111;
          else if (p === 'X') {
            if (options.isDirectory || (current & 0o111) !== 0) bits |= 0o111;
          } else if (p === 's') bits |= 0o6000;
          else if (p === 't') bits |= 0o1000;
        }
      }
      let mask = who & bits;
      if (implicit) mask &= ~options.umask | 0o7000;
      if (action === '+') current |= mask;
      else if (action === '-') current &= ~mask;
      else {
        const clear = implicit ? 0o7777 & ~0o7000 : who & 0o777;
        current = (current & ~clear) | mask;
        if (!implicit) current &= ~(who & 0o7000 & ~mask);
      }
    }
  }
  return current;
}

/** `ls -l` mode text: type character and `rwx` triplets with `s`/`S`/`t`/`T`. */
export function modeString(
  mode: number,
  type: 'file' | 'directory' | 'symlink' | 'fifo' | 'char' | 'block' | 'socket',
): string {
  const typeChar = { file: '-', directory: 'd', symlink: 'l', fifo: 'p', char: 'c', block: 'b', socket: 's' }[type];
  const rwx = (bits: number, special: boolean, specialChar: string): string => {
    const x = (bits & 1) !== 0;
    const last = special ? (x ? specialChar : specialChar.toUpperCase()) : x ? 'x' : '-';
    return `${bits & 4 ? 'r' : '-'}${bits & 2 ? 'w' : '-'}${last}`;
  };
  return (
    typeChar +
    rwx((mode >> 6) & 7, (mode & 0o4000) !== 0, 's') +
    rwx((mode >> 3) & 7, (mode & 0o2000) !== 0, 's') +
    rwx(mode & 7, (mode & 0o1000) !== 0, 't')
  );
}
