/**
 * The CLI's V8 code cache (src/cli/compile-cache.ts): CommonJS files of one folder compiled from
 * the bytecode an earlier process left, with the same results as without it, whatever the cache
 * holds (nothing, stale entries, garbage, a folder that cannot be written).
 */
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect } from 'vitest';
import { compileCacheDir, compileCacheKey } from '../../src/cli/compile-cache.js';
import { test } from '../helpers/fixtures.js';

/** Two CommonJS modules (`a.cjs` requires `b.cjs`) in `root`; `b` returns `value`. */
function writeModules(root: string, value: string): void {
  mkdirSync(root, { recursive: true });
  writeFileSync(
    join(root, 'a.cjs'),
    '"use strict";\nconst b = require("./b.cjs");\nexports.run = (x) => `a(${b.twice(x)}) ${__filename.endsWith("a.cjs")}`;\n',
  );
  writeFileSync(join(root, 'b.cjs'), `"use strict";\nexports.twice = (x) => x + x + ${JSON.stringify(value)};\n`);
}

const COMPILE_CACHE = fileURLToPath(new URL('../../src/cli/compile-cache.ts', import.meta.url));

/**
 * One CLI process's worth, in a child process (V8 would serve a second compile of the same source
 * in one process from its own in-memory cache): install, require `a.cjs`, call it, flush.
 */
function runOnce(root: string, dir: string | undefined, key = 'build') {
  const script = [
    `import { createRequire } from 'node:module';`,
    `import { installCompileCache } from ${JSON.stringify(COMPILE_CACHE)};`,
    `const cache = installCompileCache(${JSON.stringify({ root, dir, key })});`,
    `const result = createRequire(${JSON.stringify(join(root, 'x.cjs'))})('./a.cjs').run('x');`,
    'cache.flush();',
    'console.log(JSON.stringify({ result, hits: cache.hits, misses: cache.misses }));',
  ].join('\n');
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  const out = JSON.parse(r.stdout) as { result: string; hits: string[]; misses: string[] };
  const base = (files: string[]) => files.map((f) => f.slice(root.length + 1)).sort();
  return { result: out.result, hits: base(out.hits), misses: base(out.misses) };
}

const entries = (dir: string, key = 'build') => {
  const folder = join(dir, `${process.version}-${process.arch}`, key);
  return readdirSync(folder)
    .map((f) => f.replace(/\.\d+\.\d+$/, ''))
    .sort();
};

