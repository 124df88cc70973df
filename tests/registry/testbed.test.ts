/**
 * Pull and push against the three real registries of the testbed (distribution 2.8): plain HTTP
 * anonymous, HTTPS with a private CA and htpasswd basic auth, and token auth (anonymous pull,
 * push only with credentials, a wrong password refused with a clear error).
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  flattenImage,
  isLayerkitError,
  listFlat,
  loginRegistry,
  openStore,
  pullImage,
  pushImage,
  readFlatFile,
} from '../../src/index.js';
import { registryTestbedMissing, startTestbed, type Testbed } from '../helpers/registry-testbed.js';
import { makeImage, noise, storeSnapshot } from './images.js';

const missing = registryTestbedMissing();

describe.skipIf(missing !== undefined)(`registries of the testbed${missing ? ` (${missing})` : ''}`, () => {
  let bed: Testbed;
  const env = { HOME: '/nonexistent-home', PATH: process.env.PATH };
  beforeAll(async () => {
    bed = await startTestbed();
  });
  afterAll(async () => {
    await bed?.stop();
  });

  async function roundTrip(host: string, extra: Record<string, unknown>) {
    const a = await openStore({ memory: true });
    const img = await makeImage(a, 'app:1', [
      { 'etc/hello': 'hello\n', 'bin/x': noise(50_000) },
      { 'etc/more': 'more\n' },
    ]);
    const ref = `${host}/test/app:1`;
    const pushed = await pushImage({ store: a, image: 'app:1', ref, env, ...extra });
    expect(pushed.descriptor.digest).toBe(img.descriptor.digest);
    expect(pushed.blobs.map((b) => b.status).sort()).toEqual(['pushed', 'pushed', 'pushed']);
    const b = await openStore({ memory: true });
    const pulled = await pullImage({ store: b, ref, env, ...extra });
    expect(pulled.image.descriptor.digest).toBe(img.descriptor.digest);
    expect(pulled.tag).toBe(ref);
    const flat = await flattenImage({ store: b, image: ref });
    expect(readFlatFile(flat, '/etc/hello').toString()).toBe('hello\n');
    expect(listFlat(flat, { path: '/etc' }).map((e) => e.path)).toContain('/etc/more');
    return { a, b, img, ref };
  }

  it('plain HTTP: push, pull, flatten; a second push uploads no blob bytes', async () => {
    const { a, ref } = await roundTrip(bed.plain!.host, {});
    const again = await pushImage({ store: a, image: 'app:1', ref, env });
    expect(again.bytesUploaded).toBe(0);
    expect(again.blobs.every((b) => b.status === 'exists')).toBe(true);
  });

  it('HTTPS with a private CA and basic auth; no CA is a TLS error, no credentials an auth error', async () => {
    const auth = { username: bed.user, password: bed.pass };
    await roundTrip(bed.tls!.host, { certsDir: bed.certsDir, auth });
    const store = await openStore({ memory: true });
    const before = storeSnapshot(store);
    await expect(pullImage({ store, ref: `${bed.tls!.host}/test/app:1`, env, auth })).rejects.toMatchObject({
      code: 'ERR_REGISTRY_TLS',
    });
    await expect(
      pullImage({ store, ref: `${bed.tls!.host}/test/app:1`, env, certsDir: bed.certsDir }),
    ).rejects.toMatchObject({ code: 'ERR_REGISTRY_AUTH' });
    expect(storeSnapshot(store)).toEqual(before);
  });

  it('token auth: push with credentials, anonymous pull, anonymous push refused, wrong password refused', async () => {
    const auth = { username: bed.user, password: bed.pass };
    const { a, ref } = await roundTrip(bed.token!.host, { certsDir: bed.certsDir, auth });
    const c = await openStore({ memory: true });
    const anon = await pullImage({ store: c, ref, env, certsDir: bed.certsDir });
    expect(anon.bytesDownloaded).toBeGreaterThan(50_000);
    const refused = await pushImage({
      store: a,
      image: 'app:1',
      ref: `${bed.token!.host}/test/other:1`,
      env,
      certsDir: bed.certsDir,
    }).catch((e: unknown) => e);
    expect(isLayerkitError(refused, 'ERR_REGISTRY_AUTH')).toBe(true);
    expect((refused as Error).message).toMatch(/refused anonymous access to push.*layerkit login/);
    const wrong = await pullImage({
      store: await openStore({ memory: true }),
      ref,
      env,
      certsDir: bed.certsDir,
      auth: { username: bed.user, password: 'nope' },
    }).catch((e: unknown) => e);
    expect(isLayerkitError(wrong, 'ERR_REGISTRY_AUTH')).toBe(true);
    expect((wrong as Error).message).toMatch(/refused the credentials of user "alice"/);
    expect((wrong as Error).message).not.toContain('nope');
    // login against the token server: a wrong password is refused, the right one saved
    const docker = join(bed.dir, 'docker-config');
    await expect(
      loginRegistry({
        registry: bed.token!.host,
        username: bed.user,
        password: 'nope',
        certsDir: bed.certsDir,
        env: { DOCKER_CONFIG: docker },
      }),
    ).rejects.toMatchObject({ code: 'ERR_REGISTRY_AUTH' });
    expect(fs.existsSync(join(docker, 'config.json'))).toBe(false);
    await loginRegistry({
      registry: bed.token!.host,
      username: bed.user,
      password: bed.pass,
      certsDir: bed.certsDir,
      env: { DOCKER_CONFIG: docker },
    });
    const pushedWithLogin = await pushImage({
      store: a,
      image: 'app:1',
      ref: `${bed.token!.host}/test/login:1`,
      env: { DOCKER_CONFIG: docker },
      certsDir: bed.certsDir,
    });
    expect(pushedWithLogin.descriptor.digest).toBe(anon.image.descriptor.digest);
    const log = fs.readFileSync(bed.tokenLog, 'utf8');
    expect(log).toMatch(/scope=\["repository:test\/app:pull,push"\]/);
  });
});
