/**
 * Credential helpers as a user meets them, whole CLI processes against the HTTPS + basic auth
 * registry of the testbed: with `credsStore` in docker's config.json, `layerkit login` hands the
 * secret to `docker-credential-NAME store` (on standard input, never in argv) and leaves only an
 * empty `auths` entry, as docker does; `pull` and `push` get it back through `get`; `logout`
 * calls `erase`, and the next pull is refused. `credHelpers` wins over `credsStore` for its host.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect } from 'vitest';
import { it, test } from '../helpers/fixtures.js';
import { openStore } from '../../src/index.js';
import { registryTestbedMissing, startTestbed, type Testbed } from '../helpers/registry-testbed.js';
import { spawnCli } from '../helpers/spawn-cli.js';
import { REPO_ROOT } from '../helpers/dist.js';
import { hasTool } from '../helpers/tools.js';
import { makeImage } from './images.js';

const missing = registryTestbedMissing();

/** A docker-credential-NAME that keeps its secrets in a JSON file and logs each call (verb and argv). */
function fileHelper(bin: string, name: string, dir: string): void {
  const db = join(dir, `${name}.json`);
  const log = join(dir, `${name}.log`);
  const file = join(bin, `docker-credential-${name}`);
  fs.writeFileSync(
    file,
    `#!/usr/bin/env node
const fs = require('node:fs');
const input = fs.readFileSync(0, 'utf8');
fs.appendFileSync(${JSON.stringify(log)}, process.argv.slice(2).join(' ') + '\\n');
let db = {};
try { db = JSON.parse(fs.readFileSync(${JSON.stringify(db)}, 'utf8')); } catch {}
const verb = process.argv[2];
if (verb === 'store') {
  const c = JSON.parse(input);
  db[c.ServerURL] = { Username: c.Username, Secret: c.Secret };
  fs.writeFileSync(${JSON.stringify(db)}, JSON.stringify(db));
} else if (verb === 'get') {
  const c = db[input.trim()];
  if (!c) { process.stdout.write('credentials not found in native keychain\\n'); process.exit(1); }
  process.stdout.write(JSON.stringify({ ServerURL: input.trim(), ...c }));
} else if (verb === 'erase') {
  delete db[input.trim()];
  fs.writeFileSync(${JSON.stringify(db)}, JSON.stringify(db));
}
`,
    { mode: 0o755 },
  );
}

