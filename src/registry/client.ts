/**
 * One registry, as the distribution API sees it: the scheme (https; plain HTTP only for loopback
 * hosts and registries named insecure), TLS from certs.d, the auth dance (anonymous and basic
 * bearer tokens, OAuth2 refresh tokens, basic auth), redirects followed by hand (credentials
 * never leave the registry's origin), retries with backoff (connection resets, 408, 429 with
 * `Retry-After`, 5xx) and a bounded number of parallel transfers. Requests go over the project's
 * own HTTP/1.1 transport (http1.ts, which says why), through the proxy `HTTPS_PROXY` /
 * `HTTP_PROXY` / `NO_PROXY` choose (proxy-choice.ts) or the `proxy` option; a `dispatcher` the
 * caller gives (an undici agent, a MockAgent) gets them instead.
 */
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { ErrorCodes, LayerkitError } from '../errors.js';
import { isTransient, retryAfter, sleep, speaksPlainHttp } from './client-status.js';
import {
  header,
  type RegistryOptions,
  type RegistryRequest,
  type RegistryResponse,
  type RequestBody,
} from './client-types.js';
import { parseChallenges, type Challenge } from './challenge.js';
import { findCredentials, type RegistryCredentials } from './credentials.js';
import { isLoopbackHost } from './reference.js';
import { Http1Client, iterableReader, type Http1Proxy, type Http1Tls } from './http1.js';
import { chooseProxy, proxyLabel } from './proxy-choice.js';
import { Semaphore } from './semaphore.js';
import { loadRegistryTls, type RegistryTls } from './tls.js';

export { isTransient, registryErrorText, sleep, statusError } from './client-status.js';
export {
  header,
  type RegistryOptions,
  type RegistryRequest,
  type RegistryResponse,
  type RequestBody,
  type ResponseBody,
} from './client-types.js';

const slots = new Map<string, Semaphore>();

/**
 * The blob transfer slots of one registry host in this process. A pull or push opens a client
 * of its own, so a per-client bound would let a build's pulls, `pull --all-tags` or an
 * application's parallel pulls multiply it; the registry sees one bound per process instead.
 */
function transferSlots(host: string, limit: number): Semaphore {
  const key = `${host} ${Math.max(1, Math.floor(limit))}`;
  let slot = slots.get(key);
  if (!slot) slots.set(key, (slot = new Semaphore(limit)));
  return slot;
}

const RETRY_STATUS = new Set([408, 429, 500, 502, 503, 504]);
const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308]);

/** A client for one registry (`host:port`). Make one with {@link openRegistry}; `close()` it when done. */
export class RegistryClient {
  /** The registry's name (`docker.io`, `127.0.0.1:5000`). */
  readonly registry: string;
  /** The host:port the API is on. */
  readonly host: string;
  /** Bounds parallel blob transfers to this registry (shared by every client of this process). */
  readonly transfers: Semaphore;
  readonly #options: RegistryOptions;
  #http1: Http1Client | undefined;
  /** The proxy of each origin asked for (undefined: direct). */
  readonly #proxies = new Map<string, Http1Proxy | undefined>();
  readonly #tls: RegistryTls;
  readonly #insecure: boolean;
  #origin: URL | undefined;
  #challenge: Challenge | undefined;
  #credentials: Promise<RegistryCredentials | undefined> | undefined;
  readonly #tokens = new Map<string, { token: string; expires: number }>();
  readonly #tokenFetches = new Map<string, Promise<string | undefined>>();
  #refreshToken: string | undefined;

  /** The refresh token the token server gave with `offlineToken` (an OAuth2 identity token), if any. */
  get refreshToken(): string | undefined {
    return this.#refreshToken;
  }

