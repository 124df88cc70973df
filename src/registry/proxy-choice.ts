/**
 * Which proxy, if any, a registry connection goes through, by the rules of Go's
 * golang.org/x/net/http/httpproxy (what docker, podman, skopeo and crane use), so the same
 * environment sends layerkit where it sends them:
 * - https targets use `HTTPS_PROXY`, http targets `HTTP_PROXY`; each name in upper case first,
 *   then lower case (the first that is set and not empty wins);
 * - a value without a scheme (`proxy.corp:3128`) means `http://`;
 * - `localhost` and loopback addresses are never proxied;
 * - `NO_PROXY` (then `no_proxy`) is a comma-separated list: `*` (nothing is proxied), an IP
 *   address (`10.1.2.3`, `2001:db8::1`), a CIDR block (`10.0.0.0/8`, `fd00::/8`), a domain
 *   (`example.com`: it and its subdomains), `.example.com` or `*.example.com` (subdomains only),
 *   each optionally with a port (`example.com:5000`, `[2001:db8::1]:443`) that must then match.
 * - in a CGI process (`REQUEST_METHOD` set) `HTTP_PROXY` is refused: a request header can set it
 *   there (httpoxy).
 *
 * A proxy is http://, https://, socks5:// or socks5h:// (both SOCKS5 with names resolved by the
 * proxy, as Go dials them). Unlike Go, which drops a proxy value it cannot parse and connects
 * directly, a malformed value or a scheme layerkit cannot speak is an error naming the variable:
 * a user who set a proxy does not want layerkit to go around it. Values are never echoed with
 * their user:password part.
 */
import { ErrorCodes, LayerkitError } from '../errors.js';

/** The proxy a connection goes through. */
export interface ProxyChoice {
  /** The proxy (http:, https:, socks5:, socks5h:; user and password when the value had them; no port: the scheme's). */
  url: URL;
  /** Where it came from: `HTTPS_PROXY`, `https_proxy`, `HTTP_PROXY`, `http_proxy` or `proxy` (an option). */
  source: string;
}

/** What {@link chooseProxy} decides from. */
export interface ProxyChoiceOptions {
  /** The target (only its scheme, host and port count). */
  url: URL;
  /** The environment (default process.env). */
  env?: NodeJS.ProcessEnv | undefined;
  /**
   * A proxy URL to use instead of the environment's (for every target but loopback ones; NO_PROXY
   * is not consulted), or `false` for none; default: the environment decides.
   */
  proxy?: string | false | undefined;
}

const DEFAULT_PORT: Record<string, string> = { 'http:': '80', 'https:': '443' };
const PROXY_SCHEMES = new Set(['http:', 'https:', 'socks5:', 'socks5h:']);

/**
 * The proxy to reach `url` through, or undefined to connect directly. Throws `ERR_REGISTRY_PROXY`
 * for a malformed proxy value (naming the variable, never its password).
 */
export function chooseProxy(options: ProxyChoiceOptions): ProxyChoice | undefined {
  const { url, proxy } = options;
  if (proxy === false) return undefined;
  const env = options.env ?? process.env;
  const scheme = url.protocol;
  if (scheme !== 'https:' && scheme !== 'http:') return undefined;
  let source: string | undefined;
  let value: string | undefined;
  if (proxy !== undefined) {
    source = 'proxy';
    value = proxy;
  } else {
    const names = scheme === 'https:' ? ['HTTPS_PROXY', 'https_proxy'] : ['HTTP_PROXY', 'http_proxy'];
    source = names.find((n) => (env[n] ?? '') !== '');
    value = source === undefined ? undefined : env[source];
  }
  if (source === undefined || value === undefined || value === '') return undefined;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = url.port || DEFAULT_PORT[scheme]!;
  if (isLoopback(host)) return undefined;
  if (proxy === undefined && !useProxy(host, port, env['NO_PROXY'] || env['no_proxy'] || '')) return undefined;
  if (scheme === 'http:' && proxy === undefined && (env['REQUEST_METHOD'] ?? '') !== '') {
    throw new LayerkitError(
      ErrorCodes.ERR_REGISTRY_PROXY,
      `${source} is not used in a CGI environment (REQUEST_METHOD is set), where a request can set it; see golang.org/s/cgihttpproxy`,
      { variable: source },
    );
  }
  return { url: parseProxyValue(value, source), source };
}

