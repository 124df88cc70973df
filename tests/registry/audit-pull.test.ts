/**
 * Pull as the issue describes it, counted on the wire against a real registry (distribution 2.8)
 * behind a proxy: the tag resolved with a HEAD (its Accept listing every manifest type), the
 * manifest then fetched by digest, only the blobs the store lacks; a re-pull of an unchanged
 * image is one HEAD; a pull by digest; a blob longer than its descriptor and a manifest whose
 * bytes are not its digest are coded errors naming ref and blob, with the store unchanged.
 */
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { it } from '../helpers/fixtures.js';
import {
  isLayerkitError,
  MediaTypes,
  openStore,
  pullImage,
  pushImage,
  type Image,
  type Store,
} from '../../src/index.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { registryTestbedMissing, startTestbed, type Testbed } from '../helpers/registry-testbed.js';
import { makeImage, noise, storeSnapshot } from './images.js';

const missing = registryTestbedMissing();
const env = { HOME: '/nonexistent-home' };

describe.skipIf(missing !== undefined)(`pull, counted on the wire${missing ? ` (${missing})` : ''}`, () => {
  let bed: Testbed;
  let proxy: FaultProxy;
  let base: Image;
  let top: Image;
  beforeAll(async () => {
    bed = await startTestbed({ plain: true });
    const src = await openStore({ memory: true });
    const shared = { 'base/file': noise(50_000) };
    base = await makeImage(src, 'base:1', [shared]);
    top = await makeImage(src, 'top:1', [shared, { 'top/file': noise(20_000) }]);
    await pushImage({ store: src, image: 'base:1', ref: `${bed.plain!.host}/audit/base:1`, env });
    await pushImage({ store: src, image: 'top:1', ref: `${bed.plain!.host}/audit/top:1`, env });
    proxy = await startFaultProxy(bed.plain!.host);
  });
  afterAll(async () => {
    await proxy?.close();
    await bed?.stop();
  });
  it.beforeEach(() => {
    proxy.rules.length = 0;
    proxy.log.length = 0;
  });
  const requests = () => proxy.log.map((e) => `${e.method} ${e.url.replace(/sha256:[0-9a-f]{64}/g, (d) => name(d))}`);
  const name = (digest: string): string => {
    if (digest === top.descriptor.digest) return 'TOP';
    if (digest === top.manifest.config.digest) return 'TOP-CONFIG';
    if (digest === top.layers[0]!.digest) return 'SHARED';
    if (digest === top.layers[1]!.digest) return 'TOP-LAYER';
    if (digest === base.descriptor.digest) return 'BASE';
    if (digest === base.manifest.config.digest) return 'BASE-CONFIG';
    return digest;
  };

  it('HEAD for the tag, GET by digest, only missing blobs; a re-pull is one HEAD; a pull by digest is one GET, then none', async ({
    tmp,
  }) => {
    const store: Store = await openStore({ root: `${tmp}/store` });
    await pullImage({ store, ref: `${proxy.host}/audit/base:1`, env });
    proxy.log.length = 0;
    const r = await pullImage({ store, ref: `${proxy.host}/audit/top:1`, env });
    expect(r.image.descriptor.digest).toBe(top.descriptor.digest);
    expect(requests().slice(0, 3)).toEqual([
      'GET /v2/',
      'HEAD /v2/audit/top/manifests/1',
      'GET /v2/audit/top/manifests/TOP',
    ]);
    expect(requests().slice(3).sort()).toEqual([
      'GET /v2/audit/top/blobs/TOP-CONFIG',
      'GET /v2/audit/top/blobs/TOP-LAYER',
    ]);
    expect(r.blobs.find((b) => b.digest === top.layers[0]!.digest)?.status).toBe('exists');
    const accept = proxy.log[1]!.accept ?? '';
    for (const type of [
      'application/vnd.oci.image.index.v1+json',
      'application/vnd.oci.image.manifest.v1+json',
      'application/vnd.docker.distribution.manifest.list.v2+json',
      'application/vnd.docker.distribution.manifest.v2+json',
    ])
      expect(accept).toContain(type);

    proxy.log.length = 0;
    const again = await pullImage({ store, ref: `${proxy.host}/audit/top:1`, env });
    expect(again.bytesDownloaded).toBe(0);
    expect(requests()).toEqual(['GET /v2/', 'HEAD /v2/audit/top/manifests/1']);

    const other = await openStore({ memory: true });
    proxy.log.length = 0;
    const byDigest = await pullImage({ store: other, ref: `${proxy.host}/audit/top@${top.descriptor.digest}`, env });
    expect(byDigest.image.descriptor.digest).toBe(top.descriptor.digest);
    expect(requests().filter((r) => r.includes('/manifests/'))).toEqual(['GET /v2/audit/top/manifests/TOP']);
    // by digest again: the store has those bytes, so the registry is not asked at all
    proxy.log.length = 0;
    const local = await pullImage({ store: other, ref: `${proxy.host}/audit/top@${top.descriptor.digest}`, env });
    expect(local.image.descriptor.digest).toBe(top.descriptor.digest);
    expect(local.bytesDownloaded).toBe(0);
    expect(requests()).toEqual([]);
  });

  it('a blob longer than its descriptor says is refused naming ref and blob; the store is unchanged', async ({
    tmp,
  }) => {
    const layer = top.layers[1]!.digest;
    proxy.rules.push({ method: 'GET', path: new RegExp(`/blobs/${layer}$`), action: { kind: 'append', bytes: 100 } });
    const store = await openStore({ root: `${tmp}/store` });
    const before = storeSnapshot(store);
    const ref = `${proxy.host}/audit/top:1`;
    const err = await pullImage({ store, ref, env, retryDelayMs: 5, retries: 1 }).catch((e: unknown) => e);
    expect(isLayerkitError(err), String(err)).toBe(true);
    expect(err).toMatchObject({ data: expect.objectContaining({ ref, blob: layer }) });
    expect((err as { code: string }).code).toBe('EBADSIZE');
    expect(err).toMatchObject({ data: expect.objectContaining({ registry: proxy.host }) });
    expect((err as Error).message).toContain(layer);
    expect(storeSnapshot(store)).toEqual(before);
    expect(store.listState('tmp')).toEqual([]);
  });

  it('a manifest whose bytes are not its digest is EINTEGRITY naming ref and manifest; the store is unchanged', async ({
    tmp,
  }) => {
    proxy.rules.push({
      method: 'GET',
      path: new RegExp(`/manifests/${top.descriptor.digest}$`),
      action: { kind: 'corrupt' },
    });
    const store = await openStore({ root: `${tmp}/store` });
    const before = storeSnapshot(store);
    const ref = `${proxy.host}/audit/top:1`;
    const err = await pullImage({ store, ref, env, retryDelayMs: 5, retries: 1 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'EINTEGRITY', data: expect.objectContaining({ ref }) });
    expect((err as Error).message).toContain(top.descriptor.digest);
    expect(storeSnapshot(store)).toEqual(before);
  });

  it('push: a registry that says it stored a blob under another digest is EINTEGRITY; nothing is tagged', async () => {
    const src = await openStore({ memory: true });
    const img = await makeImage(src, 'odd:1', [{ 'o/file': noise(10_000) }]);
    const layer = img.layers[0]!.digest;
    const other = `sha256:${'e'.repeat(64)}`;
    proxy.rules.push({
      method: 'PUT',
      path: new RegExp(`/blobs/uploads/.*digest=${encodeURIComponent(layer)}`),
      action: { kind: 'status', status: 201, headers: { 'docker-content-digest': other } },
    });
    const ref = `${proxy.host}/audit/odd:1`;
    const err = await pushImage({ store: src, image: 'odd:1', ref, env, retries: 0 }).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'EINTEGRITY',
      data: expect.objectContaining({ ref, blob: layer, found: other }),
    });
    expect(proxy.log.some((e) => e.method === 'PUT' && e.url.includes('/manifests/'))).toBe(false);
    proxy.rules.length = 0;
    const check = await fetch(`http://${bed.plain!.host}/v2/audit/odd/manifests/1`, {
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    expect(check.status).toBe(404);
  });

  it('a resumed download from a registry that ignores Range (200, whole) skips what it has; stored whole', async ({
    tmp,
  }) => {
    const layer = top.layers[0]!.digest; // 50 kB
    proxy.rules.push(
      { method: 'GET', path: new RegExp(`/blobs/${layer}$`), times: 1, action: { kind: 'cut', afterBytes: 20_000 } },
      { method: 'GET', path: new RegExp(`/blobs/${layer}$`), times: 1, action: { kind: 'no-range' } },
    );
    const store = await openStore({ root: `${tmp}/store` });
    const r = await pullImage({ store, ref: `${proxy.host}/audit/top:1`, env, retryDelayMs: 5 });
    expect(r.image.descriptor.digest).toBe(top.descriptor.digest);
    const gets = proxy.log.filter((e) => e.method === 'GET' && e.url.endsWith(layer));
    expect(gets.map((e) => [e.fault, e.status])).toEqual([
      ['cut', 200],
      ['no-range', 200],
    ]);
    expect(gets[1]!.range).toMatch(/^bytes=[1-9]\d*-$/); // it asked to resume
    expect(await store.blobs.check(layer as never)).toBeUndefined();
    expect(store.blobs.stat(layer as never)?.size).toBe(top.layers[0]!.size);
  });

  it('--all-platforms failing on the second platform leaves the store as it was: the first one’s blobs go too', async ({
    tmp,
  }) => {
    const src = await openStore({ memory: true });
    const amd = await makeImage(src, 'p:amd', [{ 'amd/file': noise(30_000) }]);
    const arm = await makeImage(src, 'p:arm', [{ 'arm/file': noise(30_000) }]);
    const bytes = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaTypes.ociIndex,
        manifests: [
          { ...amd.descriptor, platform: { os: 'linux', architecture: 'amd64' } },
          { ...arm.descriptor, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
        ],
      }),
    );
    const put = await src.blobs.put(bytes);
    await src.tag('multi:1', { mediaType: MediaTypes.ociIndex, digest: put.digest, size: put.size });
    await pushImage({ store: src, image: 'multi:1', ref: `${proxy.host}/audit/multi:1`, env });
    proxy.rules.push({
      method: 'GET',
      path: new RegExp(`/blobs/${arm.layers[0]!.digest}$`),
      action: { kind: 'corrupt' },
    });
    const store = await openStore({ root: `${tmp}/store` });
    const before = storeSnapshot(store);
    const ref = `${proxy.host}/audit/multi:1`;
    const err = await pullImage({ store, ref, env, allPlatforms: true, platform: 'linux/amd64', retries: 0 }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({
      code: 'EINTEGRITY',
      data: expect.objectContaining({ ref, blob: arm.layers[0]!.digest }),
    });
    // the amd64 blobs were downloaded before the failure (counted), and none stayed
    expect(proxy.log.some((e) => e.url.endsWith(amd.layers[0]!.digest) && e.status === 200)).toBe(true);
    expect(storeSnapshot(store)).toEqual(before);
    expect(store.listState('tmp')).toEqual([]);
  });
});
