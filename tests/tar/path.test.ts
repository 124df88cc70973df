import { describe, expect, it } from 'vitest';
import { test, fc } from '@fast-check/vitest';
import {
  baseName,
  compareTarPaths,
  joinPath,
  normalizeEntryPath,
  normalizeLinkTarget,
  parentPath,
} from '../../src/tar/path.js';
import { isLayerkitError } from '../../src/errors.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return isLayerkitError(err) ? err.code : 'not a LayerkitError';
  }
}

describe('normalizeEntryPath', () => {
  it.each([
    ['', ''],
    ['.', ''],
    ['./', ''],
    ['/', ''],
    ['//', ''],
    ['./.', ''],
    ['././/./', ''],
    ['a', 'a'],
    ['./a', 'a'],
    ['/a', 'a'],
    ['a/', 'a'],
    ['//a//b/', 'a/b'],
    ['////x', 'x'],
    ['a/./b', 'a/b'],
    ['a/../b', 'b'],
    ['a/b/../../c', 'c'],
    ['a/b/..', 'a'],
    ['a/..', ''],
    ['usr/bin/env', 'usr/bin/env'],
    ['etc/.wh..wh..opq', 'etc/.wh..wh..opq'],
    ['a\\..\\..\\b', 'a\\..\\..\\b'],
    ['...', '...'],
    ['..a/.b', '..a/.b'],
    ['caf\u00e9', 'caf\u00e9'],
    ['cafe\u0301', 'cafe\u0301'],
  ])('%j -> %j', (input, output) => {
    expect(normalizeEntryPath(input)).toBe(output);
  });

  it.each(['..', '../a', 'a/../../b', '/..', '/../a', './..', 'a/b/../../..', '../'])(
    'refuses %j as unsafe',
    (input) => {
      expect(codeOf(() => normalizeEntryPath(input))).toBe('ERR_UNSAFE_PATH');
    },
  );

  it('refuses NUL bytes and names the entry', () => {
    expect(() => normalizeEntryPath('a\0b')).toThrow(/'a\\x00b' holds a NUL byte/);
    expect(codeOf(() => normalizeEntryPath('a\0b'))).toBe('ERR_UNSAFE_PATH');
  });

  it('names the entry with `what`', () => {
    expect(() => normalizeEntryPath('../x', { what: "hardlink target of entry 'y'" })).toThrow(
      /^hardlink target of entry 'y' climbs above the layer root/,
    );
  });

  it('enforces depth and length limits', () => {
    const deep = Array.from({ length: 1025 }, () => 'a').join('/');
    expect(codeOf(() => normalizeEntryPath(deep))).toBe('ERR_LIMIT_EXCEEDED');
    expect(normalizeEntryPath(deep.slice(2))).toHaveLength(2047);
    expect(codeOf(() => normalizeEntryPath('a/b/c', { maxDepth: 2 }))).toBe('ERR_LIMIT_EXCEEDED');
    expect(normalizeEntryPath('./a/b/', { maxDepth: 2 })).toBe('a/b');
    expect(normalizeEntryPath('x'.repeat(4096))).toHaveLength(4096);
    expect(codeOf(() => normalizeEntryPath('x'.repeat(4097)))).toBe('ERR_LIMIT_EXCEEDED');
    // The limit counts UTF-8 bytes, not UTF-16 code units.
    expect(codeOf(() => normalizeEntryPath('\u00e9'.repeat(2049)))).toBe('ERR_LIMIT_EXCEEDED');
    expect(normalizeEntryPath('\u00e9'.repeat(2048))).toHaveLength(2048);
  });

  const component = fc.oneof(
    fc.constantFrom('', '.', '..', 'a', 'b', '.wh.x', 'caf\u00e9', '...'),
    fc.string({ minLength: 1, maxLength: 4 }).filter((s) => !s.includes('/') && !s.includes('\0')),
  );
  const rawPath = fc
    .tuple(fc.boolean(), fc.array(component, { maxLength: 8 }))
    .map(([abs, parts]) => (abs ? '/' : '') + parts.join('/'));

  test.prop([rawPath])('is idempotent, relative and never contains . or .. components', (raw) => {
    let out: string;
    try {
      out = normalizeEntryPath(raw);
    } catch (err) {
      expect(isLayerkitError(err, 'ERR_UNSAFE_PATH')).toBe(true);
      return;
    }
    expect(normalizeEntryPath(out)).toBe(out);
    expect(out.startsWith('/')).toBe(false);
    expect(out.endsWith('/')).toBe(false);
    if (out !== '') for (const part of out.split('/')) expect(['', '.', '..']).not.toContain(part);
  });

  test.prop([rawPath])('agrees with a reference stack resolver', (raw) => {
    const stack: string[] = [];
    let escapes = false;
    for (const part of raw.split('/')) {
      if (part === '' || part === '.') continue;
      if (part === '..') {
        if (stack.length === 0) escapes = true;
        else stack.pop();
      } else stack.push(part);
      if (escapes) break;
    }
    if (escapes) expect(codeOf(() => normalizeEntryPath(raw))).toBe('ERR_UNSAFE_PATH');
    else expect(normalizeEntryPath(raw)).toBe(stack.join('/'));
  });
});

