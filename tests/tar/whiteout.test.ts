import { describe, expect, it } from 'vitest';
import { test, fc } from '@fast-check/vitest';
import {
  classifyWhiteout,
  OPAQUE_MARKER,
  opaqueMarkerFor,
  WHITEOUT_PREFIX,
  whiteoutPathFor,
} from '../../src/tar/whiteout.js';
import { isLayerkitError } from '../../src/errors.js';

describe('classifyWhiteout', () => {
  it('has the OCI names', () => {
    expect(WHITEOUT_PREFIX).toBe('.wh.');
    expect(OPAQUE_MARKER).toBe('.wh..wh..opq');
  });

  it.each([
    ['etc/passwd', undefined],
    ['', undefined],
    ['.wh.foo', { kind: 'whiteout', target: 'foo' }],
    ['a/b/.wh.c', { kind: 'whiteout', target: 'a/b/c' }],
    ['a/.wh..hidden', { kind: 'whiteout', target: 'a/.hidden' }],
    ['a/.wh....', { kind: 'whiteout', target: 'a/...' }],
    ['.wh..wh..opq', { kind: 'opaque', dir: '' }],
    ['a/b/.wh..wh..opq', { kind: 'opaque', dir: 'a/b' }],
    ['.wh..wh.plnk', { kind: 'aufs-meta' }],
    ['.wh..wh.plnk/123.456', { kind: 'aufs-meta' }],
    ['.wh..wh.plnk/.wh.x', { kind: 'aufs-meta' }],
    ['.wh..wh.aufs', { kind: 'aufs-meta' }],
    ['a/.wh..wh.orph', { kind: 'aufs-meta' }],
    ['a/x.wh.y', undefined],
    ['a/.wh.b/c', undefined],
  ])('%j -> %j', (path, expected) => {
    expect(classifyWhiteout(path)).toEqual(expected);
  });

  it.each(['.wh.', 'a/.wh.', '.wh..', 'a/.wh..', '.wh...', 'a/b/.wh...'])('refuses %j', (path) => {
    let error: unknown;
    try {
      classifyWhiteout(path);
    } catch (err) {
      error = err;
    }
    expect(isLayerkitError(error, 'ERR_LAYER_FORMAT')).toBe(true);
    expect((error as Error).message).toContain(`'${path}'`);
  });
});

describe('whiteoutPathFor / opaqueMarkerFor', () => {
  it.each([
    ['a', '.wh.a'],
    ['a/b', 'a/.wh.b'],
    ['x/y/z.txt', 'x/y/.wh.z.txt'],
  ])('%j -> %j', (target, path) => {
    expect(whiteoutPathFor(target)).toBe(path);
    expect(classifyWhiteout(path)).toEqual({ kind: 'whiteout', target });
  });

  it('refuses the root and reserved names', () => {
    expect(() => whiteoutPathFor('')).toThrow(expect.objectContaining({ code: 'ERR_UNSAFE_PATH' }));
    expect(() => whiteoutPathFor('a/.wh.b')).toThrow(expect.objectContaining({ code: 'ERR_LAYER_FORMAT' }));
  });

  it('builds opaque markers, including for the root', () => {
    expect(opaqueMarkerFor('')).toBe('.wh..wh..opq');
    expect(opaqueMarkerFor('a/b')).toBe('a/b/.wh..wh..opq');
    expect(classifyWhiteout(opaqueMarkerFor('a/b'))).toEqual({ kind: 'opaque', dir: 'a/b' });
  });

  const name = fc
    .string({ minLength: 1, maxLength: 6 })
    .filter((s) => !s.includes('/') && s !== '.' && s !== '..' && !s.startsWith('.wh.'));
  test.prop([fc.array(name, { minLength: 1, maxLength: 4 })])(
    'whiteoutPathFor and classifyWhiteout are inverse',
    (parts) => {
      const target = parts.join('/');
      expect(classifyWhiteout(whiteoutPathFor(target))).toEqual({ kind: 'whiteout', target });
    },
  );
});