  /** @internal Use {@link openRegistry}. */
  constructor(options: { registry: string; host: string; settings: RegistryOptions }) {
    this.registry = options.registry;
    this.host = options.host;
    this.#options = options.settings;
    this.transfers = transferSlots(this.host, options.settings.maxConcurrent ?? 4);
    this.#tls = loadRegistryTls({ host: this.host, certsDir: this.#options.certsDir, env: this.#options.env });
    const insecure = this.#options.insecure;
    this.#insecure =
      insecure === true ||
      (Array.isArray(insecure) && (insecure.includes(this.host) || insecure.includes(this.registry)));
  }

  /**
   * The registry's base URL, found on first use: https, or http where allowed and https is not
   * spoken. A loopback registry is asked over plain HTTP first (no credentials go with the
   * question, and nothing but the machine's own processes sees loopback traffic): one that answers
   * `/v2/` as a registry does (200 or 401) is plain; any other answer or failure tries https.
   * That spares a local registry's every command a TLS handshake that cannot succeed.
   */
  async origin(signal?: AbortSignal): Promise<URL> {
    if (this.#origin) return this.#origin;
    const https = new URL(`https://${this.host}`);
    const mayPlain = this.#insecure || isLoopbackHost(this.host);
    if (isLoopbackHost(this.host)) {
      const http = new URL(`http://${this.host}`);
      const status = await this.#ping(http, signal).catch((err: unknown) => {
        if (signal?.aborted) throw err;
        return undefined;
      });
      if (status === 200 || status === 401) {
        this.#origin = http;
        return http;
      }
    }
    try {
      await this.#ping(https, signal);
      this.#origin = https;
    } catch (err) {
      if (!speaksPlainHttp(err)) throw err;
      if (!mayPlain) {
        throw new LayerkitError(
          ErrorCodes.ERR_REGISTRY_TLS,
          `${this.host} does not speak TLS; layerkit uses plain HTTP only for loopback registries and registries named insecure (--insecure, the insecure option)`,
          { registry: this.registry, host: this.host },
          { cause: err },
        );
      }
      const http = new URL(`http://${this.host}`);
      await this.#ping(http, signal);
      this.#origin = http;
    }
    return this.#origin;
  }

  /** Asks `/v2/` (keeping the challenge of a 401); resolves the status. */
  async #ping(base: URL, signal: AbortSignal | undefined): Promise<number> {
    const url = new URL('/v2/', base);
    const res = await this.#dispatch({ method: 'GET', url, headers: {}, signal, what: 'the API root /v2/' });
    await res.body.dump().catch(() => undefined);
    if (res.status === 401) {
      const challenge = pickChallenge(header(res, 'www-authenticate'));
      if (challenge) this.#challenge = challenge;
    }
    return res.status;
  }

  /**
   * Sends a request: authorises it (fetching a token for its scopes when the registry wants one),
   * follows redirects, and retries transient failures. Resolves any final response; the caller
   * judges the status.
   */
  async send(req: RegistryRequest): Promise<RegistryResponse> {
    const base = await this.origin(req.signal);
    const url = new URL(req.url, base);
    let scopes = req.scopes;
    let authTries = 0;
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { ...(req.headers ?? {}) };
      const authorization = await this.#authorization(scopes, req.signal);
      let res: RegistryResponse;
      try {
        res = await this.#follow({ ...req, url, headers, authorization });
      } catch (err) {
        if (req.retry !== false && attempt < this.#retries() && isTransient(err)) {
          await sleep(this.#backoff(attempt), req.signal);
          continue;
        }
        throw err;
      }
      if (res.status === 401 && res.url.origin !== this.#origin?.origin) {
        // Refused where the registry redirected us: that host's challenge is not the registry's,
        // and the registry's credentials never go there (nor to a token realm it names).
        await res.body.dump().catch(() => undefined);
        throw new LayerkitError(
          ErrorCodes.ERR_REGISTRY_AUTH,
          `${req.what}: ${res.url.host}, where ${this.registry} sent the request on, refused it (401 Unauthorized); layerkit sends no credentials to another host`,
          { registry: this.registry, host: res.url.host, status: 401 },
        );
      }
      if (res.status === 401) {
        await res.body.dump().catch(() => undefined);
        const challenge = pickChallenge(header(res, 'www-authenticate'));
        if (challenge) this.#challenge = challenge;
        if (!this.#challenge) {
          throw new LayerkitError(
            ErrorCodes.ERR_REGISTRY_AUTH,
            `${req.what}: ${this.registry} answered 401 Unauthorized without a WWW-Authenticate challenge, so there is no way to authenticate`,
            { registry: this.registry, status: 401 },
          );
        }
        const credentials = await this.#creds();
        const hopeless = authorization === undefined && this.#challenge.scheme === 'basic' && !credentials;
        if (authTries >= 2 || hopeless) throw await this.#unauthorized(req);
        authTries++;
        const wanted = challenge?.params['scope'];
        if (wanted) scopes = mergeScopes(scopes, wanted.split(' '));
        this.#tokens.delete(scopeKey(scopes));
        attempt--; // an auth round trip is not a retry
        continue;
      }
      if (RETRY_STATUS.has(res.status) && req.retry !== false && attempt < this.#retries()) {
        const wait = retryAfter(header(res, 'retry-after'));
        await res.body.dump().catch(() => undefined);
        if (wait !== undefined && wait > (this.#options.maxRetryAfterMs ?? 60_000)) {
          throw new LayerkitError(
            ErrorCodes.ERR_REGISTRY,
            `${req.what}: ${this.registry} answered ${res.status} and asks to retry after ${Math.round(wait / 1000)} s; try again later`,
            { registry: this.registry, status: res.status },
          );
        }
        await sleep(wait ?? this.#backoff(attempt), req.signal);
        continue;
      }
      return res;
    }
  }

  async #unauthorized(req: RegistryRequest): Promise<LayerkitError> {
    const credentials = await this.#creds();
    const who = credentials?.username
      ? `user ${JSON.stringify(credentials.username)}`
      : credentials?.identityToken
        ? 'the saved identity token'
        : 'anonymous access';
    const push = req.scopes.some((s) => /:(?:[a-z*]+,)*(?:push|\*)(?:,|$)/.test(s));
    const hint =
      credentials === undefined
        ? `log in first: layerkit login ${this.registry}`
        : `check the username and password (layerkit login ${this.registry})`;
    return new LayerkitError(
      ErrorCodes.ERR_REGISTRY_AUTH,
      `${req.what}: ${this.registry} refused ${who}${push ? ' to push' : ''} (401 Unauthorized); ${hint}`,
      { registry: this.registry, status: 401 },
    );
  }

  #retries(): number {
    return this.#options.retries ?? 4;
  }

  #backoff(attempt: number): number {
    const base = (this.#options.retryDelayMs ?? 400) * 3 ** attempt;
    return Math.min(30_000, base * (0.9 + Math.random() * 0.2));
  }

  #creds(): Promise<RegistryCredentials | undefined> {
    this.#credentials ??= this.#options.auth
      ? Promise.resolve(this.#options.auth)
      : findCredentials({ registry: this.registry, env: this.#options.env });
    return this.#credentials;
  }

  /** The `Authorization` header for these scopes, fetching a token when the registry uses bearer auth. */
  async #authorization(scopes: string[], signal: AbortSignal | undefined): Promise<string | undefined> {
    const challenge = this.#challenge;
    if (!challenge) return undefined;
    const credentials = await this.#creds();
    if (challenge.scheme === 'basic') {
      if (!credentials?.username || credentials.password === undefined) return undefined;
      return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
    }
    if (challenge.scheme !== 'bearer') return undefined;
    if (credentials?.registryToken) return `Bearer ${credentials.registryToken}`;
    const key = scopeKey(scopes);
    const cached = this.#tokens.get(key);
    if (cached && cached.expires > Date.now()) return `Bearer ${cached.token}`;
    let fetching = this.#tokenFetches.get(key);
    if (!fetching) {
      fetching = this.#fetchToken(challenge, scopes, credentials, signal).finally(() => this.#tokenFetches.delete(key));
      this.#tokenFetches.set(key, fetching);
    }
    const token = await fetching;
    return token === undefined ? undefined : `Bearer ${token}`;
  }

  async #fetchToken(
    challenge: Challenge,
    scopes: string[],
    credentials: RegistryCredentials | undefined,
    signal: AbortSignal | undefined,
    options: { remember: boolean } = { remember: true },
  ): Promise<string | undefined> {
    const realmText = challenge.params['realm'];
    if (!realmText) {
      throw new LayerkitError(
        ErrorCodes.ERR_REGISTRY_AUTH,
        `${this.registry} asks for a bearer token but names no realm (token server)`,
        { registry: this.registry },
      );
    }
    let realm: URL;
    try {
      realm = new URL(realmText);
    } catch {
      throw new LayerkitError(ErrorCodes.ERR_REGISTRY_AUTH, `${this.registry} names an invalid token realm`, {
        registry: this.registry,
      });
    }
    this.#checkRealm(realm);
    const service = challenge.params['service'];
    const what = `token for ${scopes.join(' ') || this.registry}`;
    let res: RegistryResponse;
    if (credentials?.identityToken) {
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: credentials.identityToken });
      form.set('client_id', 'layerkit');
      if (service) form.set('service', service);
      if (scopes.length) form.set('scope', scopes.join(' '));
      res = await this.#dispatch({
        method: 'POST',
        url: realm,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: Buffer.from(form.toString()),
        signal,
        what,
      });
    } else {
      const url = new URL(realm);
      if (service) url.searchParams.set('service', service);
      for (const s of scopes) url.searchParams.append('scope', s);
      const headers: Record<string, string> = {};
      if (credentials?.username && credentials.password !== undefined) {
        url.searchParams.set('account', credentials.username);
        headers.authorization = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
        if (this.#options.offlineToken && options.remember) {
          url.searchParams.set('offline_token', 'true');
          url.searchParams.set('client_id', 'layerkit');
        }
      }
      res = await this.#dispatch({ method: 'GET', url, headers, signal, what });
    }
    const text = await res.body.text();
    if (res.status === 401 || res.status === 403) {
      throw new LayerkitError(
        ErrorCodes.ERR_REGISTRY_AUTH,
        credentials
          ? `the token server of ${this.registry} (${realm.origin}) refused the credentials${credentials.username ? ` of user ${JSON.stringify(credentials.username)}` : ''}: wrong username or password? (layerkit login ${this.registry})`
          : `the token server of ${this.registry} (${realm.origin}) refused anonymous access; log in first: layerkit login ${this.registry}`,
        { registry: this.registry, status: res.status },
      );
    }
    if (res.status !== 200) {
      throw new LayerkitError(
        ErrorCodes.ERR_REGISTRY_AUTH,
        `the token server of ${this.registry} (${realm.origin}) answered ${res.status}`,
        { registry: this.registry, status: res.status },
      );
    }
    let body: { token?: string; access_token?: string; expires_in?: number; refresh_token?: string };
    try {
      body = JSON.parse(text.slice(0, 1 << 20)) as typeof body;
    } catch {
      throw new LayerkitError(
        ErrorCodes.ERR_REGISTRY_AUTH,
        `the token server of ${this.registry} (${realm.origin}) answered something that is not JSON`,
        { registry: this.registry },
      );
    }
    const token = body.access_token ?? body.token;
    if (!token) return undefined;
    if (this.#options.offlineToken && options.remember && typeof body.refresh_token === 'string' && body.refresh_token)
      this.#refreshToken = body.refresh_token;
    const ttl = Math.max(10, Number(body.expires_in) || 60);
    if (options.remember) this.#tokens.set(scopeKey(scopes), { token, expires: Date.now() + (ttl - 5) * 1000 });
    return token;
  }

  /** Credentials go only to an https realm, the registry's own origin, or a host the user trusts. */
  #checkRealm(realm: URL): void {
    const registryOrigin = this.#origin;
    if (realm.protocol === 'https:') return;
    if (registryOrigin && realm.origin === registryOrigin.origin) return;
    if (this.#options.trustedRealms?.includes(realm.host)) return;
    throw new LayerkitError(
      ErrorCodes.ERR_REGISTRY_AUTH,
      `${this.registry} sends credentials to ${realm.origin}, which is neither https nor the registry itself; refusing (trust it with trustedRealms)`,
      { registry: this.registry, realm: realm.origin },
    );
  }

  /** Follows redirects by hand: `Authorization` goes only to the registry's own origin. */
  async #follow(
    req: Omit<RegistryRequest, 'url'> & { url: URL; authorization: string | undefined },
  ): Promise<RegistryResponse> {
    let url = req.url;
    let method = req.method;
    let body = req.body;
    // A token for another host, fetched anonymously when that host asks for one (ggcr's cross-host challenge).
    let foreign: { origin: string; authorization: string } | undefined;
    for (let hop = 0; hop <= 10; hop++) {
      const headers: Record<string, string> = { ...(req.headers ?? {}) };
      if (req.authorization && url.origin === this.#origin?.origin) headers.authorization = req.authorization;
      else if (foreign?.origin === url.origin) headers.authorization = foreign.authorization;
      const res = await this.#dispatch({
        method,
        url,
        headers,
        body,
        signal: req.signal,
        what: req.what,
      });
      if (res.status === 401 && url.origin !== this.#origin?.origin && foreign?.origin !== url.origin) {
        const challenge = pickChallenge(header(res, 'www-authenticate'));
        if (challenge?.scheme === 'bearer') {
          const scope = challenge.params['scope'];
          let token: string | undefined;
          try {
            token = await this.#fetchToken(challenge, scope ? scope.split(' ') : req.scopes, undefined, req.signal, {
              remember: false,
            });
          } catch (err) {
            await res.body.dump().catch(() => undefined);
            throw err;
          }
          if (token !== undefined) {
            await res.body.dump().catch(() => undefined);
            foreign = { origin: url.origin, authorization: `Bearer ${token}` };
            hop--; // the same request again, with that host's token: not a redirect
            continue;
          }
        }
      }
      const location = header(res, 'location');
      if (!REDIRECT_STATUS.has(res.status) || location === undefined) return res;
      await res.body.dump().catch(() => undefined);
      url = new URL(location, url);
      if (res.status === 303) {
        method = 'GET';
        body = undefined;
      }
    }
    throw new LayerkitError(ErrorCodes.ERR_REGISTRY, `${req.what}: ${this.registry} redirected more than 10 times`, {
      registry: this.registry,
    });
  }

  /** One HTTP exchange, errors turned into coded ones. */
  async #dispatch(req: {
    method: RegistryRequest['method'];
    url: URL;
    headers: Record<string, string>;
    body?: RequestBody | undefined;
    signal: AbortSignal | undefined;
    what: string;
  }): Promise<RegistryResponse> {
    const headers: Record<string, string> = { 'user-agent': 'layerkit', ...req.headers };
    const dispatcher = this.#options.dispatcher;
    if (dispatcher) return this.#dispatchTo(dispatcher, { ...req, headers });
    const body = req.body;
    this.#http1 ??= new Http1Client({
      tlsFor: (url) => this.#connectOptions(url),
      // As many as the transfers may use, and two more for manifests and tokens meanwhile.
      connections: (url) => (url.host === this.host ? (this.#options.maxConcurrent ?? 4) + 2 : 4),
      proxyFor: (url) => this.#proxyFor(url),
    });
    try {
      const res = await this.#http1.request({
        method: req.method,
        url: req.url,
        headers,
        body:
          body === undefined || Buffer.isBuffer(body)
            ? body
            : { length: body.length, reader: body.reader ?? (() => iterableReader(body.open())) },
        signal: req.signal,
      });
      if (res.status === 407 && req.url.protocol === 'http:') {
        // Only a proxy asks for proxy credentials: a plain-HTTP request through one was refused.
        const proxy = this.#proxyFor(req.url);
        if (proxy) {
          await res.body.dump().catch(() => undefined);
          throw new LayerkitError(
            ErrorCodes.ERR_REGISTRY_PROXY,
            `${req.what}: the proxy ${proxyLabel(proxy.url)} refused to reach ${req.url.host}: it answered 407 Proxy Authentication Required`,
            { registry: this.registry, proxy: proxyLabel(proxy.url), host: req.url.host, status: 407 },
          );
        }
      }
      return { status: res.status, headers: res.headers, body: res.body, url: req.url };
    } catch (err) {
      throw this.#networkError(err, req.url, req.what, req.signal);
    }
  }

  /** The proxy for `url` (from the `proxy` option or the environment), with TLS settings for an https proxy. */
  #proxyFor(url: URL): Http1Proxy | undefined {
    const key = url.origin;
    if (this.#proxies.has(key)) return this.#proxies.get(key);
    const choice = chooseProxy({ url, env: this.#options.env, proxy: this.#options.proxy });
    let proxy: Http1Proxy | undefined;
    if (choice) {
      const tls =
        choice.url.protocol === 'https:'
          ? loadRegistryTls({ host: choice.url.host, certsDir: this.#options.certsDir, env: this.#options.env })
          : undefined;
      proxy = {
        url: choice.url,
        ...(tls ? { tls: { ...(tls.ca ? { ca: tls.ca } : {}), rejectUnauthorized: true } } : {}),
      };
    }
    this.#proxies.set(key, proxy);
    return proxy;
  }

  /** One HTTP exchange through the caller's undici dispatcher. */
  async #dispatchTo(
    dispatcher: Dispatcher,
    req: { method: RegistryRequest['method']; url: URL; headers: Record<string, string> } & {
      body?: RequestBody | undefined;
      signal: AbortSignal | undefined;
      what: string;
    },
  ): Promise<RegistryResponse> {
    const { headers } = req;
    let body: Buffer | Readable | undefined;
    if (Buffer.isBuffer(req.body)) body = req.body;
    else if (req.body) {
      body = Readable.from(req.body.open(), { objectMode: false });
      headers['content-length'] = String(req.body.length);
    }
    try {
      const res = await dispatcher.request({
        origin: req.url.origin,
        path: `${req.url.pathname}${req.url.search}`,
        method: req.method,
        headers,
        body: body ?? null,
        signal: req.signal,
      });
      return { status: res.statusCode, headers: res.headers, body: res.body, url: req.url };
    } catch (err) {
      if (body instanceof Readable) body.destroy();
      throw this.#networkError(err, req.url, req.what, req.signal);
    }
  }

  #networkError(err: unknown, url: URL, what: string, signal: AbortSignal | undefined): unknown {
    if (err instanceof LayerkitError && err.code === ErrorCodes.ERR_REGISTRY_PROXY && err.data.registry === undefined) {
      return new LayerkitError(err.code, `${what}: ${err.message}`, { registry: this.registry, ...err.data });
    }
    if (err instanceof LayerkitError) return err;
    if (signal?.aborted) {
      return new LayerkitError(ErrorCodes.ERR_ABORTED, 'the operation was aborted', {}, { cause: signal.reason });
    }
    const e = err as NodeJS.ErrnoException;
    const code = e.code ?? (e.cause as NodeJS.ErrnoException | undefined)?.code ?? '';
    // An alert from the server about a certificate is about ours: it wants a client certificate.
    if (
      /^ERR_SSL_(?:SSLV3|TLSV1|TLSV13)_ALERT_(?:BAD_CERTIFICATE|CERTIFICATE_REQUIRED|UNKNOWN_CA|CERTIFICATE_UNKNOWN|UNSUPPORTED_CERTIFICATE|CERTIFICATE_REVOKED|CERTIFICATE_EXPIRED|ACCESS_DENIED)$/.test(
        code,
      )
    ) {
      const sent = url.host === this.host ? this.#tls : undefined;
      const why = sent?.cert
        ? `refused the client certificate in ${sent.from}/ (${code}); check that a CA the registry trusts signed it`
        : `asks for a client certificate and none is configured (${code}); put it in certs.d/${url.host}/client.cert with its key in client.key (see --cert-dir)`;
      return new LayerkitError(
        ErrorCodes.ERR_REGISTRY_TLS,
        `${what}: the TLS handshake with ${url.host} failed: the registry ${why}`,
        { registry: this.registry, host: url.host, reason: code, clientCertificate: true },
        { cause: err },
      );
    }
    if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS_CERT/.test(code)) {
      return new LayerkitError(
        ErrorCodes.ERR_REGISTRY_TLS,
        `${what}: the TLS certificate of ${url.host} is not trusted (${code}); put the registry's CA certificate in certs.d/${url.host}/ca.crt (see --cert-dir), or name the registry insecure`,
        { registry: this.registry, host: url.host, reason: code },
        { cause: err },
      );
    }
    // Failed before the connection was up through a proxy: name the proxy (never its credentials).
    const proxy = (e as { proxy?: unknown }).proxy;
    const through = typeof proxy === 'string' ? ` through the proxy ${proxy}` : '';
    return new LayerkitError(
      ErrorCodes.ERR_REGISTRY,
      `${what}: cannot reach ${url.host}${through} (${code || e.message})`,
      { registry: this.registry, host: url.host, reason: code || e.message, ...(through ? { proxy } : {}) },
      { cause: err },
    );
  }

  /** TLS for a connection to `url`: certs.d for its host, and the registry's CA for other hosts. */
  #connectOptions(url: URL): Http1Tls {
    const own = url.host === this.host;
    const tls = own
      ? this.#tls
      : loadRegistryTls({ host: url.host, certsDir: this.#options.certsDir, env: this.#options.env });
    // A token server or blob store on another host also trusts the registry's CA (as skopeo does).
    const ca = tls.ca ?? (!own && this.#tls.ca ? this.#tls.ca : undefined);
    return {
      ...(ca ? { ca } : {}),
      ...(tls.cert ? { cert: tls.cert, key: tls.key } : {}),
      rejectUnauthorized: !(own && this.#insecure),
    };
  }

  /** Closes the connections (a caller's `dispatcher` stays the caller's to close). */
  async close(): Promise<void> {
    this.#http1?.close();
    this.#http1 = undefined;
  }
}

/** Opens a client for one registry (it connects on first use). */
export async function openRegistry(
  options: { registry: string; host: string } & RegistryOptions,
): Promise<RegistryClient> {
  const { registry, host, ...settings } = options;
  return new RegistryClient({ registry, host, settings });
}

function pickChallenge(value: string | undefined): Challenge | undefined {
  if (!value) return undefined;
  const all = parseChallenges(value);
  return all.find((c) => c.scheme === 'bearer') ?? all.find((c) => c.scheme === 'basic');
}

function scopeKey(scopes: string[]): string {
  return [...scopes].sort().join(' ');
}

/** Scopes merged per resource: `repository:a:pull` + `repository:a:push` = `repository:a:pull,push`. */
export function mergeScopes(a: string[], b: string[]): string[] {
  const byResource = new Map<string, Set<string>>();
  for (const s of [...a, ...b]) {
    const last = s.lastIndexOf(':');
    if (last < 0) continue;
    const resource = s.slice(0, last);
    const set = byResource.get(resource) ?? new Set<string>();
    for (const action of s.slice(last + 1).split(',')) if (action) set.add(action);
    byResource.set(resource, set);
  }
  return [...byResource].map(([r, actions]) => `${r}:${[...actions].sort().join(',')}`);
}
