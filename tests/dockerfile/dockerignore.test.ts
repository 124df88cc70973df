import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import balena from '@balena/dockerignore';
import { isLayerkitError } from '../../src/errors.js';
import { createIgnoreMatcher, dockerignoreCandidates, parseDockerignore } from '../../src/dockerfile/index.js';

describe('parseDockerignore (moby ignorefile.ReadAll)', () => {
  it('reads comments, blanks, BOM, CRLF, exceptions and cleans patterns', () => {
    const text =
      '\ufeff# comment\n  # not a comment: trimmed later\n\n/foo/bar/\r\n./x\na//b/../c\n!  README.md \n! /docs/\n\t*.log\t\n/\n';
    expect(parseDockerignore(text)).toEqual([
      '# not a comment: trimmed later',
      'foo/bar',
      'x',
      'a/c',
      '!README.md',
      '!docs',
      '*.log',
      '/',
    ]);
  });

  it('accepts bytes', () => {
    expect(parseDockerignore(new TextEncoder().encode('a\nb'))).toEqual(['a', 'b']);
  });
});

describe('matching (moby patternmatcher.MatchesOrParentMatches)', () => {
  const cases: [string, string[], Record<string, boolean>][] = [
    ['*.md at the root only', ['*.md'], { 'a.md': true, 'd/a.md': false, 'a.mdx': false }],
    ['**/*.md at any depth', ['**/*.md'], { 'a.md': true, 'd/e/a.md': true, 'a.txt': false }],
    [
      'a name matches at the root, with its children',
      ['node_modules'],
      { node_modules: true, 'node_modules/x/y': true, 'a/node_modules': false },
    ],
    [
      'leading / and ./ and trailing / normalised',
      ['/build', './x', 'docs/'],
      { build: true, 'build/o': true, x: true, 'docs/a': true },
    ],
    ['? is one character, not /', ['temp?'], { temp1: true, temp: false, temp12: false, 'temp/': false }],
    ['*/tmp* one level down', ['*/tmp*'], { 'a/tmpx': true, 'a/b/tmpx': false, tmp: false, 'a/tmp/x': true }],
    [
      'a/**/b spans zero or more directories',
      ['a/**/b'],
      { 'a/b': true, 'a/x/y/b': true, 'a/x/b/c': true, 'x/a/b': false },
    ],
    ['classes', ['[xy].txt', '[^a-c]?.log'], { 'x.txt': true, 'z.txt': false, 'dz.log': true, 'az.log': false }],
    [
      'last match wins',
      ['*.md', '!README*.md', 'README-secret.md'],
      { 'a.md': true, 'README.md': false, 'README-secret.md': true },
    ],
    ['order matters', ['*.md', 'README-secret.md', '!README*.md'], { 'README-secret.md': false }],
    [
      're-include below an excluded directory',
      ['secret', '!secret/public'],
      { 'secret/a': true, 'secret/public': false, 'secret/public/x': false },
    ],
    [
      'exclude everything but',
      ['*', '!src', '!Dockerfile'],
      { 'src/a.ts': false, Dockerfile: false, 'README.md': true },
    ],
    ['case-sensitive', ['README.md'], { 'README.md': true, 'readme.md': false, 'README.MD': false }],
    [
      'regexp characters are literal',
      ['a+b', '(c)', 'd|e', '{f}', 'g$', 'h.i'],
      {
        'a+b': true,
        aab: false,
        '(c)': true,
        c: false,
        'd|e': true,
        d: false,
        '{f}': true,
        g$: true,
        'h.i': true,
        hxi: false,
      },
    ],
    ['escapes', ['\\*', 'q\\?'], { '*': true, x: false, 'q?': true, qx: false }],
    ['**x is a plain suffix match', ['**foo'], { foo: true, barfoo: true, 'a/xfoo': true, 'foo/bar': true, fo: false }],
    ['trailing ** is a prefix match', ['foo/**', 'bar**'], { 'foo/x': true, foo: false, barbaz: true, 'bar/x': true }],
    ['** alone matches everything', ['**'], { a: true, 'a/b/c': true }],
    [
      'Object.prototype names are ordinary paths',
      ['*'],
      { constructor: true, toString: true, __proto__: true, hasOwnProperty: true },
    ],
    ['paths are cleaned', ['a/b'], { './a/b': true, '/a/b': true, 'a//b/': true, 'a/c/../b': true }],
    ['the context root is never excluded', ['*', '.', '**'], { '.': false, '': false, '/': false }],
  ];
  it.each(cases)('%s', (_name, patterns, expected) => {
    const m = createIgnoreMatcher(parseDockerignore(patterns.join('\n')));
    const got = Object.fromEntries(Object.keys(expected).map((p) => [p, m.ignores(p)]));
    expect(got).toEqual(expected);
  });

  it('given patterns directly (COPY --exclude), only cleans them, as patternmatcher.New does', () => {
    const m = createIgnoreMatcher(['/a', './b/']);
    expect([m.ignores('a'), m.ignores('b/x')]).toEqual([false, true]);
  });

  it.each([
    ['!', 'illegal exclusion pattern: "!"'],
    ['[', 'syntax error in pattern'],
    ['a[', 'syntax error in pattern'],
    ['[a-', 'syntax error in pattern'],
    ['[]a]', 'syntax error in pattern'],
    ['[-a]', 'syntax error in pattern'],
    ['x[a-]', 'syntax error in pattern'],
    ['a\\', 'syntax error in pattern'],
  ])('%j is refused: %s', (pattern, reason) => {
    try {
      createIgnoreMatcher(['ok', pattern]);
      expect.unreachable();
    } catch (err) {
      expect(isLayerkitError(err, 'ERR_IGNORE_PATTERN')).toBe(true);
      if (isLayerkitError(err)) expect(err.data).toEqual({ pattern, reason });
    }
  });

  it('reports exceptions and the always-included files', () => {
    expect(createIgnoreMatcher(['a']).hasExceptions).toBe(false);
    expect(createIgnoreMatcher(['a', '!b']).hasExceptions).toBe(true);
    const m = createIgnoreMatcher(['*'], {
      alwaysInclude: ['./docker/app.Dockerfile', 'docker/app.Dockerfile.dockerignore'],
    });
    expect(m.alwaysInclude).toEqual(['docker/app.Dockerfile', 'docker/app.Dockerfile.dockerignore']);
    // still excluded for COPY, but their directory must be walked
    expect(m.ignores('docker/app.Dockerfile')).toBe(true);
    expect(m.mayPruneDirectory('docker')).toBe(false);
    expect(createIgnoreMatcher(['*']).mayPruneDirectory('docker')).toBe(true);
  });

  it('names the ignore files BuildKit looks for', () => {
    expect(dockerignoreCandidates()).toEqual(['Dockerfile.dockerignore', '.dockerignore']);
    expect(dockerignoreCandidates({ dockerfile: './docker/build.Dockerfile' })).toEqual([
      'docker/build.Dockerfile.dockerignore',
      '.dockerignore',
    ]);
  });
});

