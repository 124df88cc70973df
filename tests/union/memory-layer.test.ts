/** The in-memory LayerReader the union tests (and others) build layers with. */
import { describe, expect, it } from 'vitest';
import { test, fc } from '@fast-check/vitest';
import { sha256 } from '../../src/digest/digest.js';
import { createMemoryLayer } from '../../src/layer/memory-layer.js';

describe('createMemoryLayer', () => {
  const layer = createMemoryLayer({
    entries: [
      { path: '/etc/passwd', type: 'file', data: 'root\n' },
      { path: 'etc/', type: 'directory' },
      { path: 'bin', type: 'symlink', linkTarget: 'usr/bin' },
      { path: 'usr/bin/sh', type: 'file', data: new Uint8Array([1, 2, 3]), mode: 0o755, uid: 5, mtime: 7 },
      { path: 'etc/hard', type: 'hardlink', linkTarget: '/etc/passwd' },
    ],
    whiteouts: ['/old'],
    opaqueDirs: ['var/cache'],
  });

  it('fills defaults and computes size and sha256', () => {
    expect(layer.get('etc')).toEqual({
      path: 'etc',
      type: 'directory',
      mode: 0o755,
      uid: 0,
      gid: 0,
      mtime: 0,
      size: 0,
    });
    expect(layer.get('etc/passwd')).toEqual({
      path: 'etc/passwd',
      type: 'file',
      mode: 0o644,
      uid: 0,
      gid: 0,
      mtime: 0,
      size: 5,
      sha256: sha256('root\n'),
    });
    expect(layer.get('bin')?.mode).toBe(0o777);
    expect(layer.get('usr/bin/sh')).toMatchObject({ mode: 0o755, uid: 5, mtime: 7, size: 3 });
  });

  it('has whiteouts, opaque dirs, implicit parents and sorted children', () => {
    expect([layer.isWhiteout('old'), layer.isWhiteout('etc'), layer.isOpaque('var/cache')]).toEqual([
      true,
      false,
      true,
    ]);
    expect(layer.children('')).toEqual(['bin', 'etc', 'old', 'usr', 'var']);
    expect(layer.get('usr')).toBeUndefined();
    expect(layer.children('usr')).toEqual(['bin']);
    expect([...layer.entries()].map((e) => e.path)).toEqual(['bin', 'etc', 'etc/hard', 'etc/passwd', 'usr/bin/sh']);
    expect([...layer.whiteouts()]).toEqual(['old']);
    expect([...layer.opaqueDirs()]).toEqual(['var/cache']);
  });

  it('reads ranges, and hardlinks read their target', () => {
    expect(layer.readSync('etc/passwd', { position: 1, length: 3 }).toString()).toBe('oot');
    expect(layer.readSync('etc/hard').toString()).toBe('root\n');
    expect(() => layer.readSync('etc')).toThrow(expect.objectContaining({ code: 'ERR_NOT_FOUND' }));
  });

  it('refuses duplicates and ..', () => {
    expect(() =>
      createMemoryLayer({
        entries: [
          { path: 'a', type: 'file' },
          { path: '/a/', type: 'directory' },
        ],
      }),
    ).toThrow(expect.objectContaining({ code: 'ERR_LAYER_FORMAT' }));
    expect(() => createMemoryLayer({ entries: [{ path: 'a/../b', type: 'file' }] })).toThrow(
      expect.objectContaining({ code: 'ERR_UNSAFE_PATH' }),
    );
  });

  test.prop([fc.uniqueArray(fc.stringMatching(/^[a-c]{1,3}$/), { maxLength: 6 }), fc.string({ maxLength: 4 })])(
    'diffId depends on the content only (not on entry order)',
    (names, data) => {
      const entries = names.map((n) => ({ path: n, type: 'file' as const, data }));
      const a = createMemoryLayer({ entries }).diffId;
      expect(createMemoryLayer({ entries: [...entries].reverse() }).diffId).toBe(a);
      expect(createMemoryLayer({ entries: [...entries, { path: 'zz', type: 'file', data }] }).diffId).not.toBe(a);
    },
  );
});