/** `scheme://host:port` of a proxy: what errors and logs may show (never its user or password). */
export function proxyLabel(url: URL): string {
  return `${url.protocol}//${url.hostname}:${proxyPort(url)}`;
}

/** The port of a proxy URL (its scheme's default when it names none). */
export function proxyPort(url: URL): number {
  return Number(url.port) || (url.protocol === 'https:' ? 443 : isSocksProxy(url) ? 1080 : 80);
}

/** True for a socks5: or socks5h: proxy URL. */
export function isSocksProxy(url: URL): boolean {
  return url.protocol === 'socks5:' || url.protocol === 'socks5h:';
}

/** A proxy URL's user or password, percent-decoded (a '%' that is no escape stays as written). */
export function decodeUserinfo(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** A proxy value as a URL (`http://` when it has no scheme), with its port filled in. */
function parseProxyValue(value: string, source: string): URL {
  let parsed = tryUrl(value);
  // `host:port` parses as a URL with the scheme `host:` and no host; `1.2.3.4:80` does not parse.
  if ((parsed === undefined || parsed.host === '') && !value.includes('://')) parsed = tryUrl(`http://${value}`);
  const fail = (why: string): never => {
    throw new LayerkitError(ErrorCodes.ERR_REGISTRY_PROXY, `${source} ${JSON.stringify(redact(value))} ${why}`, {
      variable: source,
    });
  };
  if (parsed === undefined || parsed.host === '') return fail('is not a proxy URL (http://HOST:PORT)');
  if (!PROXY_SCHEMES.has(parsed.protocol))
    return fail(
      `uses ${parsed.protocol.slice(0, -1)}, which layerkit does not speak; use an http://, https:// or socks5:// proxy`,
    );
  return parsed;
}

function tryUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/** A proxy value with what precedes its host's `@` (user and password) replaced by `***`. */
function redact(value: string): string {
  const at = value.lastIndexOf('@');
  if (at < 0) return value;
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(value)?.[0] ?? '';
  return `${scheme}***${value.slice(at)}`;
}

/** `localhost`, 127.0.0.0/8, ::1 and IPv4-mapped loopback addresses (Go's rule: not `*.localhost`). */
function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  const ip = ipBytes(host);
  if (ip === undefined) return false;
  if (ip.length === 4) return ip[0] === 127;
  return ip.every((b, i) => b === (i === 15 ? 1 : 0));
}

/** False when NO_PROXY exempts `host` (lower case, no brackets) at `port`. */
function useProxy(host: string, port: string, noProxy: string): boolean {
  const ip = ipBytes(host);
  const ascii = ip === undefined ? toAscii(host) : host;
  for (const raw of noProxy.split(',')) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return false;
    const cidr = parseCidr(entry);
    if (cidr) {
      if (ip !== undefined && inCidr(ip, cidr)) return false;
      continue;
    }
    const split = splitHostPort(entry);
    let entryHost = split?.host ?? entry;
    const entryPort = split?.port ?? '';
    if (entryHost === '') continue;
    const entryIp = ipBytes(entryHost);
    if (entryIp !== undefined) {
      if (ip !== undefined && sameIp(ip, entryIp) && (entryPort === '' || entryPort === port)) return false;
      continue;
    }
    // A domain matches names only, never an IP address.
    if (ip !== undefined) continue;
    if (entryHost.startsWith('*.')) entryHost = entryHost.slice(1);
    const matchSelf = !entryHost.startsWith('.');
    const suffix = toAscii(matchSelf ? `.${entryHost}` : entryHost);
    if (
      (ascii.endsWith(suffix) || (matchSelf && ascii === suffix.slice(1))) &&
      (entryPort === '' || entryPort === port)
    )
      return false;
  }
  return true;
}

