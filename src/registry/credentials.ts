/**
 * Where credentials come from, as docker and podman look for them: an explicit `auth` option;
 * `REGISTRY_AUTH_FILE`; docker's `config.json` (`$DOCKER_CONFIG` or `~/.docker`): `credHelpers`,
 * then `credsStore`, then `auths`; then containers' `auth.json` files. Credential helpers
 * (`docker-credential-NAME`) run without a shell and with a timeout; "not found" means anonymous.
 * Nothing here logs or puts a secret into an error message.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { ErrorCodes, LayerkitError } from '../errors.js';

/** Credentials for one registry. */
export interface RegistryCredentials {
  username?: string;
  password?: string;
  /** An OAuth2 refresh token (docker's `identitytoken`; a helper's `<token>` user). */
  identityToken?: string;
  /** A bearer token to send as it is (docker's `registrytoken`). */
  registryToken?: string;
}

/** Where to look for credentials (all optional; defaults follow docker and podman). */
export interface CredentialSources {
  /** Environment to read `DOCKER_CONFIG`, `REGISTRY_AUTH_FILE`, `XDG_*` and `HOME` from (default: process.env). */
  env?: NodeJS.ProcessEnv | undefined;
  /** Milliseconds a credential helper may run (default 10 s). */
  helperTimeoutMs?: number | undefined;
}

/** Docker Hub's key in `config.json`. */
export const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';

const HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);

/** The key docker uses for a registry in `config.json` (Docker Hub's is a URL). */
export function authKey(registry: string): string {
  return HUB_ALIASES.has(registry) ? DOCKER_HUB_AUTH_KEY : registry;
}

/** A `config.json` key normalised as docker's `convertToHostname` does (scheme and path dropped). */
export function normalizeAuthKey(key: string): string {
  let k = key.replace(/^https?:\/\//, '');
  const slash = k.indexOf('/');
  if (slash >= 0) k = k.slice(0, slash);
  return HUB_ALIASES.has(k) ? 'docker.io' : k;
}

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  registrytoken?: string;
}

interface AuthFile {
  auths?: Record<string, AuthEntry>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

/** docker's config.json path. */
export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.DOCKER_CONFIG ?? join(env.HOME ?? homedir(), '.docker'), 'config.json');
}

/** containers' auth.json paths, in the order podman reads them. */
function containersAuthPaths(env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  if (env.XDG_RUNTIME_DIR) out.push(join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json'));
  out.push(join(env.XDG_CONFIG_HOME ?? join(env.HOME ?? homedir(), '.config'), 'containers', 'auth.json'));
  return out;
}

function readAuthFile(path: string): AuthFile | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text) as AuthFile;
  } catch (err) {
    throw new LayerkitError(
      ErrorCodes.ERR_REGISTRY_AUTH,
      `${path} is not valid JSON (${(err as Error).message}); fix or remove it`,
      { path },
    );
  }
}

function fromEntry(entry: AuthEntry | undefined): RegistryCredentials | undefined {
  if (entry === undefined) return undefined;
  if (entry.identitytoken)
    return { identityToken: entry.identitytoken, ...(entry.username ? { username: entry.username } : {}) };
  if (entry.registrytoken) return { registryToken: entry.registrytoken };
  if (entry.username && entry.password) return { username: entry.username, password: entry.password };
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined;
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1).replace(/\0+$/, '') };
  }
  return undefined;
}

/** The entry of `auths` for a registry (and repository: auth.json keys may be namespaces). */
function findEntry(file: AuthFile, registry: string, repository: string | undefined): AuthEntry | undefined {
  const auths = file.auths ?? {};
  if (repository !== undefined) {
    const parts = repository.split('/');
    for (let i = parts.length; i > 0; i--) {
      const entry = auths[`${registry}/${parts.slice(0, i).join('/')}`];
      if (entry) return entry;
    }
  }
  const wanted = normalizeAuthKey(registry);
  for (const [key, entry] of Object.entries(auths)) if (normalizeAuthKey(key) === wanted) return entry;
  return undefined;
}

