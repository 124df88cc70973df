/**
 * The host name, `/etc/hosts` and `/etc/resolv.conf` every RUN sees, as BuildKit makes them
 * (`executor/oci/hosts.go`, `executor/oci/resolvconf.go`, `util/resolvconf`): the host name is
 * `buildkitsandbox`; hosts maps it and `localhost` to the loopback addresses; resolv.conf is the
 * host's, with loopback name servers dropped unless the step shares the host's network (a
 * resolver on the host's 127.0.0.1 is not reachable from another network namespace) and
 * Google's public servers when none is left. Both files are mounted read-only over the image's
 * (or over an empty stub that is removed afterwards), so they never land in a layer.
 */
import { isIpAddress } from './ip-address.js';

/** The host name of a RUN (BuildKit's `defaultHostname`). */
export const SANDBOX_HOSTNAME = 'buildkitsandbox';

/** BuildKit's fallback name servers when the host's leave none (IPv4, then IPv6). */
const DEFAULT_NAMESERVERS = ['8.8.8.8', '8.8.4.4', '2001:4860:4860::8888', '2001:4860:4860::8844'];

/** The `/etc/hosts` a RUN sees (BuildKit's `initHostsFile`). */
export function sandboxHosts(hostname: string = SANDBOX_HOSTNAME): string {
  return `127.0.0.1\tlocalhost ${hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n`;
}

/** Options for {@link sandboxResolvConf}. */
export interface SandboxResolvConfOptions {
  /** `host` keeps the host's file as it is; any other mode drops loopback name servers. */
  network: 'default' | 'none' | 'host';
  /** Reads a file of the host (`/etc/resolv.conf`...); undefined when it cannot be read. */
  readHostFile: (path: string) => string | undefined;
}

/** A loopback address: 127.0.0.0/8, ::1, and IPv4-mapped loopback. */
function isLoopback(addr: string): boolean {
  const a = addr.toLowerCase();
  return a.startsWith('127.') || a === '::1' || a.startsWith('::ffff:127.');
}

/**
 * The `/etc/resolv.conf` a RUN sees. When the host's file names 127.0.0.53 alone (systemd-resolved's
 * stub), the resolver's own `/run/systemd/resolve/resolv.conf` is read instead, except with the
 * host's network, where the stub is reachable. Comments and blank lines are dropped, the last
 * `search` (or `domain`) wins, `options` accumulate, other lines are kept as they are.
 */
export function sandboxResolvConf(options: SandboxResolvConfOptions): string {
  const hostNetwork = options.network === 'host';
  let text = options.readHostFile('/etc/resolv.conf');
  if (!hostNetwork && text !== undefined) {
    const servers = parseResolvConf(text).nameservers;
    if (servers.length === 1 && servers[0] === '127.0.0.53')
      text = options.readHostFile('/run/systemd/resolve/resolv.conf');
  }
  const rc = parseResolvConf(text ?? '');
  if (!hostNetwork || rc.nameservers.length === 0) {
    rc.nameservers = rc.nameservers.filter((ns) => !isLoopback(ns));
    if (rc.nameservers.length === 0) rc.nameservers = [...DEFAULT_NAMESERVERS];
  }
  const lines = rc.nameservers.map((ns) => `nameserver ${ns}`);
  if (rc.search.length > 0) lines.push(`search ${rc.search.join(' ')}`);
  if (rc.options.length > 0) lines.push(`options ${rc.options.join(' ')}`);
  lines.push(...rc.other);
  return `${lines.join('\n')}\n`;
}

interface ResolvConf {
  nameservers: string[];
  search: string[];
  options: string[];
  other: string[];
}

function parseResolvConf(text: string): ResolvConf {
  const rc: ResolvConf = { nameservers: [], search: [], options: [], other: [] };
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const fields = line.trim().split(/\s+/);
    if (fields[0] === '') continue;
    switch (fields[0]) {
      case 'nameserver':
        // A server that is not an address is dropped (BuildKit records it as invalid).
        if (fields[1] !== undefined && isIpAddress(fields[1])) rc.nameservers.push(fields[1]);
        break;
      case 'domain':
      case 'search':
        if (fields.length >= 2) rc.search = fields.slice(1);
        break;
      case 'options':
        rc.options.push(...fields.slice(1));
        break;
      default:
        rc.other.push(line);
    }
  }
  return rc;
}