/**
 * A domain (or `.domain`) in ASCII (punycode), as Go's idna.Lookup gives it (by the URL parser's
 * own IDNA, which browsers have too); unchanged when not convertible.
 */
function toAscii(name: string): string {
  if (/^[\x00-\x7f]*$/.test(name)) return name;
  const dot = name.startsWith('.') ? '.' : '';
  const converted = tryUrl(`http://${name.slice(dot.length)}/`)?.hostname;
  return converted === undefined || converted === '' ? name : `${dot}${converted}`;
}

/** Go's net.SplitHostPort, for `host:port` and `[v6]:port`; undefined when `s` is not of that form. */
function splitHostPort(s: string): { host: string; port: string } | undefined {
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0 || s[close + 1] !== ':') return undefined;
    const port = s.slice(close + 2);
    return port.includes(':') || port.includes('[') ? undefined : { host: s.slice(1, close), port };
  }
  const colon = s.lastIndexOf(':');
  if (colon < 0 || s.indexOf(':') !== colon) return undefined;
  return { host: s.slice(0, colon), port: s.slice(colon + 1) };
}

/** An IPv4 or IPv6 address as bytes (an IPv4-mapped IPv6 address as its 4 bytes), or undefined. */
function ipBytes(text: string): number[] | undefined {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(text)) {
    const parts = text.split('.').map(Number);
    // Go refuses leading zeros (they are octal to some parsers) and octets over 255.
    if (parts.some((p, i) => p > 255 || (text.split('.')[i]!.length > 1 && text.split('.')[i]!.startsWith('0'))))
      return undefined;
    return parts;
  }
  if (!text.includes(':') || !/^[0-9a-f:.]+$/i.test(text)) return undefined;
  let tail: number[] = [];
  let body = text;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    const v4 = ipBytes(text.slice(lastColon + 1));
    if (v4 === undefined || v4.length !== 4) return undefined;
    tail = v4;
    body = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = body.split('::');
  if (halves.length > 2) return undefined;
  const groups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (!/^[0-9a-f]{1,4}$/i.test(g)) return undefined;
      out.push(Number.parseInt(g, 16));
    }
    return out;
  };
  const head = groups(halves[0]!);
  const rest = halves.length === 2 ? groups(halves[1]!) : [];
  if (head === undefined || rest === undefined) return undefined;
  const missing = 8 - head.length - rest.length;
  if ((halves.length === 2 && missing < 1) || (halves.length === 1 && missing !== 0)) return undefined;
  const words = [...head, ...new Array<number>(missing).fill(0), ...rest];
  const bytes = words.flatMap((w) => [w >> 8, w & 0xff]);
  if (tail.length === 4) bytes.splice(12, 4, ...tail);
  const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  return mapped ? bytes.slice(12) : bytes;
}

function sameIp(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

interface Cidr {
  bytes: number[];
  bits: number;
}

/** `ADDRESS/BITS` as Go's net.ParseCIDR reads it, or undefined. */
function parseCidr(entry: string): Cidr | undefined {
  const slash = entry.indexOf('/');
  if (slash < 0) return undefined;
  const addressText = entry.slice(0, slash);
  const bitsText = entry.slice(slash + 1);
  const bytes = ipBytes(addressText);
  if (bytes === undefined || !/^\d{1,3}$/.test(bitsText)) return undefined;
  // A v6 block written with an IPv4-mapped address counts its bits over 128.
  const v6Text = addressText.includes(':');
  let bits = Number(bitsText);
  if (v6Text && bytes.length === 4) {
    if (bits < 96) return undefined;
    bits -= 96;
  }
  if (bits > bytes.length * 8) return undefined;
  return { bytes, bits };
}

function inCidr(ip: number[], cidr: Cidr): boolean {
  if (ip.length !== cidr.bytes.length) return false;
  for (let bit = 0; bit < cidr.bits; bit++) {
    const mask = 0x80 >> (bit % 8);
    if ((ip[bit >> 3]! & mask) !== (cidr.bytes[bit >> 3]! & mask)) return false;
  }
  return true;
}