describe('mayPruneDirectory', () => {
  it.each<[string[], string, boolean]>([
    [['node_modules'], 'node_modules', true],
    [['node_modules'], 'src', false],
    [['secret', '!secret/public'], 'secret', false],
    [['secret', '!secret/public'], 'secret/other', true],
    [['secret', '!other/x'], 'secret', true],
    [['*', '!*/keep'], 'a', false],
    [['*', '!*/keep'], 'a/b', true],
    [['a', '!a'], 'a', false],
    [['a', '!a', 'a'], 'a', true],
    [['a', '!**/keep'], 'a', false],
    [['a', '!a/[kK]eep'], 'a', false],
    [['a', '!b'], 'a', true],
  ])('%j, %s → %s', (patterns, dir, expected) => {
    expect(createIgnoreMatcher(patterns).mayPruneDirectory(dir)).toBe(expected);
  });
});

const SEGMENTS = ['a', 'b', 'ab', 'x.y', '*', '?', 'a*', '*b', 'a?', '[ab]', '**'];
const patternArb = fc
  .tuple(fc.boolean(), fc.array(fc.constantFrom(...SEGMENTS), { minLength: 1, maxLength: 3 }), fc.boolean())
  .map(([neg, segs, lead]) => `${neg ? '!' : ''}${lead ? '/' : ''}${segs.join('/')}`);
const pathArb = fc
  .array(fc.constantFrom('a', 'b', 'ab', 'x.y', 'ba'), { minLength: 1, maxLength: 4 })
  .map((s) => s.join('/'));

describe('properties', () => {
  test.prop([fc.array(patternArb, { minLength: 1, maxLength: 5 }), fc.array(pathArb, { minLength: 1, maxLength: 8 })])(
    'agrees with @balena/dockerignore (case-sensitive) where both implement moby',
    (patterns, paths) => {
      const ours = createIgnoreMatcher(parseDockerignore(patterns.join('\n')));
      const theirs = balena.default({ ignorecase: false }).add(patterns);
      for (const p of paths) expect(ours.ignores(p)).toBe(theirs.ignores(p));
    },
  );

  test.prop([
    fc.array(patternArb, { minLength: 1, maxLength: 5 }),
    pathArb,
    fc.array(pathArb, { minLength: 1, maxLength: 6 }),
  ])('a prunable directory has nothing below it that is kept', (patterns, dir, rests) => {
    const m = createIgnoreMatcher(patterns);
    if (!m.mayPruneDirectory(dir)) return;
    for (const rest of rests) expect(m.ignores(`${dir}/${rest}`)).toBe(true);
  });

  test.prop([
    fc.array(
      patternArb.filter((p) => !p.startsWith('!')),
      { minLength: 1, maxLength: 4 },
    ),
    pathArb,
  ])('without exceptions, every excluded directory is prunable', (patterns, dir) => {
    const m = createIgnoreMatcher(patterns, { alwaysInclude: [] });
    expect(m.mayPruneDirectory(dir)).toBe(m.ignores(dir));
  });
});
