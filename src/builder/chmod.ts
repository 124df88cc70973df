/**
 * `--chmod` values: octal up to 07777 (BuildKit's error text otherwise) or, as Dockerfile 1.14
 * allows, a symbolic mode like `u=rwX,go=rX` applied to each entry's own mode.
 */
import { ErrorCodes } from '../errors.js';
import { stepError } from './step-error.js';

/** A function from an entry's mode (and whether it is a directory) to the mode to set. */
export type ChmodFn = (mode: number, isDirectory: boolean) => number;

/** Parses a `--chmod` value. */
export function parseChmod(value: string): ChmodFn {
  if (/^[0-7]{1,4}$/.test(value)) {
    const mode = parseInt(value, 8);
    return () => mode;
  }
  const clauses = value.split(',');
  const parsed = clauses.map((clause) => {
    const m = /^([ugoa]*)([-+=])([rwxXst]*)$/.exec(clause);
    if (!m)
      throw stepError(
        ErrorCodes.ERR_DOCKERFILE_FLAG,
        `invalid chmod parameter: '${value}'. it should be octal string and between 0 and 07777, or a symbolic mode like u=rwX,go=rX`,
        { value },
      );
    return { who: m[1] || 'a', op: m[2]!, perms: m[3]! };
  });
  return (mode, isDirectory) => {
    let out = mode & 0o7777;
    for (const { who, op, perms } of parsed) {
      let bits = 0;
      const executable = isDirectory || (mode & 0o111) !== 0;
      for (const w of who === 'a' ? 'ugo' : who) {
        const shift = w === 'u' ? 6 : w === 'g' ? 3 : 0;
        if (perms.includes('r')) bits |= 4 << shift;
        if (perms.includes('w')) bits |= 2 << shift;
        if (perms.includes('x') || (perms.includes('X') && executable)) bits |= 1 << shift;
        if (perms.includes('s') && w === 'u') bits |= 0o4000;
        if (perms.includes('s') && w === 'g') bits |= 0o2000;
        if (perms.includes('t') && w === 'o') bits |= 0o1000;
      }
      let mask = 0;
      for (const w of who === 'a' ? 'ugo' : who) mask |= w === 'u' ? 0o4700 : w === 'g' ? 0o2070 : 0o1007;
      if (op === '+') out |= bits;
      else if (op === '-') out &= ~bits;
      else out = (out & ~mask) | bits;
    }
    return out;
  };
}
