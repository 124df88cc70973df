/**
 * Where credentials come from, as docker and podman look: docker's config.json (`auths` with
 * normalised keys, Docker Hub's URL key, `credHelpers`, `credsStore`, identity tokens),
 * REGISTRY_AUTH_FILE with namespace keys, credential helpers run with a timeout ("not found" is
 * anonymous); and where login writes (config.json, or the helper's `store`).
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { test, it } from '../helpers/fixtures.js';
import { isLayerkitError } from '../../src/index.js';
import { findCredentials } from '../../src/low-level.js';
import { eraseCredentials, storeCredentials } from '../../src/registry/credentials.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('credentials', () => {
  let tmp: string;
  let env: NodeJS.ProcessEnv;
  test.beforeEach(({ tmp: fresh }) => {
    tmp = fresh;
    fs.mkdirSync(join(tmp, 'docker'));
    fs.mkdirSync(join(tmp, 'bin'));
    env = {
      HOME: join(tmp, 'home'),
      DOCKER_CONFIG: join(tmp, 'docker'),
      PATH: `${join(tmp, 'bin')}:/usr/bin:/bin`,
    };
  });
  const config = (value: unknown) => fs.writeFileSync(join(tmp, 'docker', 'config.json'), JSON.stringify(value));
  /** A docker-credential-NAME that answers `get` from a table and logs every call. */
  const helper = (name: string, table: Record<string, { Username: string; Secret: string }>, extra = '') => {
    const file = join(tmp, 'bin', `docker-credential-${name}`);
    fs.writeFileSync(
      file,
      `#!/bin/sh
input=$(cat)
echo "$1 $input" >> "${tmp}/${name}.log"
${extra}
case "$1" in
  get)
    case "$input" in
${Object.entries(table)
  .map(
    ([host, c]) => `      ${host}) echo '{"ServerURL":"${host}","Username":"${c.Username}","Secret":"${c.Secret}"}' ;;`,
  )
  .join('\n')}
      *) echo "credentials not found in native keychain"; exit 1 ;;
    esac ;;
  store|erase) exit 0 ;;
esac
`,
      { mode: 0o755 },
    );
  };

  it.each([
    [
      '127.0.0.1:5001',
      { auths: { '127.0.0.1:5001': { auth: b64('alice:s3cret') } } },
      { username: 'alice', password: 's3cret' },
    ],
    [
      '127.0.0.1:5001',
      { auths: { 'https://127.0.0.1:5001/v1/': { auth: b64('bob:pw:with:colons') } } },
      { username: 'bob', password: 'pw:with:colons' },
    ],
    [
      'docker.io',
      { auths: { 'https://index.docker.io/v1/': { auth: b64('hub:pw') } } },
      { username: 'hub', password: 'pw' },
    ],
    [
      'docker.io',
      { auths: { 'registry-1.docker.io': { username: 'u', password: 'p' } } },
      { username: 'u', password: 'p' },
    ],
    ['ghcr.io', { auths: { 'ghcr.io': { identitytoken: 'refresh-me' } } }, { identityToken: 'refresh-me' }],
    ['ghcr.io', { auths: { 'ghcr.io': { auth: b64('nocolon') } } }, undefined],
    ['other.example', { auths: { 'ghcr.io': { auth: b64('a:b') } } }, undefined],
  ])('config.json auths for %s', async (registry, file, expected) => {
    config(file);
    expect(await findCredentials({ registry, env })).toEqual(expected);
  });

  it('credHelpers win for their host; credsStore covers the rest; "not found" falls back to auths', async () => {
    helper('lktest', { 'reg.example': { Username: 'helped', Secret: 'from-helper' } });
    helper('store', { 'https://index.docker.io/v1/': { Username: '<token>', Secret: 'identity' } });
    config({
      credHelpers: { 'reg.example': 'lktest' },
      credsStore: 'store',
      auths: { 'plain.example': { auth: b64('p:q') } },
    });
    expect(await findCredentials({ registry: 'reg.example', env })).toEqual({
      username: 'helped',
      password: 'from-helper',
    });
    expect(await findCredentials({ registry: 'docker.io', env })).toEqual({ identityToken: 'identity' });
    expect(await findCredentials({ registry: 'plain.example', env })).toEqual({ username: 'p', password: 'q' });
    expect(fs.readFileSync(join(tmp, 'lktest.log'), 'utf8')).toBe('get reg.example\n');
  });

  it('a helper that hangs is stopped after the timeout with a coded error; a missing helper is named', async () => {
    helper('slow', {}, 'sleep 5');
    config({ credHelpers: { 'reg.example': 'slow' } });
    const err = await findCredentials({ registry: 'reg.example', env, helperTimeoutMs: 200 }).catch((e: unknown) => e);
    expect(isLayerkitError(err, 'ERR_REGISTRY_AUTH')).toBe(true);
    expect((err as Error).message).toMatch(/docker-credential-slow did not answer within 200 ms/);
    config({ credHelpers: { 'reg.example': 'absent' } });
    await expect(findCredentials({ registry: 'reg.example', env })).rejects.toThrow(
      /docker-credential-absent is not installed/,
    );
  });

  it('REGISTRY_AUTH_FILE comes first and its namespace keys match the most specific first', async () => {
    const authFile = join(tmp, 'auth.json');
    fs.writeFileSync(
      authFile,
      JSON.stringify({
        auths: {
          'reg.example': { auth: b64('host:1') },
          'reg.example/team': { auth: b64('team:2') },
          'reg.example/team/app': { auth: b64('app:3') },
        },
      }),
    );
    config({ auths: { 'reg.example': { auth: b64('docker:0') } } });
    const e = { ...env, REGISTRY_AUTH_FILE: authFile };
    expect(await findCredentials({ registry: 'reg.example', repository: 'team/app', env: e })).toEqual({
      username: 'app',
      password: '3',
    });
    expect(await findCredentials({ registry: 'reg.example', repository: 'team/other', env: e })).toEqual({
      username: 'team',
      password: '2',
    });
    expect(await findCredentials({ registry: 'reg.example', repository: 'x/y', env: e })).toEqual({
      username: 'host',
      password: '1',
    });
    expect(await findCredentials({ registry: 'reg.example', env })).toEqual({ username: 'docker', password: '0' });
  });

  it('login writes config.json auths (0600) as docker does, or hands the secret to the configured helper', async () => {
    const saved = await storeCredentials({ registry: 'docker.io', username: 'me', password: 'pw', env });
    expect(saved.where).toBe(join(tmp, 'docker', 'config.json'));
    const written = JSON.parse(fs.readFileSync(saved.where, 'utf8'));
    expect(written.auths).toEqual({ 'https://index.docker.io/v1/': { auth: b64('me:pw') } });
    expect(fs.statSync(saved.where).mode & 0o777).toBe(0o600);
    expect(await eraseCredentials({ registry: 'docker.io', env })).toBe(true);
    expect(JSON.parse(fs.readFileSync(saved.where, 'utf8')).auths).toEqual({});

    helper('keep', {});
    config({ credsStore: 'keep' });
    expect((await storeCredentials({ registry: 'reg.example', username: 'u', password: 'secret', env })).where).toBe(
      'docker-credential-keep',
    );
    const log = fs.readFileSync(join(tmp, 'keep.log'), 'utf8');
    expect(JSON.parse(log.slice('store '.length))).toEqual({
      ServerURL: 'reg.example',
      Username: 'u',
      Secret: 'secret',
    });
    // as docker's nativeStore: an empty entry says where one is logged in, the secret is the helper's
    const after = JSON.parse(fs.readFileSync(join(tmp, 'docker', 'config.json'), 'utf8'));
    expect(after).toEqual({ credsStore: 'keep', auths: { 'reg.example': {} } });
    expect(await findCredentials({ registry: 'reg.example', env })).toBeUndefined(); // the helper has none
    expect(await eraseCredentials({ registry: 'reg.example', env })).toBe(true);
    expect(JSON.parse(fs.readFileSync(join(tmp, 'docker', 'config.json'), 'utf8')).auths).toEqual({});
  });
});
