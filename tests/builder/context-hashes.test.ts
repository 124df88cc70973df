/**
 * The context's file-hash cache: a hash from the last build is reused only while the file's
 * inode, size, mtime and ctime are all unchanged; files changed too recently to trust their
 * times (racy, as git calls them) are not kept; a build keeps the hashes in the store and the
 * next build of the same context takes unchanged files' hashes from there.
 */
import { describe, expect } from 'vitest';
import { test, it } from '../helpers/fixtures.js';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { openContext } from '../../src/builder/context.js';
import { build, openStore } from '../../src/index.js';
import { missFiles } from './helpers.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describe('context file hashes', () => {
  let tmp: string;
  let dir: string;
  test.beforeEach(({ tmp: fresh }) => {
    tmp = fresh;
    dir = join(tmp, 'ctx');
    fs.mkdirSync(dir);
    fs.writeFileSync(join(dir, 'a.txt'), 'aaaa');
    fs.writeFileSync(join(dir, 'b.txt'), 'bbbb');
  });

  it('reuses a kept hash while the stat matches, and hashes again when the file changed (same size)', async () => {
    const first = await openContext({ dir });
    first.walk('');
    expect(first.hash('a.txt')).toBe(sha('aaaa'));
    first.hash('b.txt');
    const kept = first.knownHashes({ racyMs: 0, now: Date.now() + 10_000 });
    expect(Object.keys(kept.files).sort()).toEqual(['a.txt', 'b.txt']);
    // A kept hash is trusted as long as the stat matches: a planted one shows it is not recomputed.
    kept.files['b.txt']!.sha256 = 'planted';
    const second = await openContext({ dir });
    second.seedHashes(kept);
    second.walk('');
    expect(second.hash('b.txt')).toBe('planted');
    // Same size, new content: ctime (and mtime) moved, so it is read again.
    fs.writeFileSync(join(dir, 'a.txt'), 'AAAA');
    const third = await openContext({ dir });
    third.seedHashes(kept);
    third.walk('');
    expect(third.hash('a.txt')).toBe(sha('AAAA'));
  });

  it('does not keep hashes of files changed within the racy window', async () => {
    const ctx = await openContext({ dir });
    ctx.walk('');
    ctx.hash('a.txt');
    expect(ctx.knownHashes({ now: Date.now() }).files).toEqual({}); // both written a moment ago
    expect(Object.keys(ctx.knownHashes({ now: Date.now() + 5_000 }).files)).toEqual(['a.txt']);
  });

  it('a build keeps the hashes in the store, and the next build of the context reads unchanged files from there', async () => {
    const store = await openStore({ root: join(tmp, 'store'), durable: false });
    // files older than the racy window, as a developer's rebuild finds them
    const old = (Date.now() - 60_000) / 1000;
    for (const f of ['a.txt', 'b.txt']) fs.utimesSync(join(dir, f), old, old);
    // the ctimes moved just now: a clock 5 s ahead lets them age past the racy window without waiting
    const df = { dockerfileText: 'FROM scratch\nCOPY . /x/\n', clock: () => Date.now() + 5_000 };
    await build({ store, context: dir, ...df });
    const [state] = store.listState('cache/context-hashes');
    const kept = JSON.parse(store.readState(`cache/context-hashes/${state}`)!.toString('utf8')) as {
      files: Record<string, { sha256: string }>;
    };
    expect(kept.files['a.txt']!.sha256).toBe(sha('aaaa'));
    // Plant another hash: a build that trusts the kept one sees a.txt as changed (one that read it would hit).
    kept.files['a.txt']!.sha256 = sha('planted');
    store.writeState(`cache/context-hashes/${state}`, JSON.stringify(kept));
    const again = await build({ store, context: dir, ...df });
    const copy = again.steps.find((s) => s.instruction.startsWith('COPY'))!;
    expect(copy.status).toBe('built');
    expect(missFiles(copy.explanation?.[0])).toEqual([expect.objectContaining({ path: 'a.txt', change: 'modified' })]);
  });
});
