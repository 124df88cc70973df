/**
 * The registry commands as a user runs them (whole CLI processes): login checks the password
 * and saves it where docker does, push and pull use it (plain and JSON progress), logout removes
 * it, and a wrong password is a one-line coded error that never shows the password.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect } from 'vitest';
import { it, test } from '../helpers/fixtures.js';
import { openStore } from '../../src/index.js';
import { registryTestbedMissing, startTestbed, type Testbed } from '../helpers/registry-testbed.js';
import { makeImage } from './images.js';
import { spawnCli } from '../helpers/spawn-cli.js';

const missing = registryTestbedMissing();

describe.skipIf(missing !== undefined)(`layerkit pull/push/login/logout${missing ? ` (${missing})` : ''}`, () => {
  let bed: Testbed;
  let tmp: string;
  test.beforeAll(async ({ fileTmp }) => {
    bed = await startTestbed({ tls: true });
    tmp = fileTmp;
  });
  afterAll(async () => {
    await bed?.stop();
  });

  /** The CLI in a process of its own, with an environment of its own (no host credentials). */
  function cli(args: string[], input?: string) {
    return spawnCli(args, {
      stdin: input ?? '',
      cleanEnv: true,
      env: { PATH: process.env.PATH, HOME: join(tmp, 'home'), DOCKER_CONFIG: join(tmp, 'docker') },
    });
  }

  it('login, push, pull, logout against HTTPS + basic auth', async () => {
    const host = bed.tls!.host;
    const certs = ['--cert-dir', bed.certsDir];
    const wrong = await cli(['login', '-u', 'alice', '--password-stdin', ...certs, host], 'wrong-password\n');
    expect(wrong.code).toBe(1);
    expect(wrong.err).toMatch(/ERR_REGISTRY_AUTH/);
    expect(wrong.err + wrong.out).not.toContain('wrong-password');
    expect(fs.existsSync(join(tmp, 'docker', 'config.json'))).toBe(false);

    const ok = await cli(['login', '-u', 'alice', '--password-stdin', ...certs, host], `${bed.pass}\n`);
    expect(ok.err).toBe('');
    expect(ok.code).toBe(0);
    const config = JSON.parse(fs.readFileSync(join(tmp, 'docker', 'config.json'), 'utf8'));
    expect(config.auths[host].auth).toBe(Buffer.from(`alice:${bed.pass}`).toString('base64'));
    expect(fs.statSync(join(tmp, 'docker', 'config.json')).mode & 0o777).toBe(0o600);

    const storeA = join(tmp, 'a');
    const a = await openStore({ root: storeA });
    const img = await makeImage(a, 'app:1', [{ 'etc/hello': 'hello\n' }]);
    const push = await cli(['push', '--store', storeA, '--progress', 'plain', ...certs, 'app:1', `${host}/cli/app:1`]);
    expect(push.code).toBe(0);
    expect(push.out).toContain(`pushed ${host}/cli/app:1 ${img.descriptor.digest}`);
    expect(push.err.trim().split('\n')).toHaveLength(2); // one line per blob (config and layer)
    expect(push.err).toMatch(/: pushed /);

    const storeB = join(tmp, 'b');
    const pull = await cli(['pull', '--store', storeB, '--progress', 'json', ...certs, `${host}/cli/app:1`]);
    expect(pull.code).toBe(0);
    const events = pull.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events.filter((e) => e.kind === 'blob' && e.status === 'pulled')).toHaveLength(2);
    const lastEvent = events[events.length - 1];
    expect(lastEvent.total).toMatchObject({ blobs: 2, done: 2 });
    const b = await openStore({ root: storeB });
    expect(b.resolveRef(`${host}/cli/app:1`).descriptor.digest).toBe(img.descriptor.digest);

    const out = await cli(['logout', host]);
    expect(out.code).toBe(0);
    expect(JSON.parse(fs.readFileSync(join(tmp, 'docker', 'config.json'), 'utf8')).auths[host]).toBeUndefined();
    const denied = await cli(['pull', '--store', join(tmp, 'c'), ...certs, `${host}/cli/app:1`]);
    expect(denied.code).toBe(1);
    expect(denied.err).toMatch(/ERR_REGISTRY_AUTH.*layerkit login/s);
  });
});
