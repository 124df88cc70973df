/**
 * The shapes of the registry client (client.ts): its options, a request to the registry and its
 * answer, and reading one header of an answer.
 */
import type { Dispatcher } from 'undici';
import type { RegistryCredentials } from './credentials.js';
import type { Http1BodyReader } from './http1.js';

/** How layerkit talks to registries; every field is optional. */
export interface RegistryOptions {
  /** Credentials to use instead of the configured ones (docker config, auth.json, helpers). */
  auth?: RegistryCredentials | undefined;
  /** A certs.d-style folder (`HOST:PORT/ca.crt`, `client.cert`, `client.key`) searched first. */
  certsDir?: string | undefined;
  /** Registries (`host:port`) that may use plain HTTP and unverified TLS; `true` for all. */
  insecure?: readonly string[] | boolean | undefined;
  /** Token-server hosts (`host:port`) trusted with credentials although they are not https. */
  trustedRealms?: readonly string[] | undefined;
  /**
   * Parallel blob transfers per registry (default 4), shared by every pull and push of this
   * process to that registry: two pulls at once from one registry still run at most 4 transfers.
   */
  maxConcurrent?: number | undefined;
  /** Retries of a failed request (default 4). */
  retries?: number | undefined;
  /** First backoff delay in ms (default 400; it triples each time, with jitter). */
  retryDelayMs?: number | undefined;
  /** The longest `Retry-After` honoured, in ms (default 60 s); longer ones fail at once. */
  maxRetryAfterMs?: number | undefined;
  /** Environment for credentials, certs, mirrors and proxies (default process.env). */
  env?: NodeJS.ProcessEnv | undefined;
  /**
   * The proxy to reach registries through (`http://[USER:PASSWORD@]HOST:PORT`, https://, socks5://), for
   * every registry but loopback ones; `false` for none. Default: `HTTPS_PROXY`, `HTTP_PROXY` and
   * `NO_PROXY` of `env`, as docker, podman and skopeo read them. The user and password go to the
   * proxy only.
   */
  proxy?: string | false | undefined;
  /**
   * Ask the token server for a refresh token along with the first token fetched with a password
   * (`offline_token=true`), as `docker login` does; the client's `refreshToken` then holds it.
   */
  offlineToken?: boolean | undefined;
  /** Send every request through this undici dispatcher (a MockAgent in tests); no proxy is used then. */
  dispatcher?: Dispatcher | undefined;
}

/**
 * A request body that can be sent again (for retries and auth round trips). `reader`, when given,
 * reads it into the transport's reused buffers (http1.ts) instead of iterating `open()`.
 */
export type RequestBody =
  | Buffer
  | { length: number; open: () => AsyncIterable<Uint8Array>; reader?: (() => Http1BodyReader) | undefined };

/** One request to the registry. */
export interface RegistryRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** A path on the registry (`/v2/...`) or an absolute URL (an upload `Location`). */
  url: string;
  headers?: Record<string, string>;
  body?: RequestBody | undefined;
  /** Token scopes the request needs (`repository:NAME:pull`). */
  scopes: string[];
  /** Names the thing for errors (`manifest latest`, `blob sha256:...`). */
  what: string;
  signal?: AbortSignal | undefined;
  /**
   * Retry transient failures in place (default true). A chunk PATCH says false: it is not
   * idempotent, so its caller asks the registry where the upload stands instead.
   */
  retry?: boolean | undefined;
}

/** A response body: read it (async iteration, `text()`) or drop it (`dump()`, `destroy()`). */
export interface ResponseBody extends AsyncIterable<Buffer> {
  text(): Promise<string>;
  dump(): Promise<unknown>;
  destroy(err?: Error): unknown;
}

/** A response, its body not yet read. */
export interface RegistryResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** An `Http1Body` (which can also `pipe` without copies), or a `dispatcher`'s body. */
  body: ResponseBody;
  /** The URL that answered (after redirects). */
  url: URL;
}

/** A header's single value. */
export function header(res: { headers: RegistryResponse['headers'] }, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}
