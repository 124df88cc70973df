/**
 * Build memos (src/builder/build-memo.ts): a memo is written only after a build served entirely
 * from the cache whose inputs are old enough and whose store kept still, and it answers only while
 * nothing the build read has changed. Each way of changing an input is a row; each must make the
 * memo answer nothing. Memos go with the cache records they summarise, are bounded in number, and
 * a damaged one is a miss for the build and a reported problem for gc and verify.
 */
import {
  appendFileSync,
  chmodSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { test } from '../helpers/fixtures.js';
import { build } from '../../src/builder/build.js';
import {
  BUILD_MEMO_MAX_AGE_MS,
  buildMemoKey,
  findBuildMemo,
  MAX_BUILD_MEMOS,
  saveBuildMemo,
  startBuildMemo,
} from '../../src/builder/build-memo.js';
import { BUILD_MEMOS } from '../../src/builder/build-memo-state.js';
import { listCacheRecords, removeCacheRecord } from '../../src/builder/cache.js';
import type { BuildResult } from '../../src/builder/types.js';
import { gcStore } from '../../src/maintenance/gc-store.js';
import { verifyStore } from '../../src/maintenance/verify-store.js';
import type { Store } from '../../src/store/store.js';
import { makeBaseImage, makeContext } from './helpers.js';

const DOCKERFILE = 'FROM base:1\nCOPY . /app/\nRUN echo built > /built\nENV DONE=1\n';
const OUTPUT: Array<[1 | 2, string]> = [
  [2, '#1 [1/3] FROM base:1\n'],
  [1, 'built\n'],
];

/** A store with the base image and a context folder whose files are older than any build. */
async function setUp(store: Store, tmp: string): Promise<{ dir: string; key: string }> {
  await makeBaseImage({ store, tag: 'base:1' });
  const { dir } = makeContext(tmp, { Dockerfile: DOCKERFILE, 'a.txt': 'alpha\n', 'sub/b.txt': 'beta\n' });
  return { dir, key: buildMemoKey({ store, request: { options: { argv: ['build', dir] }, cwd: tmp, env: {} } }) };
}

/** Builds and, unless the build refuses it, writes the memo; returns the result and what saving said. */
async function buildAndSave(store: Store, dir: string, key: string, racyMs = 0) {
  const start = startBuildMemo({ store });
  const result = await build({ store, context: dir, tags: ['app:1'] });
  return { result, saved: saveBuildMemo({ store, key, start, result, tags: ['app:1'], output: OUTPUT, racyMs }) };
}

describe('writing a memo', () => {
  test('only after a build served entirely from the cache', async ({ diskStore: store, tmp }) => {
    const { dir, key } = await setUp(store, tmp);
    const first = await buildAndSave(store, dir, key);
    expect(first.saved).toEqual({ saved: false, why: expect.stringContaining('a step was built') });
    expect(findBuildMemo({ store, key })).toBeUndefined();
    const second = await buildAndSave(store, dir, key);
    expect(second.saved).toEqual({ saved: true });
    expect(findBuildMemo({ store, key })).toEqual({
      output: OUTPUT,
      image: second.result.image.descriptor.digest,
      finished: expect.any(String),
    });
    // A fully cached build gives the image it gave before.
    expect(second.result.image.descriptor.digest).toBe(first.result.image.descriptor.digest);
    // Another request (another key) finds nothing.
    expect(findBuildMemo({ store, key: key.replace(/^./, (c) => (c === '0' ? '1' : '0')) })).toBeUndefined();
  });

  test('not when an input changed within the racy window before the build', async ({ diskStore: store, tmp }) => {
    const { dir, key } = await setUp(store, tmp);
    await build({ store, context: dir, tags: ['app:1'] });
    const { saved } = await buildAndSave(store, dir, key, 60_000);
    expect(saved).toEqual({ saved: false, why: expect.stringContaining('changed too recently') });
    expect(BUILD_MEMOS.names(store)).toEqual([]);
  });

  test('not when another tag of the store moved while the build ran', async ({ diskStore: store, tmp }) => {
    const { dir, key } = await setUp(store, tmp);
    await build({ store, context: dir, tags: ['app:1'] });
    const start = startBuildMemo({ store });
    const result = await build({ store, context: dir, tags: ['app:1'] });
    // Another process retags the base between the build's start and its memo.
    await store.tag('other:1', store.resolveRef('base:1').descriptor);
    const saved = saveBuildMemo({ store, key, start, result, tags: ['app:1'], output: OUTPUT, racyMs: 0 });
    expect(saved).toEqual({ saved: false, why: expect.stringContaining("changed the store's tags") });
  });

  test(`at most ${MAX_BUILD_MEMOS} are kept, the least recently written go first`, async ({
    diskStore: store,
    tmp,
  }) => {
    const { dir, key } = await setUp(store, tmp);
    await build({ store, context: dir, tags: ['app:1'] });
    const { result } = await buildAndSave(store, dir, key);
    BUILD_MEMOS.remove(store, key.slice(0, 32));
    const keys = Array.from({ length: MAX_BUILD_MEMOS + 3 }, (_, i) =>
      buildMemoKey({ store, request: { options: { i }, cwd: tmp, env: {} } }),
    );
    for (const [i, k] of keys.entries()) {
      const start = { started: Date.now(), index: store.readIndexText() };
      expect(saveBuildMemo({ store, key: k, start, result, tags: ['app:1'], output: OUTPUT, racyMs: 0 }).saved).toBe(
        true,
      );
      // Distinct write times, so that "least recently written" is well defined.
      const file = BUILD_MEMOS.path(store, k.slice(0, 32));
      utimesSync(file, 1_000_000 + i, 1_000_000 + i);
    }
    expect(BUILD_MEMOS.names(store)).toHaveLength(MAX_BUILD_MEMOS);
    for (const k of keys.slice(0, 3)) expect(findBuildMemo({ store, key: k })).toBeUndefined();
    for (const k of keys.slice(3)) expect(findBuildMemo({ store, key: k })).toBeDefined();
  });
});

/** One way to change what a remembered build read. */
interface Change {
  name: string;
  change: (o: { store: Store; dir: string; result: BuildResult }) => Promise<void> | void;
}

const CHANGES: Change[] = [
  {
    name: 'a file rewritten with the same size and its old mtime',
    change: ({ dir }) => {
      const file = join(dir, 'a.txt');
      const { atime, mtime } = statSync(file);
      writeFileSync(file, 'ALPHA\n');
      utimesSync(file, atime, mtime);
    },
  },
  { name: 'a file added in a subfolder', change: ({ dir }) => writeFileSync(join(dir, 'sub', 'c.txt'), 'c\n') },
  { name: 'a file removed', change: ({ dir }) => rmSync(join(dir, 'sub', 'b.txt')) },
  { name: 'the Dockerfile edited', change: ({ dir }) => appendFileSync(join(dir, 'Dockerfile'), 'LABEL x=1\n') },
  { name: 'an ignore file created', change: ({ dir }) => writeFileSync(join(dir, '.dockerignore'), 'sub\n') },
  { name: "a file's mode changed", change: ({ dir }) => chmodSync(join(dir, 'a.txt'), 0o600) },
  {
    name: 'the base tag moved',
    change: async ({ store }) => {
      await makeBaseImage({ store, tag: 'base:1', files: { 'etc/motd': 'another base\n' } });
    },
  },
  {
    name: 'the result tag moved',
    change: async ({ store }) => {
      await store.tag('app:1', store.resolveRef('base:1').descriptor);
    },
  },
  {
    name: "one of the result's blobs is gone",
    change: ({ store, result }) => {
      rmSync(store.blobs.path(result.image.manifest.layers.at(-1)!.digest));
    },
  },
  {
    name: 'a cache record removed',
    change: ({ store }) => {
      removeCacheRecord(store, listCacheRecords(store)[0]!.key);
    },
  },
  {
    name: `${BUILD_MEMO_MAX_AGE_MS / 60_000} minutes passed`,
    change: ({ store }) => {
      const [name] = BUILD_MEMOS.names(store);
      const memo = BUILD_MEMOS.read(store, name!)!;
      BUILD_MEMOS.write(store, name!, {
        ...memo,
        finished: new Date(Date.now() - BUILD_MEMO_MAX_AGE_MS - 1000).toISOString(),
      });
    },
  },
  {
    name: 'the clock set back before the memo was written',
    change: ({ store }) => {
      const [name] = BUILD_MEMOS.names(store);
      const memo = BUILD_MEMOS.read(store, name!)!;
      BUILD_MEMOS.write(store, name!, { ...memo, finished: new Date(Date.now() + 60_000).toISOString() });
    },
  },
  {
    name: 'gc --prune-cache',
    change: async ({ store }) => {
      await gcStore({ store, pruneCache: true });
    },
  },
];

describe('a memo answers nothing once an input changed', () => {
  test.for(CHANGES)('$name', async ({ change }, { diskStore: store, tmp }) => {
    const { dir, key } = await setUp(store, tmp);
    await build({ store, context: dir, tags: ['app:1'] });
    const { result, saved } = await buildAndSave(store, dir, key);
    expect(saved.saved).toBe(true);
    expect(findBuildMemo({ store, key })).toBeDefined();
    await change({ store, dir, result });
    expect(findBuildMemo({ store, key })).toBeUndefined();
  });
});

describe('a context named through a symlink', () => {
  test('retargeted to another folder, the memo answers nothing', async ({ diskStore: store, tmp }) => {
    const { dir, key } = await setUp(store, tmp);
    const other = makeContext(tmp, { Dockerfile: DOCKERFILE, 'a.txt': 'another alpha\n', 'sub/b.txt': 'beta\n' });
    const link = join(tmp, 'current');
    symlinkSync(dir, link);
    await build({ store, context: link, tags: ['app:1'] });
    const start = startBuildMemo({ store });
    const result = await build({ store, context: link, tags: ['app:1'] });
    expect(result.inputs).toContain(link);
    expect(saveBuildMemo({ store, key, start, result, tags: ['app:1'], output: OUTPUT, racyMs: 0 }).saved).toBe(true);
    expect(findBuildMemo({ store, key })).toBeDefined();
    rmSync(link);
    symlinkSync(other.dir, link);
    expect(findBuildMemo({ store, key })).toBeUndefined();
  });
});

describe('a damaged memo', () => {
  test('is a miss for the build, and a problem gc and verify name', async ({ diskStore: store, tmp }) => {
    const { dir, key } = await setUp(store, tmp);
    await build({ store, context: dir, tags: ['app:1'] });
    await buildAndSave(store, dir, key);
    const [name] = readdirSync(store.statePath(BUILD_MEMOS.folder));
    const file = join(store.statePath(BUILD_MEMOS.folder), name!);
    truncateSync(file, 10);
    expect(findBuildMemo({ store, key })).toBeUndefined();
    const corrupt = expect.objectContaining({
      code: 'ERR_STORE_CORRUPT',
      data: expect.objectContaining({ path: file }),
    });
    await expect(gcStore({ store })).rejects.toThrow(corrupt);
    const report = await verifyStore({ store });
    expect(report.problems.some((p) => p.code === 'ERR_STORE_CORRUPT' && p.message.includes(file))).toBe(true);
    // The next fully cached build writes a sound one over it.
    expect((await buildAndSave(store, dir, key)).saved).toEqual({ saved: true });
    expect(findBuildMemo({ store, key })).toBeDefined();
  });
});
