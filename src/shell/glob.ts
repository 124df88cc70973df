/**
 * Pathname expansion against the shell's filesystem: each `/`-separated segment of a pattern
 * with wildcards is matched against a directory listing; names starting with `.` match only a
 * segment that starts with a literal `.` (which also matches `.` and `..`, as in ash and dash).
 * Results are sorted bytewise (the C locale).
 */
import { posix } from 'node:path';
import type { ExecutorFs } from '../union/fs-contract.js';
import { hasWildcards, patternToRegExp, unescapePattern } from './pattern.js';

/** Compares strings by UTF-16 code units, as `LC_ALL=C` shells sort. */
export function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Expands a pattern (quoted characters escaped with backslashes) against the filesystem.
 * Returns the sorted matching paths, written the way the pattern was (relative stays relative),
 * or an empty array when nothing matches.
 */
export async function expandPathname(options: { fs: ExecutorFs; cwd: string; pattern: string }): Promise<string[]> {
  const { fs, cwd, pattern } = options;
  const absolute = pattern.startsWith('/');
  const segments = pattern.split('/');
  if (absolute) segments.shift();
  // Each candidate: [path as written, path on the fs].
  let candidates: [string, string][] = [[absolute ? '/' : '', absolute ? '/' : cwd]];
  for (let s = 0; s < segments.length; s++) {
    const seg = segments[s] as string;
    const last = s === segments.length - 1;
    const next: [string, string][] = [];
    if (seg === '') {
      // A doubled or trailing slash: keep only directories, and keep the slash.
      for (const [written, real] of candidates) {
        if (await isDirectory(fs, real)) next.push([written === '/' ? '/' : `${written}/`, real]);
      }
      candidates = next;
      continue;
    }
    const join = (written: string, name: string): string =>
      written === '' ? name : written.endsWith('/') ? written + name : `${written}/${name}`;
    if (!hasWildcards(seg)) {
      const name = unescapePattern(seg);
      for (const [written, real] of candidates) {
        const path = posix.join(real, name);
        if (last ? await exists(fs, path) : await isDirectory(fs, path)) next.push([join(written, name), path]);
      }
    } else {
      const re = patternToRegExp(seg, { pathname: true });
      const dotOk = unescapePattern(seg.slice(0, 2)).startsWith('.') || seg.startsWith('\\.');
      for (const [written, real] of candidates) {
        let names: string[];
        try {
          names = await fs.readdir(real);
        } catch {
          continue;
        }
        if (dotOk) names = ['.', '..', ...names];
        const matched = names.filter((n) => (dotOk || !n.startsWith('.')) && re.test(n)).sort(compareBytes);
        for (const name of matched) {
          const path = posix.join(real, name);
          if (last || (await isDirectory(fs, path))) next.push([join(written, name), path]);
        }
      }
    }
    candidates = next;
    if (candidates.length === 0) break;
  }
  return candidates.map(([written]) => written).sort(compareBytes);
}

async function exists(fs: ExecutorFs, path: string): Promise<boolean> {
  try {
    await fs.lstat(path);
    return true;
  } catch {
    return false;
  }
}

async function isDirectory(fs: ExecutorFs, path: string): Promise<boolean> {
  try {
    return (await fs.stat(path)).isDirectory();
  } catch {
    return false;
  }
}
