/**
 * An undici dispatcher that sends each request the way {@link chooseProxy} says (Go's rules for
 * `HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`, as the registry client applies them), for what layerkit
 * fetches with undici rather than its registry transport: a build's context or named context
 * given as an HTTP(S) URL. Each hop of a redirect is routed on its own origin.
 */
import type { Dispatcher } from 'undici';
import { chooseProxy, decodeUserinfo } from './proxy-choice.js';
import { loadRegistryTls } from './tls.js';

/** Options for {@link openProxyDispatcher}. */
export interface ProxyDispatcherOptions {
  /** The environment (default process.env). */
  env?: NodeJS.ProcessEnv | undefined;
  /** A proxy URL instead of the environment's, or `false` for none (as RegistryOptions.proxy). */
  proxy?: string | false | undefined;
  /** A certs.d-style folder searched first for an https proxy's CA (`HOST:PORT/ca.crt`). */
  certsDir?: string | undefined;
}

/** A dispatcher for `fetch`, and `close()` for when the fetch is over. */
export interface ProxyDispatcher {
  dispatcher: Dispatcher;
  close(): Promise<void>;
}

const VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'];

/**
 * A dispatcher routing through proxies, or undefined when no proxy is set at all (then undici's
 * default serves). A malformed proxy value throws `ERR_REGISTRY_PROXY` when a request would use
 * it. Requests to loopback hosts and to `NO_PROXY` entries go direct.
 */
export async function openProxyDispatcher(options: ProxyDispatcherOptions = {}): Promise<ProxyDispatcher | undefined> {
  const env = options.env ?? process.env;
  if (options.proxy === false) return undefined;
  if (options.proxy === undefined && !VARIABLES.some((name) => (env[name] ?? '') !== '')) return undefined;
  const undici = await import('undici');
  const direct = new undici.Agent();
  const proxies = new Map<string, Dispatcher>();
  const route = (origin: string): Dispatcher | undefined => {
    const choice = chooseProxy({ url: new URL(origin), env, proxy: options.proxy });
    if (choice === undefined) return undefined;
    const key = `${new URL(origin).protocol} ${choice.url.href}`;
    let agent = proxies.get(key);
    if (agent === undefined) {
      const tls =
        choice.url.protocol === 'https:'
          ? loadRegistryTls({ host: choice.url.host, certsDir: options.certsDir, env })
          : undefined;
      // undici speaks SOCKS5 as socks5: (names resolved by the proxy, as socks5h: asks).
      const href = choice.url.href;
      const uri = href.startsWith('socks5h:') ? `socks5:${href.slice('socks5h:'.length)}` : href;
      const socks = uri.startsWith('socks5:');
      agent = new undici.ProxyAgent({
        uri,
        // undici hands a SOCKS5 proxy the URL's user and password still percent-encoded.
        ...(socks && choice.url.username !== ''
          ? { username: decodeUserinfo(choice.url.username), password: decodeUserinfo(choice.url.password) }
          : {}),
        // A plain-HTTP target goes as absolute-form requests, as Go sends them (no CONNECT).
        proxyTunnel: false,
        ...(tls?.ca ? { proxyTls: { ca: tls.ca } } : {}),
      });
      proxies.set(key, agent);
    }
    return agent;
  };
  const dispatcher = direct.compose(
    (dispatch) => (opts, handler) => (route(String(opts.origin)) ?? { dispatch }).dispatch(opts, handler),
  );
  return {
    dispatcher,
    async close() {
      await Promise.all([direct.close(), ...[...proxies.values()].map((p) => p.close())]);
    },
  };
}
