import { afterEach, beforeEach, describe, expect } from 'vitest';
import { it } from '../helpers/fixtures.js';
import { spawn } from 'node:child_process';
import { sha256, type Digest } from '../../src/digest/digest.js';
import { isLayerkitError } from '../../src/errors.js';
import { MediaTypes } from '../../src/oci/media-types.js';
import type { Descriptor } from '../../src/oci/types.js';
import { openStore, type Store } from '../../src/store/store.js';
import { resolveInIndex } from '../../src/store/refs.js';
import { STORE_KINDS } from '../helpers/stores.js';

async function manifest(store: Store, label: string): Promise<Descriptor> {
  const { digest, size } = await store.blobs.put(JSON.stringify({ schemaVersion: 2, label }));
  return { mediaType: MediaTypes.ociManifest, digest, size };
}

describe.each(STORE_KINDS)('refs ($name store)', (kind) => {
  let store: Store;
  let cleanup: () => void;
  beforeEach(async () => {
    ({ store, cleanup } = await kind.make());
  });
  afterEach(() => cleanup());

  it('writes the full reference and resolves every spelling of it', async () => {
    const m = await manifest(store, 'a');
    await store.tag('app', m);
    expect(store.listRefs().map((r) => r.name)).toEqual(['app:latest']);
    for (const q of [
      'app',
      'app:latest',
      'docker.io/library/app',
      'docker.io/library/app:latest',
      m.digest,
      m.digest.slice(0, 12),
      m.digest.slice(7, 15),
    ]) {
      expect(store.resolveRef(q).descriptor.digest).toBe(m.digest);
    }
    expect(store.resolveRef('app').names).toEqual(['app:latest']);
  });

  it('reads bare tags written by containerd / Docker 25+ and umoci', async () => {
    const m = await manifest(store, 'b');
    await store.updateIndex((index) => ({
      index: {
        ...index,
        manifests: [...index.manifests, { ...m, annotations: { 'org.opencontainers.image.ref.name': 'base' } }],
      },
      result: undefined,
    }));
    expect(store.resolveRef('base').descriptor.digest).toBe(m.digest);
  });

  it('retagging moves the name (rollback) and keeps other names', async () => {
    const v1 = await manifest(store, 'v1');
    const v2 = await manifest(store, 'v2');
    await store.tag('app:1', v1);
    await store.tag('app:current', v1);
    await store.tag('app:current', v2);
    expect(store.resolveRef('app:current').descriptor.digest).toBe(v2.digest);
    await store.tag('app:current', v1);
    expect(store.resolveRef('app:current').descriptor.digest).toBe(v1.digest);
    expect(store.resolveRef('app:current').names.sort()).toEqual(['app:1', 'app:current']);
    expect(store.listRefs()).toHaveLength(2);
  });

  it('untag removes only that name; unknown names are ERR_NOT_FOUND', async () => {
    const m = await manifest(store, 'c');
    await store.tag('x:1', m);
    await store.tag('y:1', m);
    await store.untag('x:1');
    expect(store.listRefs().map((r) => r.name)).toEqual(['y:1']);
    const err = await store.untag('x:1').catch((e: unknown) => e);
    expect(isLayerkitError(err, 'ERR_NOT_FOUND')).toBe(true);
    expect(() => store.resolveRef('nope')).toThrow(/no image named "nope"/);
  });

  it('refuses to tag a blob the store does not have', async () => {
    const err = await store
      .tag('ghost', { mediaType: MediaTypes.ociManifest, digest: sha256('ghost'), size: 5 })
      .catch((e: unknown) => e);
    expect(isLayerkitError(err, 'ERR_NOT_FOUND')).toBe(true);
    expect(store.listRefs()).toEqual([]);
  });

  it('keeps index.json entries it does not understand when rewriting', async () => {
    const odd = { mediaType: 'application/vnd.example.thing+json', digest: sha256('x') as Digest, size: 1 };
    await store.updateIndex((index) => ({ index: { ...index, manifests: [odd] }, result: undefined }));
    await store.tag('app', await manifest(store, 'd'));
    expect(store.readIndex().manifests[0]).toEqual(odd);
  });

  it('an index.json that is not JSON is ERR_STORE_CORRUPT naming the file, and tagging changes nothing', async () => {
    const file = `${store.root}/index.json`;
    store.fs.writeFileSync(file, '{ not json');
    expect(() => store.readIndex()).toThrow(
      expect.objectContaining({ code: 'ERR_STORE_CORRUPT', message: expect.stringContaining('index.json') }),
    );
    const m = await manifest(store, 'e');
    await expect(store.tag('app', m)).rejects.toThrow(/not valid JSON/);
    expect(store.fs.readFileSync(file, 'utf8')).toBe('{ not json');
  });

  it('takes over a lock left by a dead process', async () => {
    store.fs.mkdirSync(store.statePath('locks'), { recursive: true });
    store.fs.writeFileSync(
      store.statePath('locks', 'index.lock'),
      JSON.stringify({ pid: 2 ** 22 + 12345, host: (await import('node:os')).hostname(), since: 'long ago' }),
    );
    await store.tag('app', await manifest(store, 'f'));
    expect(store.listRefs()).toHaveLength(1);
    expect(store.fs.existsSync(store.statePath('locks', 'index.lock'))).toBe(false);
  });

  it('serialises concurrent tag calls in one process', async () => {
    const ms = await Promise.all(Array.from({ length: 20 }, (_, i) => manifest(store, `c${i}`)));
    await Promise.all(ms.map((m, i) => store.tag(`app:${i}`, m)));
    expect(store.listRefs()).toHaveLength(20);
  });
});

describe('resolveInIndex', () => {
  const d = (hex: string) => ({
    mediaType: MediaTypes.ociManifest,
    digest: `sha256:${hex.padEnd(64, '0')}` as Digest,
    size: 1,
  });
  const index = { schemaVersion: 2 as const, manifests: [d('abcd1'), d('abcd2'), d('ffff')] };
  it.each([
    ['abcd', 'ERR_AMBIGUOUS_REF'],
    ['sha256:abcd', 'ERR_AMBIGUOUS_REF'],
    ['abcd1', d('abcd1').digest],
    ['sha256:ffff', d('ffff').digest],
    ['abc', undefined],
    ['0000', undefined],
  ])('%s -> %s', (query, expected) => {
    if (expected === 'ERR_AMBIGUOUS_REF') {
      expect(() => resolveInIndex(index, query)).toThrow(expect.objectContaining({ code: 'ERR_AMBIGUOUS_REF' }));
    } else {
      expect(resolveInIndex(index, query)?.descriptor.digest).toBe(expected);
    }
  });
});

describe('refs across processes', () => {
  it('concurrent taggers in separate processes all land (index.json is replaced under the lock)', async ({ tmp }) => {
    const root = `${tmp}/store`;
    await openStore({ root, durable: false });
    const script = `
      import { openStore } from '${process.cwd()}/src/store/store.ts';
      const store = await openStore({ root: process.argv[1], durable: false });
      const id = process.argv[2];
      for (let i = 0; i < 10; i++) {
        const { digest, size } = await store.blobs.put(JSON.stringify({ schemaVersion: 2, id, i }));
        await store.tag('p' + id + ':' + i, { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest, size });
      }`;
    const run = (id: string) =>
      new Promise<number>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, root, id], {
          stdio: 'inherit',
        });
        child.on('exit', (code) => resolve(code ?? 1));
      });
    expect(await Promise.all(['a', 'b', 'c'].map(run))).toEqual([0, 0, 0]);
    const store = await openStore({ root });
    expect(store.listRefs()).toHaveLength(30);
  });
});
