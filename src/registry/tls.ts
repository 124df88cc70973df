/**
 * TLS per registry, laid out as docker and podman do: `certs.d/HOST:PORT/*.crt` are extra CA
 * certificates (added to the system roots), `*.cert` + `*.key` a client certificate. The folders
 * searched: the `certsDir` option, `$LAYERKIT_CERTS_DIR`, `~/.config/containers/certs.d`,
 * `/etc/containers/certs.d`, `/etc/docker/certs.d`; the first that has the host wins.
 */
import fs from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { ErrorCodes, LayerkitError } from '../errors.js';

/** What a connection to one registry needs for TLS. */
export interface RegistryTls {
  /** CA certificates (system roots plus the registry's own); undefined: system roots only. */
  ca?: string[];
  cert?: string;
  key?: string;
  /** The folder the settings came from. */
  from?: string;
}

/** The certs.d folders searched, in order. */
export function certsDirs(options: { certsDir?: string | undefined; env?: NodeJS.ProcessEnv | undefined }): string[] {
  const env = options.env ?? process.env;
  const out: string[] = [];
  if (options.certsDir) out.push(options.certsDir);
  if (env.LAYERKIT_CERTS_DIR) out.push(env.LAYERKIT_CERTS_DIR);
  out.push(join(env.XDG_CONFIG_HOME ?? join(env.HOME ?? homedir(), '.config'), 'containers', 'certs.d'));
  out.push('/etc/containers/certs.d', '/etc/docker/certs.d');
  return out;
}

/**
 * Reads the TLS settings for `host[:port]` from the first certs.d folder that has it.
 * @throws `ERR_REGISTRY_TLS` for a client certificate without its key
 */
export function loadRegistryTls(options: {
  host: string;
  certsDir?: string | undefined;
  env?: NodeJS.ProcessEnv | undefined;
}): RegistryTls {
  for (const base of certsDirs(options)) {
    const dir = join(base, options.host);
    let names: string[];
    try {
      names = fs.readdirSync(dir).sort();
    } catch {
      continue;
    }
    const tls: RegistryTls = { from: dir };
    const cas = names.filter((n) => n.endsWith('.crt')).map((n) => fs.readFileSync(join(dir, n), 'utf8'));
    if (cas.length > 0) tls.ca = [...rootCertificates, ...cas];
    const cert = names.find((n) => n.endsWith('.cert'));
    if (cert) {
      const key = cert.replace(/\.cert$/, '.key');
      if (!names.includes(key)) {
        throw new LayerkitError(
          ErrorCodes.ERR_REGISTRY_TLS,
          `${join(dir, cert)} is a client certificate without its key: put the key in ${join(dir, key)}, or remove the certificate`,
          { host: options.host, path: join(dir, cert) },
        );
      }
      tls.cert = fs.readFileSync(join(dir, cert), 'utf8');
      tls.key = fs.readFileSync(join(dir, key), 'utf8');
    }
    return tls;
  }
  return {};
}
