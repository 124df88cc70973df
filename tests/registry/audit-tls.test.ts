/**
 * Connection settings and credentials against real registries (distribution 2.8), over the
 * project's own HTTP transport (no undici dispatcher): a registry that asks for a client
 * certificate (certs.d `client.cert` + `client.key`), a registry whose CA is unknown but which
 * the user names insecure (unverified TLS, the CLI's `--insecure`), credentials from a
 * REGISTRY_AUTH_FILE, a blob redirected to another origin (the credentials stay behind), and a
 * 401 without a challenge on a blob (a coded error naming ref and blob; the store unchanged).
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { it } from '../helpers/fixtures.js';
import { isLayerkitError, openStore, pullImage, pushImage, type Image } from '../../src/index.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { registryTestbedMissing, startTestbed, type Testbed } from '../helpers/registry-testbed.js';
import { spawnCli } from '../helpers/spawn-cli.js';
import { makeImage, noise, storeSnapshot } from './images.js';

const missing = registryTestbedMissing();
const env = { HOME: '/nonexistent-home' };

describe.skipIf(missing !== undefined)(
  `TLS, insecure registries and credentials${missing ? ` (${missing})` : ''}`,
  () => {
    let bed: Testbed;
    let image: Image;
    let src: Awaited<ReturnType<typeof openStore>>;
    beforeAll(async () => {
      bed = await startTestbed({ plain: true, tls: true, mtls: true, token: true });
      src = await openStore({ memory: true });
      image = await makeImage(src, 'app:1', [{ 'etc/hello': 'hello\n', 'bin/x': noise(60_000) }]);
    });
    afterAll(async () => {
      await bed?.stop();
    });

    it('a registry that asks for a client certificate gets the one in certs.d; without it, a TLS error that says so', async ({
      tmp,
    }) => {
      const host = bed.mtls!.host;
      const ref = `${host}/audit/mtls:1`;
      // certs.d with the CA only: the handshake is refused for want of a client certificate
      const caOnly = join(tmp, 'ca-only');
      fs.mkdirSync(join(caOnly, host), { recursive: true });
      fs.copyFileSync(bed.ca, join(caOnly, host, 'ca.crt'));
      const store = await openStore({ memory: true });
      const before = storeSnapshot(store);
      const refused = await pushImage({ store: src, image: 'app:1', ref, env, certsDir: caOnly, retries: 0 }).catch(
        (e: unknown) => e,
      );
      expect(isLayerkitError(refused, 'ERR_REGISTRY_TLS'), String(refused)).toBe(true);
      expect((refused as Error).message).toMatch(/client certificate/);
      expect((refused as Error).message).toContain(`certs.d/${host}/client.cert`);
      // the CLI says the same, and its hint points at certs.d, not at --insecure (which cannot help)
      const cli = await spawnCli(['pull', '--store', join(tmp, 'cli-store'), '--cert-dir', caOnly, ref], {
        cleanEnv: true,
        env: { PATH: process.env.PATH, HOME: join(tmp, 'home') },
      });
      expect(cli.code).toBe(1);
      expect(cli.err).toMatch(/ERR_REGISTRY_TLS.*client certificate/s);
      expect(cli.err).toMatch(/client\.cert and client\.key/);
      expect(cli.err).not.toMatch(/--insecure/);
      // the testbed's certs.d plus client.cert and client.key: push and pull work
      const full = join(tmp, 'full');
      fs.mkdirSync(join(full, host), { recursive: true });
      fs.copyFileSync(bed.ca, join(full, host, 'ca.crt'));
      fs.copyFileSync(bed.clientCert!, join(full, host, 'client.cert'));
      fs.copyFileSync(bed.clientKey!, join(full, host, 'client.key'));
      const pushed = await pushImage({ store: src, image: 'app:1', ref, env, certsDir: full });
      expect(pushed.descriptor.digest).toBe(image.descriptor.digest);
      await expect(pullImage({ store, ref, env, certsDir: caOnly, retries: 0 })).rejects.toMatchObject({
        code: 'ERR_REGISTRY_TLS',
      });
      expect(storeSnapshot(store)).toEqual(before);
      const pulled = await pullImage({ store, ref, env, certsDir: full });
      expect(pulled.image.descriptor.digest).toBe(image.descriptor.digest);
      // a client.cert without its key is a clear error, not a crash
      fs.rmSync(join(full, host, 'client.key'));
      await expect(pullImage({ store, ref, env, certsDir: full })).rejects.toMatchObject({
        code: 'ERR_REGISTRY_TLS',
        message: expect.stringMatching(/client\.key/),
      });
    });

    it('a registry named insecure is used with an unknown CA (API and --insecure); credentials from REGISTRY_AUTH_FILE', async ({
      tmp,
    }) => {
      const host = bed.tls!.host;
      const ref = `${host}/audit/insecure:1`;
      const auth = { username: bed.user, password: bed.pass };
      // no certs.d at all: the private CA is unknown
      const noCerts = join(tmp, 'empty-certs');
      fs.mkdirSync(noCerts);
      await expect(pushImage({ store: src, image: 'app:1', ref, env, auth, certsDir: noCerts })).rejects.toMatchObject({
        code: 'ERR_REGISTRY_TLS',
      });
      const pushed = await pushImage({
        store: src,
        image: 'app:1',
        ref,
        env,
        auth,
        certsDir: noCerts,
        insecure: [host],
      });
      expect(pushed.descriptor.digest).toBe(image.descriptor.digest);
      // The CLI, as a user runs it: credentials in an auth.json, --insecure for the unknown CA.
      const authFile = join(tmp, 'auth.json');
      fs.writeFileSync(
        authFile,
        JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${bed.user}:${bed.pass}`).toString('base64') } } }),
      );
      const cliEnv = {
        PATH: process.env.PATH,
        HOME: join(tmp, 'home'),
        REGISTRY_AUTH_FILE: authFile,
        LAYERKIT_CERTS_DIR: noCerts,
      };
      const store = join(tmp, 'store');
      const refused = await spawnCli(['pull', '--store', store, ref], { cleanEnv: true, env: cliEnv });
      expect(refused.code).toBe(1);
      expect(refused.err).toMatch(/ERR_REGISTRY_TLS/);
      expect(refused.err).toMatch(/--insecure/);
      const ok = await spawnCli(['pull', '--store', store, '--insecure', '--progress', 'plain', ref], {
        cleanEnv: true,
        env: cliEnv,
      });
      expect(ok.code, ok.err).toBe(0);
      expect((await openStore({ root: store })).resolveRef(ref).descriptor.digest).toBe(image.descriptor.digest);
      expect(ok.err + ok.out).not.toContain(bed.pass);
    });

    describe('redirects and challenges through a proxy in front of the plain registry', () => {
      let front: FaultProxy;
      let other: FaultProxy;
      beforeAll(async () => {
        await pushImage({ store: src, image: 'app:1', ref: `${bed.plain!.host}/audit/app:1`, env });
        front = await startFaultProxy(bed.plain!.host);
        other = await startFaultProxy(bed.plain!.host);
      });
      afterAll(async () => {
        await front?.close();
        await other?.close();
      });

      it('a blob redirected to another origin is fetched there without the credentials', async () => {
        const layer = image.layers[0]!.digest;
        // The front asks for basic auth (a challenge to every request without credentials) and
        // sends the layer's GET to another origin (another port: a CDN, a storage bucket).
        front.rules.push(
          {
            path: /^\/v2\//,
            unauthorized: true,
            action: { kind: 'status', status: 401, headers: { 'www-authenticate': 'Basic realm="audit"' } },
          },
          {
            method: 'GET',
            path: new RegExp(`/blobs/${layer}$`),
            action: { kind: 'redirect', location: `http://${other.host}/v2/audit/app/blobs/${layer}?sig=1` },
          },
        );
        const store = await openStore({ memory: true });
        const r = await pullImage({
          store,
          ref: `${front.host}/audit/app:1`,
          env,
          auth: { username: 'alice', password: 'redirect-secret' },
        });
        expect(r.image.descriptor.digest).toBe(image.descriptor.digest);
        expect(await store.blobs.check(layer as never)).toBeUndefined();
        const asked = front.log.filter((e) => e.method === 'GET' && e.url.endsWith(layer));
        expect(asked).toHaveLength(1);
        expect(asked[0]).toMatchObject({ authorization: true, status: 307 });
        expect(other.log.map((e) => `${e.method} ${e.url} ${e.authorization}`)).toEqual([
          `GET /v2/audit/app/blobs/${layer}?sig=1 false`,
        ]);
        // the registry's own requests all carried the credentials once challenged
        expect(front.log.filter((e) => e.status !== 401).every((e) => e.authorization)).toBe(true);
      });

      it('a redirect target that asks for a token gets an anonymous one: the credentials never reach its realm', async () => {
        front.rules.length = 0;
        other.rules.length = 0;
        other.log.length = 0;
        const layer = image.layers[0]!.digest;
        const realm = `https://${bed.tokenServer!.host}/token`;
        front.rules.push(
          {
            path: /^\/v2\//,
            unauthorized: true,
            action: { kind: 'status', status: 401, headers: { 'www-authenticate': 'Basic realm="audit"' } },
          },
          {
            method: 'GET',
            path: new RegExp(`/blobs/${layer}$`),
            action: { kind: 'redirect', location: `http://${other.host}/v2/audit/app/blobs/${layer}` },
          },
        );
        // The other origin wants a bearer token of its own, from a realm it names.
        other.rules.push({
          path: /^\/v2\//,
          unauthorized: true,
          action: {
            kind: 'status',
            status: 401,
            headers: { 'www-authenticate': `Bearer realm="${realm}",service="cdn",scope="repository:audit/app:pull"` },
          },
        });
        const logged = () =>
          fs.existsSync(bed.tokenLog) ? fs.readFileSync(bed.tokenLog, 'utf8').trim().split('\n') : [];
        const before = logged().length;
        const store = await openStore({ memory: true });
        const r = await pullImage({
          store,
          ref: `${front.host}/audit/app:1`,
          env,
          certsDir: bed.certsDir,
          auth: { username: bed.user, password: bed.pass },
        });
        expect(r.image.descriptor.digest).toBe(image.descriptor.digest);
        expect(other.log.map((e) => `${e.status} ${e.authorization}`)).toEqual(['401 false', '200 true']);
        const asked = logged().slice(before);
        expect(asked).toHaveLength(1);
        expect(asked[0]).toMatch(/^GET sub=- service=cdn /);
        // A redirect target that wants basic auth gets none: a coded error naming it, nothing sent.
        other.rules.length = 0;
        other.log.length = 0;
        other.rules.push({
          path: /^\/v2\//,
          action: { kind: 'status', status: 401, headers: { 'www-authenticate': 'Basic realm="cdn"' } },
        });
        const err = await pullImage({
          store: await openStore({ memory: true }),
          ref: `${front.host}/audit/app:1`,
          env,
          auth: { username: bed.user, password: bed.pass },
        }).catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'ERR_REGISTRY_AUTH', data: expect.objectContaining({ host: other.host }) });
        expect((err as Error).message).toMatch(/sends no credentials to another host/);
        expect(other.log.every((e) => !e.authorization)).toBe(true);
      });

      it('a 401 without a challenge on a blob is ERR_REGISTRY_AUTH naming ref and blob; the store is unchanged', async ({
        tmp,
      }) => {
        front.rules.length = 0;
        const layer = image.layers[0]!.digest;
        front.rules.push({
          method: 'GET',
          path: new RegExp(`/blobs/${layer}$`),
          action: { kind: 'status', status: 401 },
        });
        const store = await openStore({ root: join(tmp, 'store') });
        const before = storeSnapshot(store);
        const ref = `${front.host}/audit/app:1`;
        const err = await pullImage({ store, ref, env, retryDelayMs: 5 }).catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'ERR_REGISTRY_AUTH', data: expect.objectContaining({ ref, blob: layer }) });
        expect((err as Error).message).toContain(layer);
        expect((err as Error).message).toMatch(/without a WWW-Authenticate challenge/);
        expect(storeSnapshot(store)).toEqual(before);
        expect(store.listState('tmp')).toEqual([]);
      });
    });
  },
);
