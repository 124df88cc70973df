/**
 * `.dockerignore` with BuildKit's semantics: the file is read as moby's `ignorefile.ReadAll`
 * reads it (BOM, `#` comments in the first column, trimming, `!` exceptions, `filepath.Clean`,
 * one leading `/` dropped) and matched as `patternmatcher.MatchesOrParentMatches` matches (last
 * matching pattern wins; a pattern matching any parent directory matches the path). Also the
 * walk-pruning test BuildKit lacks an exact form of, and the files a context always delivers.
 *
 * (@balena/dockerignore ports an older moby matcher; it is case-insensitive by default, reads
 * `a+b` as a regexp, misses `**foo` suffix patterns and answers from an object cache that
 * `constructor` or `toString` paths hit, so it serves as a cross-check in the tests only.)
 */
import { ErrorCodes, LayerkitError } from '../errors.js';
import { trimGoSpace } from './go-text.js';
import { cleanPath, compilePattern, isValidGlob, type CompiledPattern } from './ignore-pattern.js';

/**
 * Reads `.dockerignore` text into patterns (exceptions keep their `!`), exactly as BuildKit
 * does: `/foo/bar/`, `./foo/bar` and `foo//bar` all become `foo/bar`.
 */
export function parseDockerignore(text: string | Uint8Array): string[] {
  let source = typeof text === 'string' ? text : new TextDecoder('utf-8', { ignoreBOM: true }).decode(text);
  if (source.startsWith('\ufeff')) source = source.slice(1);
  const patterns: string[] = [];
  const lines = source.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (let line of lines) {
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.startsWith('#')) continue;
    let pattern = trimGoSpace(line);
    if (pattern === '') continue;
    const invert = pattern.startsWith('!');
    if (invert) pattern = trimGoSpace(pattern.slice(1));
    if (pattern.length > 0) {
      pattern = cleanPath(pattern);
      if (pattern.length > 1 && pattern.startsWith('/')) pattern = pattern.slice(1);
    }
    patterns.push(invert ? `!${pattern}` : pattern);
  }
  return patterns;
}

/** The ignore files BuildKit looks for, in order: `<dockerfile>.dockerignore`, then `.dockerignore`. */
export function dockerignoreCandidates(options: { dockerfile?: string } = {}): string[] {
  const dockerfile = cleanPath(options.dockerfile ?? 'Dockerfile').replace(/^\/+/, '');
  return [`${dockerfile}.dockerignore`, '.dockerignore'];
}

/** Options of {@link createIgnoreMatcher}. */
export interface IgnoreMatcherOptions {
  /**
   * Context paths a context walker delivers even when a pattern excludes them: the Dockerfile
   * and the ignore file (BuildKit sends them through their own channel). They stay excluded for
   * COPY/ADD: `ignores()` still reports them; only `mayPruneDirectory` keeps their directories.
   * Default `['Dockerfile', '.dockerignore']`.
   */
  alwaysInclude?: readonly string[];
}

/** A compiled set of ignore patterns. */
export interface IgnoreMatcher {
  /** The patterns, cleaned, in order. */
  readonly patterns: readonly CompiledPattern[];
  /** True when some pattern is a `!` exception. */
  readonly hasExceptions: boolean;
  /** The cleaned `alwaysInclude` paths. */
  readonly alwaysInclude: readonly string[];
  /** True when `path` (relative to the context root, `/`-separated) is excluded. The root never is. */
  ignores(path: string): boolean;
  /**
   * True when a walk may skip `dir` entirely: `dir` is excluded, no `!` pattern can re-include
   * anything below it, and no `alwaysInclude` path lies below it. False answers are safe (walk
   * and test each path); `**` or a `[...]` class in an exception makes the answer conservative.
   */
  mayPruneDirectory(dir: string): boolean;
}

function patternError(reason: string, pattern: string): LayerkitError {
  return new LayerkitError(
    ErrorCodes.ERR_IGNORE_PATTERN,
    `${reason} (in ignore pattern ${JSON.stringify(pattern)}); fix or remove that line`,
    {
      pattern,
      reason,
    },
  );
}

function normalizePath(path: string): string {
  const p = cleanPath(path);
  return p.startsWith('/') ? cleanPath(p.slice(1)) : p;
}

/** Compiles patterns (from `parseDockerignore`, or `COPY --exclude`). Throws `ERR_IGNORE_PATTERN`. */
export function createIgnoreMatcher(patterns: readonly string[], options: IgnoreMatcherOptions = {}): IgnoreMatcher {
  const compiled: CompiledPattern[] = [];
  for (const raw of patterns) {
    let p = trimGoSpace(raw);
    if (p === '') continue;
    p = cleanPath(p);
    let exclusion = false;
    if (p.startsWith('!')) {
      if (p.length === 1) throw patternError('illegal exclusion pattern: "!"', raw);
      exclusion = true;
      p = p.slice(1);
    }
    if (!isValidGlob(p)) throw patternError('syntax error in pattern', raw);
    const c = compilePattern(p, exclusion);
    if (c === undefined) throw patternError('syntax error in pattern: invalid escape', raw);
    compiled.push(c);
  }
  const alwaysInclude = (options.alwaysInclude ?? ['Dockerfile', '.dockerignore']).map(normalizePath);
  const hasExceptions = compiled.some((c) => c.exclusion);

  const ignores = (path: string): boolean => {
    // No patterns: nothing is ignored (and a 10,000-file context skips 10,000 normalisations).
    if (compiled.length === 0) return false;
    const file = normalizePath(path);
    if (file === '.') return false;
    const parents = file.split('/').slice(0, -1);
    let matched = false;
    for (const pattern of compiled) {
      if (pattern.exclusion !== matched) continue;
      let match = pattern.matches(file);
      for (let i = 1; !match && i <= parents.length; i++) match = pattern.matches(parents.slice(0, i).join('/'));
      if (match) matched = !pattern.exclusion;
    }
    return matched;
  };

  const mayPruneDirectory = (dir: string): boolean => {
    const d = normalizePath(dir);
    if (d === '.' || d.startsWith('../') || d === '..' || !ignores(d)) return false;
    if (alwaysInclude.some((p) => p.startsWith(`${d}/`))) return false;
    const dirParts = d.split('/');
    return compiled.every((p) => !p.exclusion || !mayMatchBelow(p.pattern, dirParts));
  };

  return { patterns: compiled, hasExceptions, alwaysInclude, ignores, mayPruneDirectory };
}

/**
 * Whether `pattern` could match some path strictly below the directory `dirParts` (as a whole
 * path; a match of `dir` or an ancestor gives descendants the same answer as `dir` itself).
 * Segment by segment; anything this cannot decide exactly answers true.
 */
function mayMatchBelow(pattern: string, dirParts: string[]): boolean {
  if (pattern.includes('**') || pattern.includes('[')) return true; // a class may match `/`
  const parts = pattern.split('/');
  if (parts.length <= dirParts.length) return false;
  for (let i = 0; i < dirParts.length; i++) {
    const seg = parts[i] as string;
    if (/(^|[^\\])(\\\\)*\\$/.test(seg)) return true; // an escaped `/` spans segments
    const c = compilePattern(seg, false);
    if (c === undefined || !c.matches(dirParts[i] as string)) return false;
  }
  return true;
}