describe('compile cache', () => {
  test('a second process compiles from the cache and gets the same results', ({ tmp }) => {
    const root = join(tmp, 'dist');
    const dir = join(tmp, 'cache');
    writeModules(root, '1');
    expect(runOnce(root, dir)).toEqual({ result: 'a(xx1) true', hits: [], misses: ['a.cjs', 'b.cjs'] });
    expect(entries(dir)).toEqual(['a.cjs', 'b.cjs']);
    expect(runOnce(root, dir)).toEqual({ result: 'a(xx1) true', hits: ['a.cjs', 'b.cjs'], misses: [] });
    // Another command keeps entries of its own.
    expect(runOnce(root, dir, 'images').hits).toEqual([]);
    expect(entries(dir, 'images')).toEqual(['a.cjs', 'b.cjs']);
  });

  test('a changed file is compiled afresh and its old entry removed', ({ tmp }) => {
    const root = join(tmp, 'dist');
    const dir = join(tmp, 'cache');
    writeModules(root, '1');
    runOnce(root, dir);
    writeModules(root, '22');
    const r = runOnce(root, dir);
    expect(r.result).toBe('a(xx22) true');
    // a.cjs was rewritten with the same bytes but a new modification time: both are new entries.
    expect(r.misses).toEqual(['a.cjs', 'b.cjs']);
    expect(readdirSync(join(dir, `${process.version}-${process.arch}`, 'build'))).toHaveLength(2);
    expect(runOnce(root, dir).hits).toEqual(['a.cjs', 'b.cjs']);
  });

  test('garbage in an entry is rejected by V8, compiled afresh and rewritten', ({ tmp }) => {
    const root = join(tmp, 'dist');
    const dir = join(tmp, 'cache');
    writeModules(root, '1');
    runOnce(root, dir);
    const folder = join(dir, `${process.version}-${process.arch}`, 'build');
    const names = readdirSync(folder);
    for (const name of names) writeFileSync(join(folder, name), Buffer.alloc(200, 7));
    expect(runOnce(root, dir)).toEqual({ result: 'a(xx1) true', hits: [], misses: ['a.cjs', 'b.cjs'] });
    for (const name of names) expect(readFileSync(join(folder, name)).equals(Buffer.alloc(200, 7))).toBe(false);
    expect(runOnce(root, dir).hits).toEqual(['a.cjs', 'b.cjs']);
  });

  test('an entry others may write is not used, and is replaced by one only the user may write', ({ tmp }) => {
    const root = join(tmp, 'dist');
    const dir = join(tmp, 'cache');
    writeModules(root, '1');
    runOnce(root, dir);
    const folder = join(dir, `${process.version}-${process.arch}`, 'build');
    const names = readdirSync(folder);
    for (const name of names) chmodSync(join(folder, name), 0o666);
    expect(runOnce(root, dir)).toEqual({ result: 'a(xx1) true', hits: [], misses: ['a.cjs', 'b.cjs'] });
    for (const name of names) expect(statSync(join(folder, name)).mode & 0o077).toBe(0);
    expect(statSync(folder).mode & 0o077).toBe(0);
    expect(runOnce(root, dir).hits).toEqual(['a.cjs', 'b.cjs']);
  });

  test('a cache that cannot be written changes nothing but speed', ({ tmp }) => {
    const root = join(tmp, 'dist');
    writeModules(root, '1');
    const blocked = join(tmp, 'file');
    writeFileSync(blocked, 'not a folder');
    expect(runOnce(root, join(blocked, 'cache'))).toEqual({
      result: 'a(xx1) true',
      hits: [],
      misses: ['a.cjs', 'b.cjs'],
    });
    expect(runOnce(root, undefined)).toEqual({ result: 'a(xx1) true', hits: [], misses: [] });
  });

  test('only the CommonJS files directly in the root go through it', ({ tmp }) => {
    const root = join(tmp, 'dist');
    const dir = join(tmp, 'cache');
    writeModules(join(root, 'sub'), '1');
    writeFileSync(join(root, 'a.cjs'), 'exports.run = (x) => require("./sub/a.cjs").run(x);\n');
    expect(runOnce(root, dir)).toEqual({ result: 'a(xx1) true', hits: [], misses: ['a.cjs'] });
  });

  test.each([
    [{}, undefined],
    [{ HOME: '/home/u' }, '/home/u/.cache/layerkit/compile'],
    [{ HOME: '/home/u', XDG_CACHE_HOME: '/xdg' }, '/xdg/layerkit/compile'],
    [{ HOME: '/home/u', LAYERKIT_COMPILE_CACHE: '/c' }, '/c'],
    [{ HOME: '/home/u', LAYERKIT_COMPILE_CACHE: '0' }, undefined],
    [{ HOME: '/home/u', LAYERKIT_COMPILE_CACHE: 'off' }, undefined],
  ])('compileCacheDir(%o) is %s', (env, dir) => {
    expect(compileCacheDir(env)).toBe(dir);
  });

  test.each([
    [['--version'], 'main'],
    [[], 'main'],
    [['build', '-t', 'x', '.'], 'build'],
    [['--store', '/s', 'run', '--rm', 'img', 'true'], 'run'],
    [['--debug', 'images'], 'images'],
    [['../evil'], 'other'],
    [['build', '--help'], 'help'],
    [['-h'], 'help'],
    [['run', 'img', 'ls', '-h'], 'run'],
  ])('compileCacheKey(%o) is %s', (argv, key) => {
    expect(compileCacheKey(argv)).toBe(key);
  });
});