function helperFor(file: AuthFile, registry: string): string | undefined {
  const helpers = file.credHelpers ?? {};
  const wanted = normalizeAuthKey(registry);
  for (const [key, helper] of Object.entries(helpers)) if (normalizeAuthKey(key) === wanted) return helper;
  return file.credsStore || undefined;
}

async function fromFile(
  file: AuthFile,
  registry: string,
  repository: string | undefined,
  timeoutMs: number,
  env: NodeJS.ProcessEnv,
): Promise<RegistryCredentials | undefined> {
  const helper = helperFor(file, registry);
  if (helper) {
    const found = await runHelperGet(helper, authKey(registry), timeoutMs, env);
    if (found) return found;
    // a credsStore with nothing for this host falls through to `auths` (docker's own behaviour)
    if (
      file.credHelpers &&
      Object.keys(file.credHelpers).some((k) => normalizeAuthKey(k) === normalizeAuthKey(registry))
    )
      return undefined;
  }
  return fromEntry(findEntry(file, registry, repository));
}

/**
 * The credentials configured for a registry, or undefined (anonymous).
 * @example await findCredentials({ registry: '127.0.0.1:5001' })
 */
export async function findCredentials(
  options: { registry: string; repository?: string | undefined } & CredentialSources,
): Promise<RegistryCredentials | undefined> {
  const env = options.env ?? process.env;
  const timeout = options.helperTimeoutMs ?? 10_000;
  const paths: string[] = [];
  if (env.REGISTRY_AUTH_FILE) paths.push(env.REGISTRY_AUTH_FILE);
  paths.push(dockerConfigPath(env));
  if (!env.REGISTRY_AUTH_FILE) paths.push(...containersAuthPaths(env));
  for (const path of paths) {
    const file = readAuthFile(path);
    if (file === undefined) continue;
    const found = await fromFile(file, options.registry, options.repository, timeout, env);
    if (found) return found;
  }
  return undefined;
}

function helperError(helper: string, why: string): LayerkitError {
  return new LayerkitError(ErrorCodes.ERR_REGISTRY_AUTH, `credential helper docker-credential-${helper} ${why}`, {
    helper: `docker-credential-${helper}`,
  });
}

/** Runs `docker-credential-HELPER VERB` with `input` on stdin; resolves stdout, or the failure. */
function runHelper(
  helper: string,
  verb: string,
  input: string,
  timeoutMs: number,
  env: NodeJS.ProcessEnv,
): Promise<{ ok: boolean; stdout: string; missing: boolean; timedOut: boolean }> {
  if (!/^[A-Za-z0-9._-]+$/.test(helper)) return Promise.reject(helperError(helper, 'has an invalid name'));
  return new Promise((resolve) => {
    const child = execFile(
      `docker-credential-${helper}`,
      [verb],
      { timeout: timeoutMs, env, maxBuffer: 1 << 20, windowsHide: true },
      (err, stdout) => {
        const e = err as (NodeJS.ErrnoException & { killed?: boolean }) | null;
        resolve({
          ok: e === null,
          stdout: String(stdout),
          missing: e?.code === 'ENOENT',
          timedOut: e?.killed === true,
        });
      },
    );
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input);
  });
}

async function runHelperGet(
  helper: string,
  serverUrl: string,
  timeoutMs: number,
  env: NodeJS.ProcessEnv,
): Promise<RegistryCredentials | undefined> {
  const r = await runHelper(helper, 'get', serverUrl, timeoutMs, env);
  if (r.missing) throw helperError(helper, 'is not installed (not on PATH); install it or remove it from config.json');
  if (r.timedOut) throw helperError(helper, `did not answer within ${timeoutMs} ms`);
  if (!r.ok) {
    if (/credentials not found/i.test(r.stdout)) return undefined;
    throw helperError(helper, 'failed (its output is not shown: it may hold secrets)');
  }
  let reply: { Username?: string; Secret?: string };
  try {
    reply = JSON.parse(r.stdout) as { Username?: string; Secret?: string };
  } catch {
    throw helperError(helper, 'printed something that is not JSON');
  }
  if (!reply.Secret) return undefined;
  if (reply.Username === '<token>') return { identityToken: reply.Secret };
  return { username: reply.Username ?? '', password: reply.Secret };
}

