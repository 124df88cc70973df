/**
 * Faults between layerkit and a real registry, injected by a proxy: a connection cut mid-blob
 * (resumed with Range, never stored half), 500s and 429 with Retry-After (retried), a blob whose
 * bytes do not match its digest (EINTEGRITY). Every failure leaves the store exactly as it was
 * and is a coded error naming the ref (and the blob when one is at fault).
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { it } from '../helpers/fixtures.js';
import {
  flattenImage,
  isLayerkitError,
  openStore,
  pullImage,
  pushImage,
  writeImage,
  type Image,
  type Store,
} from '../../src/index.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { registryTestbedMissing, startTestbed, type Testbed } from '../helpers/registry-testbed.js';
import { makeImage, noise, storeSnapshot } from './images.js';

const missing = registryTestbedMissing();
const env = { HOME: '/nonexistent-home' };

describe.skipIf(missing !== undefined)(`registry faults${missing ? ` (${missing})` : ''}`, () => {
  let bed: Testbed;
  let proxy: FaultProxy;
  let image: Image;
  let big: string;
  let store: Store;
  let dir: string;
  const ref = () => `${proxy.host}/faults/app:1`;
  const fast = { env, retryDelayMs: 5 };

  beforeAll(async () => {
    bed = await startTestbed({ plain: true });
    const src = await openStore({ memory: true });
    image = await makeImage(src, 'app:1', [{ 'a/big': noise(300_000) }, { 'b/small': 'small\n' }]);
    big = image.layers[0]!.digest;
    await pushImage({ store: src, image: 'app:1', ref: `${bed.plain!.host}/faults/app:1`, env });
    proxy = await startFaultProxy(bed.plain!.host);
  });
  afterAll(async () => {
    await proxy?.close();
    await bed?.stop();
  });
  it.beforeEach(async ({ tmp }) => {
    proxy.rules.length = 0;
    proxy.log.length = 0;
    dir = tmp;
    store = await openStore({ root: `${dir}/store` });
  });

  async function failsCleanly(run: Promise<unknown>, code: string, data: Record<string, unknown>) {
    const before = storeSnapshot(store);
    const err = await run.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isLayerkitError(err)).toBe(true);
    expect(err).toMatchObject({ code, data: expect.objectContaining(data) });
    expect(storeSnapshot(store)).toEqual(before);
    expect(store.listState('tmp')).toEqual([]);
    return err as Error;
  }

  it('a connection cut mid-blob is resumed with Range; the blob is stored whole', async () => {
    proxy.rules.push({
      method: 'GET',
      path: new RegExp(`/blobs/${big}`),
      times: 1,
      action: { kind: 'cut', afterBytes: 100_000 },
    });
    const r = await pullImage({ store, ref: ref(), ...fast });
    expect(r.image.descriptor.digest).toBe(image.descriptor.digest);
    const gets = proxy.log.filter((e) => e.method === 'GET' && e.url.includes(big));
    expect(gets).toHaveLength(2);
    expect(gets[1]!.range).toMatch(/^bytes=\d+-$/);
    expect(Number(/=(\d+)-/.exec(gets[1]!.range!)![1])).toBeGreaterThan(0);
    expect(await store.blobs.check(big as never)).toBeUndefined();
  });

  it('a connection cut every time fails with the blob named and stores nothing', async () => {
    proxy.rules.push({ method: 'GET', path: new RegExp(`/blobs/${big}`), action: { kind: 'cut', afterBytes: 1000 } });
    const err = await failsCleanly(pullImage({ store, ref: ref(), ...fast }), 'ERR_REGISTRY', {
      ref: ref(),
      blob: big,
    });
    expect(err.message).toContain(big);
  });

  it('500s are retried; a registry that keeps failing is ERR_REGISTRY with the status', async () => {
    proxy.rules.push({
      method: 'GET',
      path: /\/blobs\//,
      times: 2,
      action: { kind: 'status', status: 500, body: 'oops' },
    });
    await pullImage({ store, ref: ref(), ...fast });
    expect(proxy.log.filter((e) => e.fault === 'status')).toHaveLength(2);
    const other = await openStore({ root: `${dir}/other` });
    store = other;
    proxy.rules.push({ method: 'GET', path: new RegExp(`/blobs/${big}`), action: { kind: 'status', status: 503 } });
    await failsCleanly(pullImage({ store, ref: ref(), ...fast, retries: 2 }), 'ERR_REGISTRY', {
      ref: ref(),
      blob: big,
      status: 503,
    });
  });

  it('429 with Retry-After waits as told (not the backoff); a Retry-After beyond the limit fails at once', {
    timeout: 30_000,
  }, async () => {
    proxy.rules.push({
      method: 'HEAD',
      path: /\/manifests\//,
      times: 1,
      action: { kind: 'status', status: 429, headers: { 'retry-after': '1' } },
    });
    // a backoff of 10 minutes would time the test out: only Retry-After can make this pass
    await pullImage({ store, ref: ref(), env, retryDelayMs: 600_000 });
    store = await openStore({ root: `${dir}/other` });
    proxy.rules.push({
      method: 'HEAD',
      path: /\/manifests\//,
      action: { kind: 'status', status: 429, headers: { 'retry-after': '3600' } },
    });
    const err = await failsCleanly(pullImage({ store, ref: ref(), ...fast }), 'ERR_REGISTRY', {
      status: 429,
      ref: ref(),
    });
    expect(err.message).toMatch(/retry after 3600 s/);
  });

  it('a blob whose bytes do not match its digest is EINTEGRITY naming blob and registry; nothing is stored', async () => {
    proxy.rules.push({ method: 'GET', path: new RegExp(`/blobs/${big}`), action: { kind: 'corrupt' } });
    const err = await failsCleanly(pullImage({ store, ref: ref(), ...fast }), 'EINTEGRITY', {
      ref: ref(),
      blob: big,
      registry: proxy.host,
    });
    expect(err.message).toContain(big);
    expect(err.message).toContain(proxy.host);
  });

  it('a cancelled pull leaves the store as it was', async () => {
    const controller = new AbortController();
    proxy.rules.push({
      method: 'GET',
      path: new RegExp(`/blobs/${big}`),
      action: { kind: 'cut', afterBytes: 150_000 },
    });
    await failsCleanly(
      pullImage({
        store,
        ref: ref(),
        ...fast,
        signal: controller.signal,
        onProgress: (e) => {
          if (e.digest === big && e.bytes > 50_000) controller.abort();
        },
      }),
      'ERR_ABORTED',
      {},
    );
  });

  it('a pull moves bytes only; the first reader indexes the layers and refuses a lying diffID', async ({
    store: src,
  }) => {
    const one = await makeImage(src, 'liar:base', [{ 'l/one': noise(30_000) }]);
    const two = await makeImage(src, 'liar:other', [{ 'l/two': noise(30_000) }]);
    // The config claims the diffID of another layer: the blob's own digest is right.
    await writeImage({
      store: src,
      config: { ...one.config, rootfs: { type: 'layers', diff_ids: [two.diffIds[0]!] } },
      layers: [one.layers[0]!],
      tags: ['liar:1'],
    });
    await pushImage({ store: src, image: 'liar:1', ref: `${proxy.host}/faults/liar:1`, env });
    const pulled = await pullImage({ store, ref: `${proxy.host}/faults/liar:1`, ...fast });
    expect(pulled.bytesDownloaded).toBe(one.layers[0]!.size + pulled.image.manifest.config.size);
    expect(store.listState('layers')).toEqual([]); // nothing indexed while pulling
    const before = storeSnapshot(store);
    const err = await flattenImage({ store, image: pulled.tag }).catch((e: unknown) => e);
    expect(isLayerkitError(err) && err.code).toBe('ERR_INVALID_MANIFEST');
    expect(String((err as Error).message)).toContain(two.diffIds[0]!);
    expect(storeSnapshot(store)).toEqual(before);
    // An honest image pulled the same way flattens, indexing its layer on first use.
    const good = await pullImage({ store, ref: ref(), ...fast });
    const flat = await flattenImage({ store, image: good.tag });
    expect([...flat.entries.keys()]).toContain('a/big');
    expect(store.listState('layers')).toHaveLength(2);
  });

  it.each([
    // A front end answers 503 before the registry saw a byte: ask where the upload stands, go on.
    { fault: { kind: 'status', status: 503 } as const, resumed: true },
    // Part of the chunk reached the registry: distribution 2.8 then disowns the session's Location
    // (404 BLOB_UPLOAD_INVALID), so the blob starts over in a new session.
    { fault: { kind: 'cut-request', afterBytes: 50_000 } as const, resumed: false },
  ])(
    'a chunked upload whose PATCH fails ($fault.kind) asks the registry where it stands',
    async ({ fault, resumed }) => {
      const src = await openStore({ memory: true });
      const img = await makeImage(src, 'resume:1', [{ 'r/file': noise(400_000) }], { compression: 'none' });
      const layer = img.layers[0]!;
      const chunkSize = 128 * 1024;
      proxy.rules.push({ method: 'PATCH', path: /\/blobs\/uploads\//, skip: 1, times: 1, action: fault });
      const events: number[] = [];
      const pushed = await pushImage({
        store: src,
        image: 'resume:1',
        ref: `${proxy.host}/faults/resume:1`,
        ...fast,
        chunkThreshold: 100_000,
        chunkSize,
        onProgress: (e) => {
          if (e.digest === layer.digest && e.status === 'retrying') events.push(e.bytes);
        },
      });
      const uploads = proxy.log.filter((e) => e.url.includes('/blobs/uploads/'));
      expect(uploads.filter((e) => e.method === 'GET').map((e) => e.status)).toEqual([resumed ? 204 : 404]);
      // the config's session and the layer's, plus a new one when the old was lost
      expect(uploads.filter((e) => e.method === 'POST')).toHaveLength(resumed ? 2 : 3);
      const patches = uploads.filter((e) => e.method === 'PATCH');
      const cut = patches.findIndex((e) => e.fault === fault.kind);
      expect(cut).toBe(1);
      const afterCut = patches.slice(cut + 1).reduce((n, e) => n + e.bytesIn, 0);
      // resumed at the registry's offset (the end of the first chunk), or the whole blob again
      expect(events).toEqual(resumed ? [chunkSize] : [0]);
      expect(afterCut).toBe(resumed ? layer.size - chunkSize : layer.size);
      // What the registry holds is the image, byte for byte: pull it into an empty store.
      const back = await pullImage({ store, ref: `${bed.plain!.host}/faults/resume:1`, ...fast });
      expect(back.image.descriptor.digest).toBe(pushed.descriptor.digest);
      expect((await store.blobs.read(layer.digest)).equals(await src.blobs.read(layer.digest))).toBe(true);
    },
  );

  it('pullImage tags several names at once; a bad one tags none and keeps no blob', async () => {
    const r = await pullImage({ store, ref: ref(), tag: 'first:1', tags: ['second:2', 'first:1'], ...fast });
    expect(r.tags).toEqual(['first:1', 'second:2']);
    expect(r.tag).toBe('first:1');
    expect(r.image.names).toEqual(['first:1', 'second:2']);
    for (const name of r.tags) expect(store.resolveRef(name).descriptor.digest).toBe(image.descriptor.digest);
    const fresh = await openStore({ root: `${dir}/other` });
    const before = storeSnapshot(fresh);
    const err = await pullImage({ store: fresh, ref: ref(), tags: ['good:1', 'Bad Name!'], ...fast }).catch(
      (e: unknown) => e,
    );
    expect(isLayerkitError(err)).toBe(true);
    expect(storeSnapshot(fresh)).toEqual(before);
    // `tag` alone still works, and the default is the reference
    expect((await pullImage({ store, ref: ref(), tag: 'only:1', ...fast })).tags).toEqual(['only:1']);
    expect((await pullImage({ store, ref: ref(), ...fast })).tags).toEqual([`${proxy.host}/faults/app:1`]);
  });

  it("a push of a corrupt local blob is refused by the registry and named as the store's fault", async () => {
    const img = await makeImage(store, 'rot:1', [{ 'r/file': noise(20_000) }]);
    const layer = img.layers[0]!;
    const path = store.blobs.path(layer.digest);
    chmodSync(path, 0o644);
    const bytes = readFileSync(path);
    bytes.writeUInt8(bytes.readUInt8(bytes.length >> 1) ^ 0xff, bytes.length >> 1);
    writeFileSync(path, bytes);
    const err = await pushImage({ store, image: 'rot:1', ref: `${proxy.host}/faults/rot:1`, ...fast }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'EINTEGRITY', data: { blob: layer.digest } });
    expect(String((err as Error).message)).toContain("store's copy is corrupt");
  });

  it('a layer listed twice is downloaded once', async ({ store: src }) => {
    const one = await makeImage(src, 'dup:base', [{ 'd/file': noise(40_000) }]);
    await writeImage({
      store: src,
      config: { ...one.config, rootfs: { type: 'layers', diff_ids: [one.diffIds[0]!, one.diffIds[0]!] } },
      layers: [one.layers[0]!, one.layers[0]!],
      tags: ['dup:1'],
    });
    await pushImage({ store: src, image: 'dup:1', ref: `${proxy.host}/faults/dup:1`, env });
    proxy.log.length = 0;
    const r = await pullImage({ store, ref: `${proxy.host}/faults/dup:1`, ...fast });
    expect(r.image.layers).toHaveLength(2);
    expect(proxy.log.filter((e) => e.method === 'GET' && e.url.endsWith(one.layers[0]!.digest))).toHaveLength(1);
  });

  it('push through the proxy counts blob bytes: the first push sends them all, the second none', async ({
    store: src,
  }) => {
    const img = await makeImage(src, 'count:1', [{ 'x/file': noise(120_000) }]);
    const first = await pushImage({ store: src, image: 'count:1', ref: `${proxy.host}/faults/count:1`, env });
    const sent = proxy.log
      .filter((e) => e.method === 'PUT' && e.url.includes('/blobs/uploads/'))
      .reduce((n, e) => n + e.bytesIn, 0);
    expect(sent).toBe(img.layers[0]!.size + img.manifest.config.size);
    expect(first.bytesUploaded).toBe(sent);
    proxy.log.length = 0;
    const second = await pushImage({ store: src, image: 'count:1', ref: `${proxy.host}/faults/count:1`, env });
    expect(second.bytesUploaded).toBe(0);
    expect(proxy.log.filter((e) => e.url.includes('/blobs/uploads/'))).toEqual([]);
    expect(proxy.log.reduce((n, e) => n + e.bytesIn, 0)).toBe(img.manifestBytes.length); // only the manifest PUT
    // one HEAD of the manifest by digest stands for a HEAD per blob
    expect(proxy.log.map((e) => `${e.method} ${e.url.replace(/sha256:[0-9a-f]+/, 'DIGEST')}`)).toEqual([
      'GET /v2/',
      'HEAD /v2/faults/count/manifests/DIGEST',
      'PUT /v2/faults/count/manifests/1',
    ]);
  });

  it('an upload that keeps failing in its session starts over from a new one', async ({ store: src }) => {
    const img = await makeImage(src, 'again:1', [{ 'z/file': noise(20_000) }]);
    const layer = img.layers[0]!.digest;
    proxy.rules.push({
      method: 'PUT',
      path: new RegExp(`/blobs/uploads/.*digest=${encodeURIComponent(layer)}`),
      times: 2,
      action: { kind: 'status', status: 500 },
    });
    const r = await pushImage({
      store: src,
      image: 'again:1',
      ref: `${proxy.host}/faults/again:1`,
      ...fast,
      retries: 1,
    });
    expect(r.descriptor.digest).toBe(img.descriptor.digest);
    const puts = proxy.log.filter((e) => e.method === 'PUT' && e.url.includes(encodeURIComponent(layer)));
    expect(puts.map((e) => e.status)).toEqual([500, 500, 201]);
    expect(new Set(puts.map((e) => e.url.split('?')[0])).size).toBe(2); // a second session
  });

  it('a push that fails on a blob leaves nothing tagged on the registry', async ({ store: src }) => {
    await makeImage(src, 'fail:1', [{ 'y/file': noise(10_000) }]);
    proxy.rules.push({ method: 'PUT', path: /\/blobs\/uploads\//, action: { kind: 'status', status: 500 } });
    const err = await pushImage({
      store: src,
      image: 'fail:1',
      ref: `${proxy.host}/faults/fail:1`,
      ...fast,
      retries: 1,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'ERR_REGISTRY',
      data: expect.objectContaining({ ref: `${proxy.host}/faults/fail:1` }),
    });
    proxy.rules.length = 0;
    const check = await fetch(`http://${proxy.host}/v2/faults/fail/manifests/1`, {
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    expect(check.status).toBe(404);
    expect(proxy.log.some((e) => e.method === 'PUT' && e.url.includes('/manifests/'))).toBe(false);
  });
});
