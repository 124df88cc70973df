/**
 * Server quirks through undici's MockAgent (no network): a blob redirected to another host gets
 * no credentials, a 401 without a challenge, a manifest of an unknown media type, a manifest
 * whose Content-Type and mediaType disagree, ECR's 201 answer to a chunk PATCH, and a token realm
 * on plain HTTP elsewhere (refused). Each failure leaves the store as it was, with a coded error.
 */
import { createHash } from 'node:crypto';
import { MockAgent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, pullImage, pushImage, type Image, type Store } from '../../src/index.js';
import { makeImage, noise, storeSnapshot } from './images.js';

const REG = 'https://reg.test';
const env = { HOME: '/nonexistent-home' };
const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

type Headers = Record<string, string>;
function headersOf(opts: { headers?: unknown }): Headers {
  const h = opts.headers;
  const out: Headers = {};
  if (Array.isArray(h)) for (let i = 0; i < h.length; i += 2) out[String(h[i]).toLowerCase()] = String(h[i + 1]);
  else if (h && typeof h === 'object') for (const [k, v] of Object.entries(h)) out[k.toLowerCase()] = String(v);
  return out;
}

describe('registry quirks (MockAgent)', () => {
  let agent: MockAgent;
  let src: Store;
  let image: Image;
  let store: Store;
  beforeEach(async () => {
    agent = new MockAgent();
    agent.disableNetConnect();
    src = await openStore({ memory: true });
    image = await makeImage(src, 'app:1', [{ 'etc/hello': 'hello\n' }]);
    store = await openStore({ memory: true });
  });
  afterEach(async () => {
    await agent.close();
  });

  /** Serves the image's manifest (HEAD and GET) and config, with basic auth required. */
  function serveImage(options: { contentType?: string; manifest?: Buffer } = {}) {
    const reg = agent.get(REG);
    const manifest = options.manifest ?? image.manifestBytes;
    const digest = sha(manifest);
    const contentType = options.contentType ?? image.descriptor.mediaType;
    reg
      .intercept({ path: '/v2/', method: 'GET' })
      .reply(401, '', { headers: { 'www-authenticate': 'Basic realm="test"' } })
      .persist();
    const mh = {
      'content-type': contentType,
      'docker-content-digest': digest,
      'content-length': String(manifest.length),
    };
    reg
      .intercept({ path: (p) => p.startsWith('/v2/app/manifests/'), method: 'HEAD' })
      .reply(200, '', { headers: mh })
      .persist();
    reg
      .intercept({ path: (p) => p.startsWith('/v2/app/manifests/'), method: 'GET' })
      .reply(200, manifest, { headers: mh })
      .persist();
    reg
      .intercept({ path: `/v2/app/blobs/${image.manifest.config.digest}`, method: 'GET' })
      .reply(200, image.configBytes)
      .persist();
    return { reg, digest };
  }

  it('a blob redirected to another host is fetched there without the credentials', async () => {
    const { reg } = serveImage();
    const layer = image.layers[0]!;
    const bytes = await src.blobs.read(layer.digest);
    const seen: Array<{ host: string; auth: string | undefined }> = [];
    reg.intercept({ path: `/v2/app/blobs/${layer.digest}`, method: 'GET' }).reply((opts) => {
      seen.push({ host: 'reg', auth: headersOf(opts).authorization });
      return { statusCode: 307, data: '', responseOptions: { headers: { location: 'https://cdn.test/blob?sig=1' } } };
    });
    agent
      .get('https://cdn.test')
      .intercept({ path: '/blob?sig=1', method: 'GET' })
      .reply((opts) => {
        seen.push({ host: 'cdn', auth: headersOf(opts).authorization });
        return { statusCode: 200, data: bytes };
      });
    const r = await pullImage({
      store,
      ref: 'reg.test/app:1',
      env,
      dispatcher: agent,
      auth: { username: 'alice', password: 'pw' },
    });
    expect(r.image.descriptor.digest).toBe(image.descriptor.digest);
    expect(seen).toEqual([
      { host: 'reg', auth: `Basic ${Buffer.from('alice:pw').toString('base64')}` },
      { host: 'cdn', auth: undefined },
    ]);
  });

  it('a 401 without a challenge is ERR_REGISTRY_AUTH naming the ref; the store is unchanged', async () => {
    const reg = agent.get(REG);
    reg.intercept({ path: '/v2/', method: 'GET' }).reply(200, '{}').persist();
    reg
      .intercept({ path: (p) => p.startsWith('/v2/app/manifests/'), method: 'HEAD' })
      .reply(401, '')
      .persist();
    const before = storeSnapshot(store);
    const err = await pullImage({ store, ref: 'reg.test/app:1', env, dispatcher: agent }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_REGISTRY_AUTH', data: { ref: 'reg.test/app:1', status: 401 } });
    expect((err as Error).message).toMatch(/without a WWW-Authenticate challenge/);
    expect(storeSnapshot(store)).toEqual(before);
  });

  it('a manifest of an unknown media type is ERR_UNSUPPORTED_MEDIA_TYPE naming ref and manifest', async () => {
    const odd = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.example.thing+json', blobs: [] }),
    );
    serveImage({ manifest: odd, contentType: 'application/vnd.example.thing+json' });
    const before = storeSnapshot(store);
    const err = await pullImage({
      store,
      ref: 'reg.test/app:1',
      env,
      dispatcher: agent,
      auth: { username: 'a', password: 'b' },
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'ERR_UNSUPPORTED_MEDIA_TYPE',
      data: { ref: 'reg.test/app:1', blob: sha(odd), mediaType: 'application/vnd.example.thing+json' },
    });
    expect(storeSnapshot(store)).toEqual(before);
  });

  it('a manifest served as one type that says it is another is refused', async () => {
    serveImage({ contentType: 'application/vnd.docker.distribution.manifest.v2+json' });
    const before = storeSnapshot(store);
    const err = await pullImage({
      store,
      ref: 'reg.test/app:1',
      env,
      dispatcher: agent,
      auth: { username: 'a', password: 'b' },
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'ERR_INVALID_MANIFEST',
      data: { ref: 'reg.test/app:1', blob: image.descriptor.digest },
    });
    expect(storeSnapshot(store)).toEqual(before);
  });

  it('a failed chunk resumes at the offset the registry reports, not at the chunk boundary', async () => {
    const big = await makeImage(src, 'big:2', [{ 'data/y': noise(90_000) }], { compression: 'none' });
    const layer = big.layers[0]!;
    const reg = agent.get(REG);
    reg.intercept({ path: '/v2/', method: 'GET' }).reply(200, '{}').persist();
    for (const kind of ['blobs', 'manifests'])
      reg
        .intercept({ path: (p) => p.startsWith(`/v2/app/${kind}/sha256:`), method: 'HEAD' })
        .reply(404, '')
        .persist();
    let n = 0;
    reg
      .intercept({ path: '/v2/app/blobs/uploads/', method: 'POST' })
      .reply(() => ({ statusCode: 202, data: '', responseOptions: { headers: { location: `/upload/${++n}?s=0` } } }))
      .persist();
    // The registry holds `held` bytes of each upload; the second chunk of the layer lands 10 000
    // of its bytes and then fails, as distribution 3 can leave it.
    const held = new Map<string, number>();
    const ranges: string[] = [];
    reg
      .intercept({ path: (p) => p.startsWith('/upload/'), method: 'PATCH' })
      .reply((opts) => {
        const id = opts.path.split('?')[0]!;
        const range = headersOf(opts)['content-range']!;
        if (range) ranges.push(range);
        const [from, to] = (range ?? '0-0').split('-').map(Number) as [number, number];
        if (range && ranges.length === 2) {
          held.set(id, from + 10_000);
          return { statusCode: 500, data: '' };
        }
        held.set(id, to + 1);
        return { statusCode: 202, data: '', responseOptions: { headers: { location: `${id}?s=${to + 1}` } } };
      })
      .persist();
    const statusGets: string[] = [];
    reg
      .intercept({ path: (p) => p.startsWith('/upload/'), method: 'GET' })
      .reply((opts) => {
        statusGets.push(opts.path);
        const id = opts.path.split('?')[0]!;
        const have = held.get(id) ?? 0;
        return {
          statusCode: 204,
          data: '',
          responseOptions: { headers: { range: `0-${have - 1}`, location: `${id}?s=${have}` } },
        };
      })
      .persist();
    reg
      .intercept({ path: (p) => p.startsWith('/upload/'), method: 'PUT' })
      .reply((opts) => {
        const digest = decodeURIComponent(/digest=([^&]+)/.exec(opts.path)![1]!);
        return { statusCode: 201, data: '', responseOptions: { headers: { 'docker-content-digest': digest } } };
      })
      .persist();
    reg.intercept({ path: '/v2/app/manifests/2', method: 'PUT' }).reply(() => ({
      statusCode: 201,
      data: '',
      responseOptions: { headers: { 'docker-content-digest': big.descriptor.digest } },
    }));
    await pushImage({
      store: src,
      image: 'big:2',
      ref: 'reg.test/app:2',
      env,
      dispatcher: agent,
      chunkThreshold: 50_000,
      chunkSize: 32_768,
      retryDelayMs: 1,
    });
    expect(statusGets).toHaveLength(1);
    expect(statusGets[0]).toMatch(/\?s=32768$/); // the newest Location
    const resumeAt = 32_768 + 10_000;
    const expected = ['0-32767', '32768-65535'];
    for (let o = resumeAt; o < layer.size; o += 32_768) expected.push(`${o}-${Math.min(layer.size, o + 32_768) - 1}`);
    expect(ranges).toEqual(expected);
  });

  it('a chunked push accepts 201 on PATCH (ECR) and sends inclusive Content-Ranges in order', async () => {
    const big = await makeImage(src, 'big:1', [{ 'data/x': noise(70_000) }], { compression: 'none' });
    const layer = big.layers[0]!;
    const reg = agent.get(REG);
    reg.intercept({ path: '/v2/', method: 'GET' }).reply(200, '{}').persist();
    reg
      .intercept({ path: (p) => p.startsWith('/v2/app/blobs/sha256:'), method: 'HEAD' })
      .reply(404, '')
      .persist();
    reg
      .intercept({ path: (p) => p.startsWith('/v2/app/manifests/sha256:'), method: 'HEAD' })
      .reply(404, '')
      .persist();
    let n = 0;
    reg
      .intercept({ path: '/v2/app/blobs/uploads/', method: 'POST' })
      .reply(() => ({ statusCode: 202, data: '', responseOptions: { headers: { location: `/upload/${++n}?s=0` } } }))
      .persist();
    const patches: Headers[] = [];
    reg
      .intercept({ path: (p) => p.startsWith('/upload/'), method: 'PATCH' })
      .reply((opts) => {
        patches.push({ path: opts.path, ...headersOf(opts) });
        return {
          statusCode: 201,
          data: '',
          responseOptions: { headers: { location: `${opts.path.split('?')[0]}?s=${patches.length}` } },
        };
      })
      .persist();
    const puts: string[] = [];
    reg
      .intercept({ path: (p) => p.startsWith('/upload/'), method: 'PUT' })
      .reply((opts) => {
        puts.push(opts.path);
        const digest = decodeURIComponent(/digest=([^&]+)/.exec(opts.path)![1]!);
        return { statusCode: 201, data: '', responseOptions: { headers: { 'docker-content-digest': digest } } };
      })
      .persist();
    reg.intercept({ path: '/v2/app/manifests/1', method: 'PUT' }).reply(() => ({
      statusCode: 201,
      data: '',
      responseOptions: { headers: { 'docker-content-digest': big.descriptor.digest } },
    }));
    const r = await pushImage({
      store: src,
      image: 'big:1',
      ref: 'reg.test/app:1',
      env,
      dispatcher: agent,
      chunkThreshold: 50_000,
      chunkSize: 32_768,
    });
    expect(r.descriptor.digest).toBe(big.descriptor.digest);
    const layerPatches = patches.filter((p) => p['content-range'] !== undefined);
    const ranges = layerPatches.map((p) => p['content-range']);
    const expected: string[] = [];
    for (let o = 0; o < layer.size; o += 32_768) expected.push(`${o}-${Math.min(layer.size, o + 32_768) - 1}`);
    expect(ranges).toEqual(expected);
    expect(layerPatches.map((p) => Number(p['content-length']))).toEqual(
      expected.map((e) => Number(e.split('-')[1]) - Number(e.split('-')[0]) + 1),
    );
    // each PATCH went to the newest Location; the closing PUT carries the digest
    expect(layerPatches.slice(1).every((p, i) => p.path!.endsWith(`?s=${i + 1}`))).toBe(true);
    expect(puts.some((p) => p.includes(encodeURIComponent(layer.digest)))).toBe(true);
  });

  it('a token realm on plain HTTP on another host is refused before any credentials are sent', async () => {
    const reg = agent.get(REG);
    reg
      .intercept({ path: '/v2/', method: 'GET' })
      .reply(401, '', { headers: { 'www-authenticate': 'Bearer realm="http://evil.test/token",service="x"' } })
      .persist();
    const err = await pullImage({
      store,
      ref: 'reg.test/app:1',
      env,
      dispatcher: agent,
      auth: { username: 'alice', password: 'secret-pw' },
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'ERR_REGISTRY_AUTH',
      data: { ref: 'reg.test/app:1', realm: 'http://evil.test' },
    });
    expect(JSON.stringify(err) + (err as Error).message).not.toContain('secret-pw');
  });
});
