/**
 * The registry sources of blobs (where a push may mount a blob from) have an owner like every other
 * kind of store state: versioned files, the unversioned ones of earlier releases still read (and
 * replaced on the next write), a newer version refused by name, a damaged file read as no hint, and
 * gc sweeping the files of blobs that are gone.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect } from 'vitest';
import { sha256 } from '../../src/digest/digest.js';
import { importImage } from '../../src/image/import.js';
import { gcStore } from '../../src/maintenance/gc-store.js';
import { blobSources, REGISTRY_SOURCES_STATE, rememberBlobSources } from '../../src/registry/sources.js';
import { test } from '../helpers/fixtures.js';

const HELLO = new URL('../../fixtures/images/hello.oci.tar', import.meta.url).pathname;
const GONE = sha256('a blob that is not in the store');

describe('registry sources', () => {
  test('are written with a version, most recent first, and read back', async ({ diskStore: store }) => {
    rememberBlobSources(store, [GONE], 'r.example', 'a/b');
    rememberBlobSources(store, [GONE], 'r.example', 'c/d');
    expect(blobSources(store, GONE)).toEqual(['r.example/c/d', 'r.example/a/b']);
    const file = store.statePath(REGISTRY_SOURCES_STATE, `${GONE.slice(7)}.json`);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({
      version: 1,
      repositories: ['r.example/c/d', 'r.example/a/b'],
    });
  });

  test('read the unversioned files of earlier releases, and replace them on the next write', async ({
    diskStore: store,
  }) => {
    const legacy = store.statePath(REGISTRY_SOURCES_STATE, GONE.slice(7));
    store.fs.mkdirSync(store.statePath(REGISTRY_SOURCES_STATE), { recursive: true });
    writeFileSync(legacy, JSON.stringify(['r.example/old/repo']));
    expect(blobSources(store, GONE)).toEqual(['r.example/old/repo']);
    rememberBlobSources(store, [GONE], 'r.example', 'new/repo');
    expect(blobSources(store, GONE)).toEqual(['r.example/new/repo', 'r.example/old/repo']);
    expect(store.fs.existsSync(legacy)).toBe(false);
  });

  test('refuse a newer version by name; a damaged file is no hint', async ({ diskStore: store }) => {
    rememberBlobSources(store, [GONE], 'r.example', 'a/b');
    const file = store.statePath(REGISTRY_SOURCES_STATE, `${GONE.slice(7)}.json`);
    writeFileSync(file, JSON.stringify({ version: 2, repositories: [] }));
    expect(() => blobSources(store, GONE)).toThrow(
      expect.objectContaining({ code: 'ERR_UNSUPPORTED', data: expect.objectContaining({ path: file }) }),
    );
    writeFileSync(file, '{"version":1,"repos');
    expect(blobSources(store, GONE)).toEqual([]);
  });

  test('are swept by gc once their blob is gone', async ({ diskStore: store }) => {
    const { images } = await importImage({ store, source: HELLO, tags: ['hello'] });
    const kept = images[0]!.image.descriptor.digest;
    rememberBlobSources(store, [kept, GONE], 'r.example', 'a/b');
    await gcStore({ store });
    expect(blobSources(store, kept)).toEqual(['r.example/a/b']);
    expect(blobSources(store, GONE)).toEqual([]);
    expect(store.fs.readdirSync(store.statePath(REGISTRY_SOURCES_STATE))).toEqual([`${kept.slice(7)}.json`]);
  });
});