describe('normalizeLinkTarget', () => {
  it.each([
    ['etc/passwd', 'etc/passwd'],
    ['/etc/passwd', 'etc/passwd'],
    ['./a/../b', 'b'],
  ])('%j -> %j (absolute targets are relative to the layer root)', (input, output) => {
    expect(normalizeLinkTarget(input)).toBe(output);
  });

  it('refuses escapes and the root', () => {
    expect(codeOf(() => normalizeLinkTarget('../../etc/passwd'))).toBe('ERR_UNSAFE_PATH');
    expect(codeOf(() => normalizeLinkTarget('/../etc'))).toBe('ERR_UNSAFE_PATH');
    expect(codeOf(() => normalizeLinkTarget('/'))).toBe('ERR_LAYER_FORMAT');
    expect(codeOf(() => normalizeLinkTarget(''))).toBe('ERR_LAYER_FORMAT');
  });
});

describe('path helpers', () => {
  it.each([
    ['', 'a', 'a'],
    ['a', 'b', 'a/b'],
    ['a/b', 'c', 'a/b/c'],
    ['a', '', 'a'],
  ])('joinPath(%j, %j) = %j', (dir, name, out) => {
    expect(joinPath(dir, name)).toBe(out);
  });

  it.each([
    ['', '', ''],
    ['a', '', 'a'],
    ['a/b', 'a', 'b'],
    ['a/b/c', 'a/b', 'c'],
  ])('parentPath/baseName of %j', (path, parent, base) => {
    expect(parentPath(path)).toBe(parent);
    expect(baseName(path)).toBe(base);
    if (path !== '') expect(joinPath(parentPath(path), baseName(path))).toBe(path);
  });
});

describe('compareTarPaths', () => {
  it('puts parents right before their children, with / sorting as byte 0', () => {
    const paths = [
      'a-b',
      'a/b',
      'a',
      'a.txt',
      'a/b/c',
      'b',
      'a0',
      '',
      'A',
      'a/\u00e9',
      'a/z',
      'a/\u{1f600}',
      'a/\uffff',
    ];
    expect([...paths].sort(compareTarPaths)).toEqual([
      '',
      'A',
      'a',
      'a/b',
      'a/b/c',
      'a/z',
      'a/\u00e9',
      'a/\uffff',
      'a/\u{1f600}',
      'a-b',
      'a.txt',
      'a0',
      'b',
    ]);
  });

  test.prop([fc.array(fc.string({ unit: 'grapheme', maxLength: 6 }), { maxLength: 20 })])(
    'matches a byte comparison of UTF-8 with / replaced by NUL',
    (paths) => {
      const key = (p: string): Buffer => Buffer.from(p.replaceAll('/', '\0'), 'utf8');
      const expected = [...paths].sort((a, b) => Buffer.compare(key(a), key(b)));
      expect([...paths].sort(compareTarPaths)).toEqual(expected);
    },
  );
});
