/**
 * Multi-platform indexes and cross-repository mounts against real registries: an index (two
 * platforms and a BuildKit-style attestation) pushed byte-exact, pulled for one platform
 * (attestation skipped, other platforms not fetched) or whole (`allPlatforms`), pushed again to
 * another repository by mounting every blob; on the token registry a mount asks for pull on the
 * source repository, and an OAuth2 refresh token (docker's identitytoken) authenticates.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, describe, expect } from 'vitest';
import { it, test } from '../helpers/fixtures.js';
import {
  MediaTypes,
  openStore,
  pullImage,
  pushImage,
  writeImage,
  type Descriptor,
  type Image,
  type Store,
} from '../../src/index.js';
import { canonicalJsonBytes } from '../../src/low-level.js';
import { missingPeer, run } from '../helpers/peers.js';
import { registryTestbedMissing, startTestbed, type Testbed } from '../helpers/registry-testbed.js';
import { makeImage, noise } from './images.js';

const skip = registryTestbedMissing() ?? missingPeer('skopeo');
const env = { HOME: '/nonexistent-home' };

async function platformImage(store: Store, arch: string, tag: string): Promise<Image> {
  const img = await makeImage(store, `${tag}-base`, [{ [`etc/${arch}`]: `${arch}\n`, 'bin/data': noise(20_000) }]);
  return writeImage({
    store,
    config: { ...img.config, architecture: arch, ...(arch === 'arm64' ? { variant: 'v8' } : {}) },
    layers: img.layers,
    tags: [tag],
  });
}

describe.skipIf(skip !== undefined)(`indexes and mounts${skip ? ` (${skip})` : ''}`, () => {
  let bed: Testbed;
  let tmp: string;
  let src: Store;
  let index: Descriptor;
  let indexBytes: Buffer;
  let amd: Image;
  let arm: Image;
  let attestation: Descriptor;
  test.beforeAll(async ({ fileTmp }) => {
    bed = await startTestbed({ plain: true, token: true });
    tmp = fileTmp;
    src = await openStore({ memory: true });
    amd = await platformImage(src, 'amd64', 'p:amd64');
    arm = await platformImage(src, 'arm64', 'p:arm64');
    const statement = await src.blobs.put(Buffer.from('{"_type":"https://in-toto.io/Statement/v0.1"}'));
    const attConfig = await src.blobs.put(
      Buffer.from('{"architecture":"unknown","os":"unknown","rootfs":{"type":"layers","diff_ids":[]}}'),
    );
    const attManifest = canonicalJsonBytes({
      schemaVersion: 2,
      mediaType: MediaTypes.ociManifest,
      config: { mediaType: MediaTypes.ociConfig, digest: attConfig.digest, size: attConfig.size },
      layers: [{ mediaType: 'application/vnd.in-toto+json', digest: statement.digest, size: statement.size }],
    });
    const att = await src.blobs.put(attManifest);
    attestation = {
      mediaType: MediaTypes.ociManifest,
      digest: att.digest,
      size: att.size,
      platform: { architecture: 'unknown', os: 'unknown' },
      annotations: {
        'vnd.docker.reference.digest': amd.descriptor.digest,
        'vnd.docker.reference.type': 'attestation-manifest',
      },
    };
    indexBytes = Buffer.from(
      `${JSON.stringify(
        {
          schemaVersion: 2,
          mediaType: MediaTypes.ociIndex,
          manifests: [
            { ...amd.descriptor, platform: { architecture: 'amd64', os: 'linux' } },
            { ...arm.descriptor, platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } },
            attestation,
          ],
        },
        null,
        3,
      )}\n`,
    );
    const put = await src.blobs.put(indexBytes);
    index = { mediaType: MediaTypes.ociIndex, digest: put.digest, size: put.size };
    await src.tag('multi:1', index);
  });
  afterAll(async () => {
    await bed?.stop();
  });

  it('an index is pushed byte-exact, pulled for one platform or whole, and re-pushed by mounting', async () => {
    const host = bed.plain!.host;
    const pushed = await pushImage({ store: src, image: 'multi:1', ref: `${host}/idx/multi:1`, env });
    expect(pushed.descriptor.digest).toBe(index.digest);
    const raw = run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${host}/idx/multi:1`]);
    expect(raw).toBe(indexBytes.toString('utf8'));

    const one = await openStore({ memory: true });
    const r = await pullImage({ store: one, ref: `${host}/idx/multi:1`, platform: 'linux/arm64', env });
    expect(r.resolved.digest).toBe(index.digest);
    expect(r.image.descriptor.digest).toBe(arm.descriptor.digest);
    expect(r.image.config.architecture).toBe('arm64');
    expect(one.resolveRef(`${host}/idx/multi:1`).descriptor.digest).toBe(arm.descriptor.digest);
    expect(one.blobs.has(amd.layers[0]!.digest)).toBe(false);
    expect(one.blobs.has(attestation.digest)).toBe(false);

    const all = await openStore({ memory: true });
    const whole = await pullImage({
      store: all,
      ref: `${host}/idx/multi:1`,
      allPlatforms: true,
      platform: 'linux/amd64',
      env,
    });
    expect(whole.image.descriptor.digest).toBe(amd.descriptor.digest);
    expect(all.resolveRef(`${host}/idx/multi:1`).descriptor.digest).toBe(index.digest);
    for (const d of [amd.descriptor, arm.descriptor, attestation, ...amd.layers, ...arm.layers])
      expect(all.blobs.has(d.digest)).toBe(true);

    const copy = await pushImage({ store: all, image: `${host}/idx/multi:1`, ref: `${host}/idx/copy:1`, env });
    expect(copy.descriptor.digest).toBe(index.digest);
    expect(copy.bytesUploaded).toBe(0);
    expect(new Set(copy.blobs.map((b) => b.status))).toEqual(new Set(['mounted']));
    expect(fs.readFileSync(bed.plain!.log, 'utf8')).toMatch(/mount=sha256%3A[0-9a-f]{64}&from=idx%2Fmulti/);
  });

  it('token registry: a mount asks for pull on the source; an identity token authenticates', async () => {
    const host = bed.token!.host;
    const auth = { username: bed.user, password: bed.pass };
    const s = await openStore({ memory: true });
    await makeImage(s, 'app:1', [{ 'f/x': noise(30_000) }]);
    await pushImage({ store: s, image: 'app:1', ref: `${host}/team/a:1`, env, auth, certsDir: bed.certsDir });
    const second = await pushImage({
      store: s,
      image: 'app:1',
      ref: `${host}/team/b:1`,
      env,
      auth,
      certsDir: bed.certsDir,
    });
    expect(second.blobs.map((b) => b.status)).toEqual(['mounted', 'mounted']);
    const log = fs.readFileSync(bed.tokenLog, 'utf8');
    expect(log).toMatch(/scope=\["repository:team\/b:pull,push","repository:team\/a:pull"\]/);

    // A refresh token, as `docker login` keeps for registries that hand one out.
    const realm = `https://${bed.tokenServer!.host}/token`;
    const dispatcher = new Agent({ connect: { ca: fs.readFileSync(bed.ca, 'utf8') } });
    const res = await request(realm, {
      method: 'POST',
      dispatcher,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `grant_type=password&service=layerkit-test-registry&client_id=test&access_type=offline&username=${bed.user}&password=${bed.pass}`,
    });
    const { refresh_token } = (await res.body.json()) as { refresh_token: string };
    await dispatcher.close();
    const docker = join(tmp, 'docker');
    fs.mkdirSync(docker, { recursive: true });
    fs.writeFileSync(
      join(docker, 'config.json'),
      JSON.stringify({ auths: { [host]: { identitytoken: refresh_token } } }),
    );
    const pushed = await pushImage({
      store: s,
      image: 'app:1',
      ref: `${host}/team/c:1`,
      env: { ...env, DOCKER_CONFIG: docker },
      certsDir: bed.certsDir,
    });
    expect(pushed.blobs.map((b) => b.status)).toEqual(['mounted', 'mounted']);
    const lines = fs.readFileSync(bed.tokenLog, 'utf8').trim().split('\n');
    expect(lines[lines.length - 1]).toMatch(/^POST sub=alice .*repository:team\/c:pull,push/);
  });
});