describe.skipIf(missing !== undefined)(`login through credential helpers${missing ? ` (${missing})` : ''}`, () => {
  let bed: Testbed;
  let tmp: string;
  test.beforeAll(async ({ fileTmp }) => {
    bed = await startTestbed({ tls: true, token: true });
    tmp = fileTmp;
  });
  afterAll(async () => {
    await bed?.stop();
  });

  it('credsStore: login stores in the helper, pull and push get it back, logout erases it', async () => {
    const host = bed.tls!.host;
    const bin = join(tmp, 'bin');
    const docker = join(tmp, 'docker');
    fs.mkdirSync(bin, { recursive: true });
    fs.mkdirSync(docker, { recursive: true });
    fileHelper(bin, 'vault', tmp);
    fileHelper(bin, 'other', tmp);
    fs.writeFileSync(join(docker, 'config.json'), JSON.stringify({ credsStore: 'vault' }));
    const cliEnv = {
      PATH: `${bin}:${process.env.PATH}`,
      HOME: join(tmp, 'home'),
      DOCKER_CONFIG: docker,
      LAYERKIT_CERTS_DIR: bed.certsDir,
    };
    const cli = (args: string[], stdin = '') => spawnCli(args, { stdin, cleanEnv: true, env: cliEnv });

    const wrong = await cli(['login', '-u', bed.user, '--password-stdin', host], 'not-it\n');
    expect(wrong.code).toBe(1);
    expect(wrong.err).toMatch(/ERR_REGISTRY_AUTH/);
    expect(fs.existsSync(join(tmp, 'vault.json'))).toBe(false); // nothing stored for a refused password

    const login = await cli(['login', '-u', bed.user, '--password-stdin', host], `${bed.pass}\n`);
    expect(login.code, login.err).toBe(0);
    expect(login.out + login.err).toContain('docker-credential-vault');
    expect(login.out + login.err).not.toContain(bed.pass);
    expect(JSON.parse(fs.readFileSync(join(tmp, 'vault.json'), 'utf8'))).toEqual({
      [host]: { Username: bed.user, Secret: bed.pass },
    });
    // as docker: an empty entry in auths, the secret only in the helper
    const config = fs.readFileSync(join(docker, 'config.json'), 'utf8');
    expect(JSON.parse(config)).toEqual({ credsStore: 'vault', auths: { [host]: {} } });
    expect(config).not.toContain(bed.pass);
    expect(fs.readFileSync(join(tmp, 'vault.log'), 'utf8')).not.toContain(bed.pass);

    const storeA = join(tmp, 'a');
    await makeImage(await openStore({ root: storeA }), 'app:1', [{ 'etc/hello': 'hello\n' }]);
    const push = await cli(['push', '--store', storeA, 'app:1', `${host}/helpers/app:1`]);
    expect(push.code, push.err).toBe(0);
    const pull = await cli(['pull', '--store', join(tmp, 'b'), `${host}/helpers/app:1`]);
    expect(pull.code, pull.err).toBe(0);
    expect(
      fs
        .readFileSync(join(tmp, 'vault.log'), 'utf8')
        .split('\n')
        .filter((l) => l === 'get').length,
    ).toBe(2);

    // credHelpers names another helper for this host: it wins, and it has nothing → refused
    fs.writeFileSync(
      join(docker, 'config.json'),
      JSON.stringify({ credsStore: 'vault', credHelpers: { [host]: 'other' }, auths: { [host]: {} } }),
    );
    const viaOther = await cli(['pull', '--store', join(tmp, 'c'), `${host}/helpers/app:1`]);
    expect(viaOther.code).toBe(1);
    expect(viaOther.err).toMatch(/ERR_REGISTRY_AUTH.*layerkit login/s);
    expect(fs.readFileSync(join(tmp, 'other.log'), 'utf8')).toBe('get\n');
    fs.writeFileSync(join(docker, 'config.json'), JSON.stringify({ credsStore: 'vault', auths: { [host]: {} } }));

    const logout = await cli(['logout', host]);
    expect(logout.code, logout.err).toBe(0);
    expect(JSON.parse(fs.readFileSync(join(tmp, 'vault.json'), 'utf8'))).toEqual({});
    expect(JSON.parse(fs.readFileSync(join(docker, 'config.json'), 'utf8')).auths).toEqual({});
    const denied = await cli(['pull', '--store', join(tmp, 'd'), `${host}/helpers/app:1`]);
    expect(denied.code).toBe(1);
    expect(denied.err).toMatch(/ERR_REGISTRY_AUTH.*layerkit login/s);
  });

  it('a token server that hands out refresh tokens: login saves the identity token, not the password', async () => {
    const host = bed.token!.host;
    const docker = join(tmp, 'docker-token');
    const cliEnv = {
      PATH: process.env.PATH,
      HOME: join(tmp, 'home'),
      DOCKER_CONFIG: docker,
      LAYERKIT_CERTS_DIR: bed.certsDir,
    };
    const cli = (args: string[], stdin = '') => spawnCli(args, { stdin, cleanEnv: true, env: cliEnv });
    const login = await cli(['login', '-u', bed.user, '--password-stdin', host], `${bed.pass}\n`);
    expect(login.code, login.err).toBe(0);
    const text = fs.readFileSync(join(docker, 'config.json'), 'utf8');
    expect(text).not.toContain(bed.pass);
    const entry = JSON.parse(text).auths[host];
    // as docker writes it: the user name with an empty password, and the refresh token
    expect(entry.auth).toBe(Buffer.from(`${bed.user}:`).toString('base64'));
    expect(entry.identitytoken).toMatch(/^[0-9a-f]{48}$/);
    const storeA = join(tmp, 'token-a');
    await makeImage(await openStore({ root: storeA }), 'app:1', [{ 'etc/hello': 'hello\n' }]);
    const push = await cli(['push', '--store', storeA, 'app:1', `${host}/team/idtoken:1`]);
    expect(push.code, push.err).toBe(0);
    // the push got its token with the refresh-token grant, as alice
    const lines = fs.readFileSync(bed.tokenLog, 'utf8').trim().split('\n');
    expect(lines.at(-1)).toMatch(/^POST sub=alice .*repository:team\/idtoken:pull,push/);
  });

  it.skipIf(!hasTool('script'))(
    'on a terminal, login asks for the user name and the password, and does not echo the password',
    async () => {
      const host = bed.tls!.host;
      const docker = join(tmp, 'docker-tty');
      /** Runs login on a pseudo-terminal (script(1)), typing each answer once its question shows. */
      const typed = (password: string) =>
        new Promise<{ code: number | null; screen: string }>((resolve) => {
          const bin = join(REPO_ROOT, 'src/cli/bin.ts');
          const command = [process.execPath, '--import', 'tsx', bin, 'login', host].map((a) => `'${a}'`).join(' ');
          const child = spawn('script', ['-qec', command, '/dev/null'], {
            cwd: REPO_ROOT,
            env: {
              PATH: process.env.PATH,
              HOME: join(tmp, 'home'),
              DOCKER_CONFIG: docker,
              LAYERKIT_CERTS_DIR: bed.certsDir,
              TERM: 'xterm',
            },
          });
          let screen = '';
          const answered = new Set<string>();
          child.stdout.on('data', (c: Buffer) => {
            screen += c;
            for (const [question, answer] of [
              ['Username: ', bed.user],
              ['Password: ', password],
            ] as const) {
              if (screen.includes(question) && !answered.has(question)) {
                answered.add(question);
                child.stdin.write(`${answer}\r`);
              }
            }
          });
          const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
          child.on('exit', (code) => {
            clearTimeout(timer);
            resolve({ code, screen });
          });
        });
      const wrong = await typed('not-the-password');
      expect(wrong.code, wrong.screen).toBe(1);
      expect(wrong.screen).toMatch(/ERR_REGISTRY_AUTH/);
      expect(wrong.screen).not.toContain('not-the-password');
      const ok = await typed(bed.pass);
      expect(ok.code, ok.screen).toBe(0);
      expect(ok.screen).toMatch(/Username: alice\s+Password: \s+Login Succeeded/);
      expect(ok.screen).not.toContain(bed.pass);
      const entry = JSON.parse(fs.readFileSync(join(docker, 'config.json'), 'utf8')).auths[host];
      expect(entry.auth).toBe(Buffer.from(`${bed.user}:${bed.pass}`).toString('base64'));
      // without a terminal and without --password-stdin: a usage error that says what to do
      const piped = await spawnCli(['login', host], { stdin: '', cleanEnv: true, env: { PATH: process.env.PATH } });
      expect(piped.code).toBe(2);
      expect(piped.err).toMatch(/--password-stdin when standard input is not a terminal/);
    },
  );
});
