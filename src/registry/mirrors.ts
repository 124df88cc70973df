/**
 * Pull mirrors, read as containers' `registries.conf` (v2) has them, so that an offline machine
 * can point docker.io at a local mirror:
 *
 * ```toml
 * [[registry]]
 * prefix = "docker.io"
 * location = "registry-1.docker.io"
 * [[registry.mirror]]
 * location = "127.0.0.1:5000"
 * insecure = true
 * ```
 *
 * The file is `$LAYERKIT_REGISTRIES_CONF`, else `$CONTAINERS_REGISTRIES_CONF`, else
 * `~/.config/containers/registries.conf`, else `/etc/containers/registries.conf`. Only whole-registry
 * prefixes are used (a mirror serves the same repository names). Mirrors are tried in order, then
 * the registry itself; only pulls use them.
 */
import fs from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { apiHost } from './reference.js';

/** One host to try for a registry. */
export interface RegistryHost {
  /** The name credentials and certs are looked up by. */
  registry: string;
  /** host:port of the API. */
  host: string;
  /** The configuration marks it insecure (plain HTTP / unverified TLS allowed). */
  insecure?: boolean;
}

interface ConfRegistry {
  prefix?: string;
  location?: string;
  insecure?: boolean;
  mirrors: Array<{ location?: string; insecure?: boolean }>;
}

/** Parses the `[[registry]]` / `[[registry.mirror]]` tables of a registries.conf (a TOML subset). */
export function parseRegistriesConf(text: string): ConfRegistry[] {
  const out: ConfRegistry[] = [];
  let target: Record<string, unknown> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (line === '') continue;
    if (line === '[[registry]]') {
      const r: ConfRegistry = { mirrors: [] };
      out.push(r);
      target = r as unknown as Record<string, unknown>;
      continue;
    }
    if (line === '[[registry.mirror]]') {
      const last = out[out.length - 1];
      if (!last) {
        target = undefined;
        continue;
      }
      const m = {};
      last.mirrors.push(m);
      target = m;
      continue;
    }
    if (line.startsWith('[')) {
      target = undefined;
      continue;
    }
    const kv = /^([A-Za-z0-9_-]+)\s*=\s*(.+)$/.exec(line);
    if (!kv || !target) continue;
    const value = kv[2]!.trim();
    if (value === 'true' || value === 'false') target[kv[1]!] = value === 'true';
    else if (/^"(?:[^"\\]|\\.)*"$/.test(value) || /^'[^']*'$/.test(value)) target[kv[1]!] = value.slice(1, -1);
  }
  return out;
}

function confPath(env: NodeJS.ProcessEnv): string | undefined {
  const candidates = [
    env.LAYERKIT_REGISTRIES_CONF,
    env.CONTAINERS_REGISTRIES_CONF,
    join(env.XDG_CONFIG_HOME ?? join(env.HOME ?? homedir(), '.config'), 'containers', 'registries.conf'),
    '/etc/containers/registries.conf',
  ];
  for (const c of candidates) if (c && fs.existsSync(c)) return c;
  return undefined;
}

/** The hosts to try when pulling from `registry`: its mirrors in order, then itself (or its `location`). */
export function mirrorsFor(registry: string, env: NodeJS.ProcessEnv): RegistryHost[] {
  const self: RegistryHost = { registry, host: apiHost(registry) };
  const path = confPath(env);
  if (!path) return [self];
  let entries: ConfRegistry[];
  try {
    entries = parseRegistriesConf(fs.readFileSync(path, 'utf8'));
  } catch {
    return [self];
  }
  const entry = entries.find((e) => (e.prefix ?? e.location) === registry);
  if (!entry) return [self];
  const hosts: RegistryHost[] = [];
  for (const m of entry.mirrors) {
    if (!m.location || m.location.includes('/')) continue;
    hosts.push({ registry: m.location, host: m.location, ...(m.insecure ? { insecure: true } : {}) });
  }
  if (entry.location && !entry.location.includes('/') && entry.location !== registry) {
    hosts.push({
      registry: entry.location,
      host: apiHost(entry.location),
      ...(entry.insecure ? { insecure: true } : {}),
    });
  } else hosts.push({ ...self, ...(entry.insecure ? { insecure: true } : {}) });
  return hosts;
}
