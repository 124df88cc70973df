/**
 * Registries through an HTTP proxy, end to end: the testbed's real registries (distribution 2.8)
 * behind a small forward proxy (tests/helpers/http-proxy.ts) that alone resolves the names the
 * registries are reached by (loopback is never proxied, as in Go). Over TLS, a CONNECT tunnel
 * with TLS to the registry inside it (an http:// proxy and an https:// one); plain HTTP in
 * absolute form; SOCKS5 (socks5:// and socks5h://, with a login); NO_PROXY; a proxy refusing (407,
 * 502, SOCKS5 replies); build contexts given as URLs; and the CLI reading HTTPS_PROXY.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from '../../src/builder/build.js';
import { openStore, pullImage, pushImage } from '../../src/index.js';
import { openRegistry } from '../../src/registry/client.js';
import { Http1Client } from '../../src/registry/http1.js';
import { startTestProxy, type TestProxy } from '../helpers/http-proxy.js';
import { startSocksProxy, type TestSocksProxy } from '../helpers/socks-proxy.js';
import { registryTestbedMissing, startTestbed, type Testbed } from '../helpers/registry-testbed.js';
import { spawnCli } from '../helpers/spawn-cli.js';
import { makeTempDir } from '../helpers/tmp.js';
import { imageFile, makeTar } from '../builder/helpers.js';
import { makeImage, noise, storeSnapshot } from './images.js';

const missing = registryTestbedMissing();
const NAME = 'registry.proxy.test';
const PLAIN = 'plain.proxy.test';
const CONTEXTS = 'contexts.proxy.test';
const PROXY_USER = 'pxuser';
const PROXY_PASS = 'px-Pa55@word';

describe.skipIf(missing !== undefined)(`registries through a proxy${missing ? ` (${missing})` : ''}`, () => {
  let bed: Testbed;
  let proxy: TestProxy;
  let tlsProxy: TestProxy;
  let socks: TestSocksProxy;
  let tmp: ReturnType<typeof makeTempDir>;
  /** The TLS (basic auth) registry by a name only the proxy resolves. */
  let tlsHost: string;
  let plainHost: string;
  let certsDir: string;
  const auth = (): { username: string; password: string } => ({ username: bed.user, password: bed.pass });
  const proxyWithAuth = (p: TestProxy): string =>
    p.url.replace('://', `://${PROXY_USER}:${encodeURIComponent(PROXY_PASS)}@`);
  const base = { HOME: '/nonexistent-home', PATH: process.env.PATH };

  beforeAll(async () => {
    bed = await startTestbed({ plain: true, tls: true }, { serverNames: [NAME] });
    tmp = makeTempDir('layerkit-proxy-');
    const tlsPort = bed.tls!.host.split(':')[1]!;
    tlsHost = `${NAME}:${tlsPort}`;
    plainHost = `${PLAIN}:${bed.plain!.host.split(':')[1]}`;
    const hosts = { [NAME]: '127.0.0.1', [PLAIN]: '127.0.0.1', [CONTEXTS]: '127.0.0.1' };
    proxy = await startTestProxy({ hosts, auth: { username: PROXY_USER, password: PROXY_PASS } });
    const pki = join(bed.dir, 'pki');
    tlsProxy = await startTestProxy({
      hosts,
      auth: { username: PROXY_USER, password: PROXY_PASS },
      tls: {
        key: fs.readFileSync(join(pki, 'server.key'), 'utf8'),
        cert: fs.readFileSync(join(pki, 'server.crt'), 'utf8'),
      },
    });
    socks = await startSocksProxy({ hosts, auth: { username: PROXY_USER, password: PROXY_PASS } });
    // certs.d: the registry's CA under the name it is reached by, and the https proxy's.
    certsDir = join(tmp.path, 'certs.d');
    for (const host of [tlsHost, `127.0.0.1:${tlsProxy.port}`]) {
      fs.mkdirSync(join(certsDir, host), { recursive: true });
      fs.copyFileSync(bed.ca, join(certsDir, host, 'ca.crt'));
    }
  });
  afterAll(async () => {
    await proxy?.stop();
    await tlsProxy?.stop();
    await socks?.stop();
    await bed?.stop();
    tmp?.cleanup();
  });

  /** Everything the proxy saw in clear or as tunnelled bytes, to look for secrets in. */
  function everythingSeen(p: TestProxy): string {
    return JSON.stringify(p.saw) + p.tunnelled().toString('latin1');
  }

  function expectNoRegistrySecret(p: TestProxy): void {
    const seen = everythingSeen(p);
    expect(seen).not.toContain(bed.pass);
    expect(seen).not.toContain(Buffer.from(`${bed.user}:${bed.pass}`).toString('base64'));
  }

  it.each([
    ['an http:// proxy', () => proxy],
    ['an https:// proxy (TLS to the proxy, TLS to the registry inside)', () => tlsProxy],
  ])(
    'push and pull over TLS through %s: a CONNECT tunnel, the registry’s credentials never in clear',
    async (_, which) => {
      const p = which();
      p.reset();
      const env = { ...base, HTTPS_PROXY: proxyWithAuth(p) };
      const a = await openStore({ memory: true });
      // A layer of some MiB: the answer's reads pause and resume through the tunnel.
      const img = await makeImage(a, 'app:1', [{ 'etc/hello': 'through the proxy\n', 'bin/x': noise(3 << 20) }]);
      const ref = `${tlsHost}/proxied/app:${p === proxy ? 'plain' : 'tls'}`;
      const pushed = await pushImage({ store: a, image: 'app:1', ref, env, certsDir, auth: auth() });
      expect(pushed.descriptor.digest).toBe(img.descriptor.digest);
      const b = await openStore({ memory: true });
      const pulled = await pullImage({ store: b, ref, env, certsDir, auth: auth() });
      expect(pulled.image.descriptor.digest).toBe(img.descriptor.digest);
      expect(pulled.bytesDownloaded).toBeGreaterThan(3 << 20);

      // Every request went through CONNECT tunnels to the registry's name, with the proxy's credentials.
      expect(p.saw.length).toBeGreaterThan(0);
      for (const s of p.saw) {
        expect(s).toMatchObject({ method: 'CONNECT', target: tlsHost, status: 200 });
        expect(s.headers.host).toBe(tlsHost);
        expect(s.headers['proxy-authorization']).toBe(
          `Basic ${Buffer.from(`${PROXY_USER}:${PROXY_PASS}`).toString('base64')}`,
        );
      }
      // Kept-alive connections: far fewer tunnels than requests.
      expect(p.saw.length).toBeLessThanOrEqual(8);
      // Inside the tunnel: TLS records (no plain HTTP), so the registry's Authorization stays unseen.
      expect(p.tunnelled().length).toBeGreaterThan(2 * (3 << 20));
      // (ALPN's "http/1.1" is in the TLS hello in clear; no request line or header is.)
      expect(p.tunnelled().toString('latin1')).not.toMatch(/GET \/v2\/|HTTP\/1\.1 \d{3}|authorization:/i);
      expectNoRegistrySecret(p);
    },
  );

  it('Proxy-Authorization goes to the proxy only, never to the server inside the tunnel', async () => {
    // A TLS server that records the headers it gets, behind the proxy under the registry's name.
    const pki = join(bed.dir, 'pki');
    const got: Array<Record<string, unknown>> = [];
    const server = https.createServer(
      { key: fs.readFileSync(join(pki, 'server.key')), cert: fs.readFileSync(join(pki, 'server.crt')) },
      (req, res) => {
        got.push({ ...req.headers, url: req.url });
        res.writeHead(200, { 'content-type': 'application/json', 'docker-distribution-api-version': 'registry/2.0' });
        res.end('{}');
      },
    );
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const host = `${NAME}:${(server.address() as AddressInfo).port}`;
    fs.mkdirSync(join(certsDir, host), { recursive: true });
    fs.copyFileSync(bed.ca, join(certsDir, host, 'ca.crt'));
    proxy.reset();
    const client = await openRegistry({
      registry: host,
      host,
      env: { ...base, HTTPS_PROXY: proxyWithAuth(proxy) },
      certsDir,
    });
    try {
      const res = await client.send({ method: 'GET', url: '/v2/', scopes: [], what: 'the API root' });
      expect(res.status).toBe(200);
      await res.body.dump();
    } finally {
      await client.close();
      await new Promise<void>((done) => server.close(() => done()));
    }
    expect(got.length).toBeGreaterThanOrEqual(1);
    for (const h of got) {
      expect(h.host).toBe(host);
      expect(h['proxy-authorization']).toBeUndefined();
      expect(JSON.stringify(h)).not.toContain(Buffer.from(`${PROXY_USER}:`).toString('base64').slice(0, 8));
    }
    // One tunnel, kept alive for both requests (the API root asked when the origin is found, then ours).
    expect(got).toHaveLength(2);
    expect(proxy.saw.map((s) => [s.method, s.target, s.headers['proxy-authorization'] !== undefined])).toEqual([
      ['CONNECT', host, true],
    ]);
  });

  it('the transport: a closed or refused tunnel frees its slot; the connect timeout covers CONNECT; cancel ends it', async () => {
    const pki = join(bed.dir, 'pki');
    const server = https.createServer(
      { key: fs.readFileSync(join(pki, 'server.key')), cert: fs.readFileSync(join(pki, 'server.crt')) },
      (req, res) => {
        res.writeHead(200, { connection: 'close', 'content-length': '2' });
        res.end(req.url === '/a' ? 'ok' : 'no');
      },
    );
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const host = `${NAME}:${(server.address() as AddressInfo).port}`;
    const ca = fs.readFileSync(bed.ca, 'utf8');
    const client = new Http1Client({
      tlsFor: () => ({ ca, rejectUnauthorized: true }),
      connections: () => 1,
      proxyFor: () => ({ url: new URL(proxyWithAuth(proxy)) }),
    });
    proxy.reset();
    try {
      // A refused tunnel frees its slot too.
      proxy.failNext(1);
      const refused = await client.request({ url: new URL(`https://${host}/a`), headers: {} }).catch((e: unknown) => e);
      expect(refused).toMatchObject({ code: 'ERR_REGISTRY_PROXY', data: { status: 502 } });
      // One connection at most: each next request waits for the previous tunnel to close.
      const bodies = await Promise.all(
        [0, 1, 2, 3].map(async () => {
          const res = await client.request({ url: new URL(`https://${host}/a`), headers: {} });
          return res.body.text();
        }),
      );
      expect(bodies).toEqual(['ok', 'ok', 'ok', 'ok']);
      expect(proxy.saw.map((s) => `${s.method} ${s.target} ${s.status}`)).toEqual([
        `CONNECT ${host} 502`,
        ...new Array(4).fill(`CONNECT ${host} 200`),
      ]);
    } finally {
      client.close();
      await new Promise<void>((done) => server.close(() => done()));
    }

    // A proxy that takes the connection and never answers CONNECT.
    const silent = net.createServer((c) => c.resume());
    await new Promise<void>((done) => silent.listen(0, '127.0.0.1', done));
    const port = (silent.address() as AddressInfo).port;
    const slow = new Http1Client({
      tlsFor: () => ({ rejectUnauthorized: true }),
      connectTimeoutMs: 200,
      proxyFor: () => ({ url: new URL(`http://u:hidden@127.0.0.1:${port}`) }),
    });
    try {
      const err = await slow.request({ url: new URL(`https://${host}/a`), headers: {} }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'UND_ERR_CONNECT_TIMEOUT', proxy: `http://127.0.0.1:${port}` });
      expect((err as Error).message).toContain(`through the proxy http://127.0.0.1:${port}`);
      expect((err as Error).message).not.toContain('hidden');
      // Cancelled while the proxy has not answered: the request ends at once, the connection is closed.
      const closed = new Promise<void>((done) => silent.once('connection', (c) => c.once('close', () => done())));
      const controller = new AbortController();
      const asked = slow.request({ url: new URL(`https://${host}/a`), headers: {}, signal: controller.signal });
      setTimeout(() => controller.abort(), 50);
      await expect(asked).rejects.toMatchObject({ code: 'ABORT_ERR' });
      await closed;
    } finally {
      slow.close();
      silent.close();
    }
  });

  it.each([
    ['an http:// proxy', () => proxy],
    ['an https:// proxy', () => tlsProxy],
  ])('plain HTTP through HTTP_PROXY (%s): absolute-form requests, Proxy-Authorization on each', async (_, which) => {
    const p = which();
    p.reset();
    const env = { ...base, HTTP_PROXY: proxyWithAuth(p), HTTPS_PROXY: proxyWithAuth(p) };
    const a = await openStore({ memory: true });
    // New blobs for each proxy, so each push uploads (POST, PUT) through it.
    const img = await makeImage(a, 'app:1', [{ 'etc/plain': `plain through ${p.url}\n` }]);
    const ref = `${plainHost}/proxied/app:${p === proxy ? 1 : 2}`;
    const insecure = [plainHost];
    await pushImage({ store: a, image: 'app:1', ref, env, insecure, certsDir });
    const b = await openStore({ memory: true });
    const pulled = await pullImage({ store: b, ref, env, insecure, certsDir });
    expect(pulled.image.descriptor.digest).toBe(img.descriptor.digest);
    const plain = p.saw.filter((s) => s.method !== 'CONNECT');
    // The https attempt first (CONNECT, then TLS fails against a plain server), then plain HTTP.
    expect(p.saw.filter((s) => s.method === 'CONNECT').every((s) => s.target === plainHost)).toBe(true);
    expect(plain.length).toBeGreaterThanOrEqual(6);
    for (const s of plain) {
      expect(s.target.startsWith(`http://${plainHost}/v2/`)).toBe(true);
      expect(s.headers.host).toBe(plainHost);
      expect(s.headers['proxy-authorization']).toBe(
        `Basic ${Buffer.from(`${PROXY_USER}:${PROXY_PASS}`).toString('base64')}`,
      );
    }
    expect(plain.map((s) => s.method)).toEqual(expect.arrayContaining(['GET', 'HEAD', 'POST', 'PUT']));
  });

  it('NO_PROXY and loopback: the proxy sees nothing', async () => {
    proxy.reset();
    const env = { ...base, HTTPS_PROXY: proxyWithAuth(proxy), NO_PROXY: `localhost,.proxy.test` };
    // The registry's name is in NO_PROXY: layerkit connects directly, where no resolver knows it.
    const store = await openStore({ memory: true });
    await expect(
      pullImage({ store, ref: `${tlsHost}/proxied/app:plain`, env, certsDir, auth: auth(), retries: 0 }),
    ).rejects.toMatchObject({ code: 'ERR_REGISTRY', data: { host: tlsHost } });
    // A loopback registry is never proxied, even without NO_PROXY.
    const certs127 = bed.certsDir;
    const a = await openStore({ memory: true });
    await makeImage(a, 'app:1', [{ 'etc/direct': 'direct\n' }]);
    const loopRef = `${bed.tls!.host}/direct/app:1`;
    const loopEnv = { ...base, HTTPS_PROXY: proxyWithAuth(proxy) };
    await pushImage({ store: a, image: 'app:1', ref: loopRef, env: loopEnv, certsDir: certs127, auth: auth() });
    const pulled = await pullImage({ store, ref: loopRef, env: loopEnv, certsDir: certs127, auth: auth() });
    expect(pulled.tag).toBe(loopRef);
    expect(proxy.saw).toEqual([]);
    // And proxy: false overrides the environment.
    const none = await pullImage({ store, ref: loopRef, env: loopEnv, certsDir: certs127, auth: auth(), proxy: false });
    expect(none.bytesDownloaded).toBe(0);
  });

  it.each([
    ['no proxy credentials', (p: TestProxy) => p.url],
    ['a wrong proxy password', (p: TestProxy) => p.url.replace('://', `://${PROXY_USER}:wrong-secret@`)],
  ])(
    'a proxy answering 407 (%s): ERR_REGISTRY_PROXY naming the proxy, store unchanged, no password',
    async (_, value) => {
      for (const [ref, variable, extra] of [
        [`${tlsHost}/proxied/app:plain`, 'HTTPS_PROXY', { certsDir }],
        [`${plainHost}/proxied/app:1`, 'HTTP_PROXY', { insecure: [plainHost] }],
      ] as const) {
        proxy.reset();
        const store = await openStore({ memory: true });
        const before = storeSnapshot(store);
        // For the plain registry the https attempt goes through (CONNECT accepted, TLS fails), so
        // the refusal is the proxy's 407 to an absolute-form request.
        const env =
          variable === 'HTTPS_PROXY'
            ? { ...base, HTTPS_PROXY: value(proxy) }
            : { ...base, HTTPS_PROXY: proxyWithAuth(proxy), HTTP_PROXY: value(proxy) };
        let err: unknown;
        try {
          await pullImage({ store, ref, env, auth: auth(), ...extra });
        } catch (e) {
          err = e;
        }
        expect(err).toMatchObject({
          code: 'ERR_REGISTRY_PROXY',
          data: { proxy: proxy.url, status: 407, registry: ref.split('/')[0] },
        });
        const text = `${(err as Error).message} ${JSON.stringify(err)}`;
        expect(text).toContain(proxy.url);
        expect(text).toContain('407');
        expect(text).not.toContain('wrong-secret');
        expect(text).not.toContain(PROXY_USER);
        expect(storeSnapshot(store)).toEqual(before);
        // Refused at once: a 407 is not retried as a registry's failure would be.
        expect(proxy.saw.map((s) => `${s.method} ${s.status}`)).toEqual(
          variable === 'HTTPS_PROXY' ? ['CONNECT 407'] : ['CONNECT 200', 'GET 407'],
        );
      }
    },
  );

  it('a proxy that cannot reach the registry (502) is retried as an unreachable registry, then named', async () => {
    proxy.reset();
    const env = { ...base, HTTPS_PROXY: proxyWithAuth(proxy) };
    const client = await openRegistry({
      registry: tlsHost,
      host: tlsHost,
      env,
      certsDir,
      auth: auth(),
      retries: 2,
      retryDelayMs: 1,
    });
    const ask = async (): Promise<number> => {
      const res = await client.send({ method: 'GET', url: '/v2/', scopes: [], what: 'the API root' });
      await res.body.dump();
      return res.status;
    };
    try {
      expect(await ask()).toBe(200);
      // New connections from here on; the proxy fails two CONNECTs, then one too many.
      await client.close();
      proxy.reset();
      proxy.failNext(2);
      expect(await ask()).toBe(200);
      expect(proxy.saw.map((s) => s.status)).toEqual([502, 502, 200]);
      await client.close();
      proxy.reset();
      proxy.failNext(3);
      const err = await ask().catch((e: unknown) => e);
      expect(err).toMatchObject({
        code: 'ERR_REGISTRY_PROXY',
        data: { status: 502, host: tlsHost, registry: tlsHost, proxy: proxy.url },
      });
      expect((err as Error).message).toContain(`${proxy.url} did not open a tunnel to ${tlsHost}: it answered 502`);
      expect((err as Error).message).not.toContain(PROXY_PASS);
      expect(proxy.saw.map((s) => s.status)).toEqual([502, 502, 502]);
    } finally {
      await client.close();
    }
    // Unknown to the proxy at all, when the origin is first asked: named the same way.
    const store = await openStore({ memory: true });
    const unknown = await pullImage({ store, ref: 'unknown.proxy.test:5000/x/y:1', env }).catch((e: unknown) => e);
    expect(unknown).toMatchObject({
      code: 'ERR_REGISTRY_PROXY',
      data: { status: 502, host: 'unknown.proxy.test:5000' },
    });
  });

  it('a malformed HTTPS_PROXY is ERR_REGISTRY_PROXY naming the variable, not its password', async () => {
    const store = await openStore({ memory: true });
    const err = await pullImage({
      store,
      ref: `${tlsHost}/proxied/app:plain`,
      env: { ...base, HTTPS_PROXY: 'http://user:hunter2@[bad' },
      certsDir,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_REGISTRY_PROXY', data: { variable: 'HTTPS_PROXY' } });
    expect(`${(err as Error).message}${JSON.stringify(err)}`).not.toContain('hunter2');
  });

  it.each(['socks5', 'socks5h'])(
    'a %s:// proxy with a login: TLS push and pull, and plain HTTP, names resolved by the proxy',
    async (scheme) => {
      socks.reset();
      const value = `${scheme}://${PROXY_USER}:${encodeURIComponent(PROXY_PASS)}@127.0.0.1:${socks.port}`;
      const env = { ...base, HTTPS_PROXY: value, HTTP_PROXY: value };
      const a = await openStore({ memory: true });
      const img = await makeImage(a, 'app:1', [{ 'etc/socks': `through ${scheme}\n`, 'bin/x': noise(1 << 20) }]);
      const tlsRef = `${tlsHost}/socks/app:${scheme}`;
      await pushImage({ store: a, image: 'app:1', ref: tlsRef, env, certsDir, auth: auth() });
      const b = await openStore({ memory: true });
      const pulled = await pullImage({ store: b, ref: tlsRef, env, certsDir, auth: auth() });
      expect(pulled.image.descriptor.digest).toBe(img.descriptor.digest);
      expect(socks.saw.length).toBeGreaterThan(0);
      expect(socks.saw.every((s) => s.target === tlsHost && s.kind === 'name' && s.reply === 0)).toBe(true);
      expect(new Set(socks.logins)).toEqual(new Set([`${PROXY_USER}:${PROXY_PASS}`]));
      const seen = socks.tunnelled().toString('latin1');
      expect(seen).not.toContain(bed.pass);
      expect(seen).not.toContain(Buffer.from(`${bed.user}:${bed.pass}`).toString('base64'));

      // Plain HTTP over the tunnel (after the https attempt fails against a plain registry).
      socks.reset();
      const plainRef = `${plainHost}/socks/app:${scheme}`;
      await pushImage({ store: a, image: 'app:1', ref: plainRef, env, insecure: [plainHost] });
      const c = await openStore({ memory: true });
      const plain = await pullImage({ store: c, ref: plainRef, env, insecure: [plainHost] });
      expect(plain.image.descriptor.digest).toBe(img.descriptor.digest);
      expect(socks.saw.every((s) => s.target === plainHost && s.reply === 0)).toBe(true);
      // In clear inside the tunnel: origin-form requests (no absolute URL, no Proxy-Authorization).
      const clear = socks.tunnelled().toString('latin1');
      expect(clear.includes(`HEAD /v2/socks/app/manifests/${scheme} HTTP/1.1\r\nhost: ${plainHost}\r\n`)).toBe(true);
      expect(/proxy-authorization|GET http:/i.test(clear)).toBe(false);
    },
  );

  it('a SOCKS5 proxy refusing: a wrong login, an unknown host; ERR_REGISTRY_PROXY without the password', async () => {
    const store = await openStore({ memory: true });
    const before = storeSnapshot(store);
    socks.reset();
    const wrong = `socks5://${PROXY_USER}:wrong-secret@127.0.0.1:${socks.port}`;
    const err = await pullImage({
      store,
      ref: `${tlsHost}/socks/app:socks5`,
      env: { ...base, HTTPS_PROXY: wrong },
      certsDir,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_REGISTRY_PROXY', data: { proxy: `socks5://127.0.0.1:${socks.port}` } });
    expect((err as Error).message).toMatch(/refused the username and password/);
    expect(`${(err as Error).message}${JSON.stringify(err)}`).not.toContain('wrong-secret');
    expect(socks.saw).toEqual([]);
    const unknown = await pullImage({
      store,
      ref: 'unknown.proxy.test:5000/x/y:1',
      env: { ...base, HTTPS_PROXY: `socks5://${PROXY_USER}:${encodeURIComponent(PROXY_PASS)}@127.0.0.1:${socks.port}` },
    }).catch((e: unknown) => e);
    expect(unknown).toMatchObject({ code: 'ERR_REGISTRY_PROXY', data: { reply: 4, host: 'unknown.proxy.test:5000' } });
    expect((unknown as Error).message).toContain('host unreachable');
    expect(storeSnapshot(store)).toEqual(before);
  });

  it('a build context given as a URL goes through the proxy too (absolute form), NO_PROXY bypasses it', async () => {
    const tar = await makeTar([
      { path: 'Dockerfile', type: 'file', data: 'FROM scratch\nCOPY hello.txt /hello\nCOPY --from=n n.txt /n\n' },
      { path: 'hello.txt', type: 'file', data: 'context through the proxy\n' },
    ]);
    const named = await makeTar([{ path: 'n.txt', type: 'file', data: 'named\n' }]);
    const got: http.IncomingHttpHeaders[] = [];
    const server = http.createServer((req, res) => {
      got.push(req.headers);
      const body = req.url === '/ctx.tar' ? tar : req.url === '/named.tar' ? named : undefined;
      if (body === undefined) res.writeHead(404).end();
      else res.writeHead(200, { 'content-length': body.length }).end(body);
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const origin = `http://${CONTEXTS}:${(server.address() as AddressInfo).port}`;
    try {
      proxy.reset();
      const store = await openStore({ memory: true });
      const env = { ...base, HTTP_PROXY: proxyWithAuth(proxy) };
      const r = await build({
        store,
        context: `${origin}/ctx.tar`,
        buildContexts: { n: `${origin}/named.tar` },
        registry: { env },
      });
      expect(await imageFile(store, r.image, '/hello')).toBe('context through the proxy\n');
      expect(await imageFile(store, r.image, '/n')).toBe('named\n');
      expect(proxy.saw.map((s) => `${s.method} ${s.target} ${s.status}`).sort()).toEqual([
        `GET ${origin}/ctx.tar 200`,
        `GET ${origin}/named.tar 200`,
      ]);
      for (const s of proxy.saw)
        expect(s.headers['proxy-authorization']).toBe(
          `Basic ${Buffer.from(`${PROXY_USER}:${PROXY_PASS}`).toString('base64')}`,
        );
      expect(got.map((h) => h['proxy-authorization'])).toEqual([undefined, undefined]);

      // And through a SOCKS5 proxy, the name resolved by the proxy.
      socks.reset();
      const viaSocks = await build({
        store,
        context: `${origin}/ctx.tar`,
        buildContexts: { n: `${origin}/named.tar` },
        registry: {
          env: {
            ...base,
            HTTP_PROXY: `socks5h://${PROXY_USER}:${encodeURIComponent(PROXY_PASS)}@127.0.0.1:${socks.port}`,
          },
        },
      });
      expect(viaSocks.image.descriptor.digest).toBe(r.image.descriptor.digest);
      expect(socks.saw.map((x) => `${x.target} ${x.kind} ${x.reply}`)).toEqual(
        new Array(socks.saw.length).fill(`${origin.slice('http://'.length)} name 0`),
      );
      expect(socks.saw.length).toBeGreaterThan(0);

      proxy.reset();
      const err = await build({
        store,
        context: `${origin}/ctx.tar`,
        registry: { env: { ...env, NO_PROXY: `.proxy.test` } },
      }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'ERR_BUILD_CONTEXT' });
      expect(proxy.saw).toEqual([]);
      const bad = await build({
        store,
        context: `${origin}/ctx.tar`,
        registry: { env: { ...base, HTTP_PROXY: 'http://u:hunter2@[bad' } },
      }).catch((e: unknown) => e);
      expect(bad).toMatchObject({ code: 'ERR_REGISTRY_PROXY', data: { variable: 'HTTP_PROXY' } });
      expect(`${(bad as Error).message}${JSON.stringify(bad)}`).not.toContain('hunter2');
    } finally {
      await new Promise<void>((done) => server.close(() => done()));
    }
  });

  it('the CLI: layerkit pull honours HTTPS_PROXY from its environment', async () => {
    proxy.reset();
    const docker = join(tmp.path, 'docker');
    fs.mkdirSync(docker, { recursive: true });
    const basic = Buffer.from(`${bed.user}:${bed.pass}`).toString('base64');
    fs.writeFileSync(join(docker, 'config.json'), JSON.stringify({ auths: { [tlsHost]: { auth: basic } } }));
    const storeDir = join(tmp.path, 'cli-store');
    const ref = `${tlsHost}/proxied/app:plain`;
    const run = await spawnCli(['pull', '--store', storeDir, '--cert-dir', certsDir, '--progress', 'plain', ref], {
      cleanEnv: true,
      env: {
        PATH: process.env.PATH,
        HOME: join(tmp.path, 'home'),
        DOCKER_CONFIG: docker,
        HTTPS_PROXY: proxyWithAuth(proxy),
      },
    });
    expect(run.err).not.toContain(PROXY_PASS);
    expect(run.code).toBe(0);
    const store = await openStore({ root: storeDir });
    expect(store.resolveRef(ref).descriptor.digest).toMatch(/^sha256:/);
    expect(proxy.saw.length).toBeGreaterThan(0);
    expect(proxy.saw.every((s) => s.method === 'CONNECT' && s.target === tlsHost && s.status === 200)).toBe(true);
    expectNoRegistrySecret(proxy);

    // The same pull with the proxy refusing: exit 1, the coded error, no password on the terminal.
    const refused = await spawnCli(['pull', '--store', join(tmp.path, 'cli-2'), '--cert-dir', certsDir, ref], {
      cleanEnv: true,
      env: {
        PATH: process.env.PATH,
        HOME: join(tmp.path, 'home'),
        DOCKER_CONFIG: docker,
        HTTPS_PROXY: proxy.url.replace('://', `://${PROXY_USER}:wrong-secret@`),
      },
    });
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/ERR_REGISTRY_PROXY/);
    expect(refused.err).toContain(proxy.url);
    expect(refused.err + refused.out).not.toContain('wrong-secret');
  });
});
