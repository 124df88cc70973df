/**
 * Real registries for tests, on free loopback ports, started and stopped (by pid) by the tests
 * themselves: Debian's docker-registry (CNCF distribution 2.8) over plain HTTP, over HTTPS with a
 * private CA and htpasswd basic auth, and with token auth served by registry-token-server.mjs.
 * Modelled on ../shared/reference/registry-testbed.sh.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasTool } from './tools.js';
import { makeTempDir } from './tmp.js';

const TOKEN_SERVER = fileURLToPath(new URL('./registry-token-server.mjs', import.meta.url));

/** Why the registry tests cannot run here (naming the Debian package), or undefined. */
export function registryTestbedMissing(): string | undefined {
  const needs: Array<[string, string]> = [
    ['docker-registry', 'docker-registry'],
    ['htpasswd', 'apache2-utils'],
    ['openssl', 'openssl'],
  ];
  for (const [tool, pkg] of needs)
    if (!hasTool(tool)) return `${tool} is not installed (Debian package: ${pkg}); .ci/run installs it`;
  return undefined;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** One running registry (or token server). */
export interface RunningRegistry {
  /** host:port */
  host: string;
  /** Its log file (level info: one line per request, with method, URI and status). */
  log: string;
  process: ChildProcess;
}

/** The testbed. */
export interface Testbed {
  dir: string;
  /** certs.d folder (HOST:PORT/ca.crt for the TLS registry, the token registry and its token server). */
  certsDir: string;
  ca: string;
  user: string;
  pass: string;
  plain?: RunningRegistry;
  tls?: RunningRegistry;
  token?: RunningRegistry;
  tokenServer?: RunningRegistry;
  /** HTTPS that asks every client for a certificate signed by the CA (no other auth). */
  mtls?: RunningRegistry;
  /** The client certificate and key the mTLS registry accepts (PEM files). */
  clientCert?: string;
  clientKey?: string;
  /** Token server request log (one line per token request with the scopes asked and granted). */
  tokenLog: string;
  /** Stops every process it started, by pid, and removes its files. */
  stop(): Promise<void>;
}

function makePki(dir: string, client = false, serverNames: readonly string[] = []): void {
  const run = (args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  };
  run([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-sha256',
    '-days',
    '2',
    '-subj',
    '/CN=layerkit test CA',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  /** A key and a certificate `NAME.crt` signed by the CA, with the extensions given. */
  const issue = (name: string, subject: string, extensions: string): void => {
    run([
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-sha256',
      '-subj',
      subject,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
    ]);
    fs.writeFileSync(join(dir, `${name}.ext`), extensions);
    run([
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-sha256',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.crt`,
    ]);
  };
  issue(
    'server',
    '/CN=127.0.0.1',
    `subjectAltName=${['IP:127.0.0.1', 'DNS:localhost', ...serverNames.map((n) => `DNS:${n}`)].join(',')}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n`,
  );
  issue('token', '/CN=layerkit test token signer', 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n');
  if (!client) return;
  // A client certificate for mutual TLS (certs.d/HOST:PORT/client.cert and client.key).
  issue(
    'client',
    '/CN=layerkit test client',
    'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n',
  );
}

function registryConfig(dir: string, name: string, port: number, extra: string): string {
  const root = join(dir, name);
  fs.mkdirSync(join(root, 'data'), { recursive: true });
  const file = join(root, 'config.yml');
  fs.writeFileSync(
    file,
    `version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${root}/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:${port}
  secret: testbed-${name}-secret
${extra}`,
  );
  return file;
}

function probe(url: string, ca: string | undefined, client?: { cert: string; key: string }): Promise<number> {
  return new Promise((resolve) => {
    const req = (url.startsWith('https') ? httpsRequest : httpRequest)(url, { ca, ...client, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

async function waitFor(
  url: string,
  want: number,
  ca: string | undefined,
  proc: ChildProcess,
  log: string,
  client?: { cert: string; key: string },
): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (proc.exitCode !== null)
      throw new Error(`${url}: the server exited (${fs.readFileSync(log, 'utf8').slice(-500)})`);
    if ((await probe(url, ca, client)) === want) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${url} did not answer ${want} in time`);
}

function launch(cmd: string, args: string[], log: string, env?: NodeJS.ProcessEnv): ChildProcess {
  const out = fs.openSync(log, 'a');
  const child = spawn(cmd, args, { stdio: ['ignore', out, out], env: env ?? process.env });
  fs.closeSync(out);
  return child;
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(child.pid, 'SIGTERM');
  const timer = setTimeout(() => {
    if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
  }, 2000);
  await exited;
  clearTimeout(timer);
}

/**
 * Starts the registries asked for (all three by default). `serverNames`: more DNS names the TLS
 * servers' certificate is valid for (names a test resolves itself, as a proxy test does).
 */
export async function startTestbed(
  which: { plain?: boolean; tls?: boolean; token?: boolean; mtls?: boolean } = { plain: true, tls: true, token: true },
  options: { serverNames?: readonly string[] } = {},
): Promise<Testbed> {
  const tmp = makeTempDir('layerkit-registry-');
  const dir = tmp.path;
  const pki = join(dir, 'pki');
  fs.mkdirSync(pki);
  const user = 'alice';
  const pass = 's3cret';
  const certsDir = join(dir, 'certs.d');
  const procs: ChildProcess[] = [];
  const bed: Testbed = {
    dir,
    certsDir,
    ca: join(pki, 'ca.crt'),
    user,
    pass,
    tokenLog: join(dir, 'token-requests.log'),
    async stop() {
      await Promise.all(procs.map(stopProcess));
      tmp.cleanup();
    },
  };
  try {
    const anyTls = which.tls || which.token || which.mtls;
    if (anyTls) makePki(pki, which.mtls, options.serverNames ?? []);
    const ca = anyTls ? fs.readFileSync(bed.ca, 'utf8') : undefined;
    const tlsBlock = `  tls:\n    certificate: ${pki}/server.crt\n    key: ${pki}/server.key\n`;
    const trust = (host: string): void => {
      fs.mkdirSync(join(certsDir, host), { recursive: true });
      fs.copyFileSync(bed.ca, join(certsDir, host, 'ca.crt'));
    };
    if (which.plain) {
      const port = await freePort();
      const log = join(dir, 'plain.log');
      const child = launch('docker-registry', ['serve', registryConfig(dir, 'plain', port, '')], log);
      procs.push(child);
      await waitFor(`http://127.0.0.1:${port}/v2/`, 200, undefined, child, log);
      bed.plain = { host: `127.0.0.1:${port}`, log, process: child };
    }
    if (which.tls) {
      const port = await freePort();
      const log = join(dir, 'tls.log');
      fs.mkdirSync(join(dir, 'tls'), { recursive: true });
      const htpasswd = execFileSync('htpasswd', ['-Bbn', user, pass], { encoding: 'utf8' });
      fs.writeFileSync(join(dir, 'tls', 'htpasswd'), htpasswd);
      const extra = `${tlsBlock}auth:\n  htpasswd:\n    realm: layerkit-basic\n    path: ${dir}/tls/htpasswd\n`;
      const child = launch('docker-registry', ['serve', registryConfig(dir, 'tls', port, extra)], log);
      procs.push(child);
      trust(`127.0.0.1:${port}`);
      await waitFor(`https://127.0.0.1:${port}/v2/`, 401, ca, child, log);
      bed.tls = { host: `127.0.0.1:${port}`, log, process: child };
    }
    if (which.mtls) {
      const port = await freePort();
      const log = join(dir, 'mtls.log');
      const extra = `  tls:\n    certificate: ${pki}/server.crt\n    key: ${pki}/server.key\n    clientcas:\n      - ${pki}/ca.crt\n`;
      const child = launch('docker-registry', ['serve', registryConfig(dir, 'mtls', port, extra)], log);
      procs.push(child);
      trust(`127.0.0.1:${port}`);
      bed.clientCert = join(pki, 'client.crt');
      bed.clientKey = join(pki, 'client.key');
      const client = { cert: fs.readFileSync(bed.clientCert, 'utf8'), key: fs.readFileSync(bed.clientKey, 'utf8') };
      await waitFor(`https://127.0.0.1:${port}/v2/`, 200, ca, child, log, client);
      bed.mtls = { host: `127.0.0.1:${port}`, log, process: child };
    }
    if (which.token) {
      const port = await freePort();
      const tsPort = await freePort();
      const tsLog = join(dir, 'tokensrv.log');
      const ts = launch(process.execPath, [TOKEN_SERVER], tsLog, {
        ...process.env,
        TS_PORT: String(tsPort),
        TS_CERT: `${pki}/server.crt`,
        TS_KEY: `${pki}/server.key`,
        TS_SIGN_CERT: `${pki}/token.crt`,
        TS_SIGN_KEY: `${pki}/token.key`,
        TS_USERS: `${user}:${pass}`,
        TS_LOG: bed.tokenLog,
      });
      procs.push(ts);
      const log = join(dir, 'token.log');
      const extra = `${tlsBlock}auth:\n  token:\n    realm: https://127.0.0.1:${tsPort}/token\n    service: layerkit-test-registry\n    issuer: layerkit-test-issuer\n    rootcertbundle: ${pki}/ca.crt\n`;
      const child = launch('docker-registry', ['serve', registryConfig(dir, 'token', port, extra)], log);
      procs.push(child);
      trust(`127.0.0.1:${port}`);
      trust(`127.0.0.1:${tsPort}`);
      await waitFor(`https://127.0.0.1:${tsPort}/token?service=probe`, 200, ca, ts, tsLog);
      await waitFor(`https://127.0.0.1:${port}/v2/`, 401, ca, child, log);
      bed.token = { host: `127.0.0.1:${port}`, log, process: child };
      bed.tokenServer = { host: `127.0.0.1:${tsPort}`, log: tsLog, process: ts };
    }
    return bed;
  } catch (err) {
    await bed.stop();
    throw err;
  }
}