/** Options for {@link storeCredentials} and {@link eraseCredentials}. */
export interface StoreCredentialsOptions extends CredentialSources {
  registry: string;
}

/**
 * Saves credentials where `docker login` saves them: the credential helper docker's config names
 * for the registry (`credHelpers`, else `credsStore`), else `auths` in `config.json` (mode 0600).
 * Returns where they went.
 */
export async function storeCredentials(
  options: StoreCredentialsOptions & {
    username: string;
    password: string;
    /** An OAuth2 refresh token to save instead of the password (docker's `identitytoken`). */
    identityToken?: string | undefined;
  },
): Promise<{ where: string }> {
  const env = options.env ?? process.env;
  const path = dockerConfigPath(env);
  const file = readAuthFile(path) ?? {};
  const key = authKey(options.registry);
  const helper = helperFor(file, options.registry);
  const token = options.identityToken || undefined;
  if (helper) {
    // A helper keeps an identity token under the user name `<token>` (docker's native store).
    const input = JSON.stringify({
      ServerURL: key,
      Username: token ? '<token>' : options.username,
      Secret: token ?? options.password,
    });
    const r = await runHelper(helper, 'store', input, options.helperTimeoutMs ?? 10_000, env);
    if (!r.ok)
      throw helperError(helper, r.missing ? 'is not installed (not on PATH)' : 'could not store the credentials');
    // docker keeps an empty entry in `auths` for a registry whose secret a helper holds (its
    // nativeStore), so `auths` still lists where one is logged in; the secret stays in the helper.
    setAuthEntry(file, key, {});
    writePrivate(path, `${JSON.stringify(file, null, '\t')}\n`);
    return { where: `docker-credential-${helper}` };
  }
  setAuthEntry(
    file,
    key,
    token
      ? { auth: Buffer.from(`${options.username}:`).toString('base64'), identitytoken: token }
      : { auth: Buffer.from(`${options.username}:${options.password}`).toString('base64') },
  );
  writePrivate(path, `${JSON.stringify(file, null, '\t')}\n`);
  return { where: path };
}

/** Sets `auths[key]`, dropping other spellings of the same registry (`https://HOST/v1/`, `HOST`). */
function setAuthEntry(file: AuthFile, key: string, entry: AuthEntry): void {
  file.auths = { ...(file.auths ?? {}) };
  for (const k of Object.keys(file.auths))
    if (k !== key && normalizeAuthKey(k) === normalizeAuthKey(key)) delete file.auths[k];
  file.auths[key] = entry;
}

/** Removes saved credentials (`docker logout`); resolves false when there were none. */
export async function eraseCredentials(options: StoreCredentialsOptions): Promise<boolean> {
  const env = options.env ?? process.env;
  const path = dockerConfigPath(env);
  const file = readAuthFile(path) ?? {};
  const key = authKey(options.registry);
  const helper = helperFor(file, options.registry);
  let removed = false;
  if (helper) {
    const r = await runHelper(helper, 'erase', key, options.helperTimeoutMs ?? 10_000, env);
    removed = r.ok;
  }
  if (file.auths) {
    for (const k of Object.keys(file.auths)) {
      if (normalizeAuthKey(k) === normalizeAuthKey(key)) {
        delete file.auths[k];
        removed = true;
      }
    }
    if (removed) writePrivate(path, `${JSON.stringify(file, null, '\t')}\n`);
  }
  return removed;
}

function writePrivate(path: string, text: string): void {
  fs.mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text, { mode: 0o600 });
  fs.renameSync(tmp, path);
}
