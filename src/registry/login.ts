/**
 * `docker login` / `docker logout`: credentials are checked against the registry first (a token
 * is fetched, or `/v2/` answers with basic auth), then saved where docker saves them.
 */
import { ErrorCodes, LayerkitError } from '../errors.js';
import { openRegistry, statusError, type RegistryOptions } from './client.js';
import { eraseCredentials, storeCredentials } from './credentials.js';
import { apiHost } from './reference.js';

/** Options for {@link loginRegistry}. */
export interface LoginOptions extends Omit<RegistryOptions, 'auth'> {
  /** The registry (`127.0.0.1:5001`, `docker.io`, `ghcr.io`). */
  registry: string;
  username: string;
  password: string;
  signal?: AbortSignal | undefined;
}

/**
 * Checks credentials against a registry and saves them (a credential helper, else docker's config.json).
 * When the registry's token server hands out a refresh token (OAuth2), that is saved instead of the
 * password (`identitytoken`), as `docker login` does.
 * @example await loginRegistry({ registry: 'ghcr.io', username: 'me', password: token });
 * @returns where the credentials were saved
 */
export async function loginRegistry(options: LoginOptions): Promise<{ where: string }> {
  const { registry, username, password, signal } = options;
  if (!username || !password) {
    throw new LayerkitError(ErrorCodes.ERR_USAGE, 'login needs a username and a password', { registry });
  }
  const client = await openRegistry({
    ...options,
    registry,
    host: apiHost(registry),
    auth: { username, password },
    retries: options.retries ?? 1,
    offlineToken: true,
  });
  let identityToken: string | undefined;
  try {
    const res = await client.send({ method: 'GET', url: '/v2/', scopes: [], what: `login to ${registry}`, signal });
    if (res.status !== 200) throw await statusError(client, res, `login to ${registry}`);
    await res.body.dump().catch(() => undefined);
    identityToken = client.refreshToken;
  } finally {
    await client.close();
  }
  // A token server that hands out a refresh token gets it saved instead of the password, as docker does.
  return storeCredentials({ registry, username, password, identityToken, env: options.env });
}

/** Removes saved credentials for a registry; resolves false when there were none. */
export async function logoutRegistry(options: {
  registry: string;
  env?: NodeJS.ProcessEnv | undefined;
}): Promise<boolean> {
  return eraseCredentials(options);
}
