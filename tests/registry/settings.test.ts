/**
 * Registry settings: plain HTTP only for loopback or insecure registries, mirrors from a
 * registries.conf (an offline machine pulls docker.io names from a local mirror), and the
 * registries.conf reader itself.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { MockAgent } from 'undici';
import { afterAll, describe, expect } from 'vitest';
import { it, test } from '../helpers/fixtures.js';
import { openStore, pullImage, pushImage } from '../../src/index.js';
import { mirrorsFor, parseRegistriesConf } from '../../src/low-level.js';
import { registryTestbedMissing, startTestbed, type Testbed } from '../helpers/registry-testbed.js';
import { makeImage } from './images.js';

const env = { HOME: '/nonexistent-home' };

describe('plain HTTP', () => {
  const plainTls = () => Object.assign(new Error('wrong version number'), { code: 'ERR_SSL_WRONG_VERSION_NUMBER' });

  it('is refused for a registry that is neither loopback nor named insecure, and used when it is named', async () => {
    const agent = new MockAgent();
    agent.disableNetConnect();
    agent.get('https://reg.test').intercept({ path: '/v2/', method: 'GET' }).replyWithError(plainTls()).persist();
    agent.get('http://reg.test').intercept({ path: '/v2/', method: 'GET' }).reply(200, '{}').persist();
    agent.get('http://reg.test').intercept({ path: '/v2/app/manifests/1', method: 'HEAD' }).reply(404, '').persist();
    const store = await openStore({ memory: true });
    await expect(pullImage({ store, ref: 'reg.test/app:1', env, dispatcher: agent })).rejects.toMatchObject({
      code: 'ERR_REGISTRY_TLS',
      message: expect.stringMatching(/does not speak TLS.*insecure/),
    });
    // named insecure: plain HTTP is used (and the missing tag is reported as such)
    await expect(
      pullImage({ store, ref: 'reg.test/app:1', env, dispatcher: agent, insecure: ['reg.test'] }),
    ).rejects.toMatchObject({ code: 'ERR_NOT_FOUND', data: { ref: 'reg.test/app:1' } });
    await agent.close();
  });
});

describe('registries.conf', () => {
  it('reads registry and mirror tables, comments and quoting', () => {
    const conf = parseRegistriesConf(`
unqualified-search-registries = ["docker.io"]
# a comment
[[registry]]
prefix = "docker.io"
location = "registry-1.docker.io"   # trailing comment
[[registry.mirror]]
location = "127.0.0.1:5000"
insecure = true
[[registry.mirror]]
location = 'mirror.example/path'
[[registry]]
location = "quay.io"
blocked = false
`);
    expect(conf).toEqual([
      {
        prefix: 'docker.io',
        location: 'registry-1.docker.io',
        mirrors: [{ location: '127.0.0.1:5000', insecure: true }, { location: 'mirror.example/path' }],
      },
      { location: 'quay.io', blocked: false, mirrors: [] },
    ]);
  });

  it('lists mirrors first, then the registry; path mirrors are skipped', ({ tmp }) => {
    const file = join(tmp, 'registries.conf');
    fs.writeFileSync(
      file,
      '[[registry]]\nprefix = "docker.io"\n[[registry.mirror]]\nlocation = "127.0.0.1:5000"\ninsecure = true\n[[registry.mirror]]\nlocation = "m.example/hub"\n',
    );
    expect(mirrorsFor('docker.io', { LAYERKIT_REGISTRIES_CONF: file })).toEqual([
      { registry: '127.0.0.1:5000', host: '127.0.0.1:5000', insecure: true },
      { registry: 'docker.io', host: 'registry-1.docker.io' },
    ]);
    expect(mirrorsFor('quay.io', { LAYERKIT_REGISTRIES_CONF: file })).toEqual([
      { registry: 'quay.io', host: 'quay.io' },
    ]);
  });
});

const missing = registryTestbedMissing();
describe.skipIf(missing !== undefined)(`a docker.io mirror${missing ? ` (${missing})` : ''}`, () => {
  let bed: Testbed;
  let tmp: string;
  test.beforeAll(async ({ fileTmp }) => {
    bed = await startTestbed({ plain: true });
    tmp = fileTmp;
  });
  afterAll(async () => {
    await bed?.stop();
  });

  it('serves `alpine:3.20` on a machine with no way to Docker Hub', async ({ store: src }) => {
    const img = await makeImage(src, 'x:1', [{ 'etc/os-release': 'ID=alpine\n' }]);
    await pushImage({ store: src, image: 'x:1', ref: `${bed.plain!.host}/library/alpine:3.20`, env });
    const conf = join(tmp, 'registries.conf');
    fs.writeFileSync(
      conf,
      `[[registry]]\nprefix = "docker.io"\n[[registry.mirror]]\nlocation = "${bed.plain!.host}"\n`,
    );
    const store = await openStore({ memory: true });
    const r = await pullImage({ store, ref: 'alpine:3.20', env: { ...env, LAYERKIT_REGISTRIES_CONF: conf } });
    expect(r.image.descriptor.digest).toBe(img.descriptor.digest);
    expect(r.tag).toBe('alpine:3.20');
    expect(store.resolveRef('docker.io/library/alpine:3.20').descriptor.digest).toBe(img.descriptor.digest);
  });
});
