/**
 * A reference as a registry sees it: which host to talk to, which repository, and which tag or
 * digest. Normalised as docker does (`alpine` is `docker.io/library/alpine:latest`); Docker Hub's
 * API lives on `registry-1.docker.io`.
 */
import type { Digest } from '../digest/digest.js';
import { familiarReference, parseReference } from '../oci/reference.js';

/** A parsed reference, ready for the distribution API. */
export interface RegistryReference {
  /** The registry as users name it (`docker.io`, `127.0.0.1:5000`): the key for credentials and certs. */
  registry: string;
  /** The repository path (`library/alpine`). */
  repository: string;
  /** The tag (`latest` when neither tag nor digest was given). */
  tag?: string;
  /** The digest, when the reference pins one. */
  digest?: Digest;
  /** The familiar name layerkit tags with (`alpine:latest`, `127.0.0.1:5000/app:1`). */
  familiar: string;
  /** The fully qualified form (`docker.io/library/alpine:latest`). */
  full: string;
}

/** Docker Hub's API host. */
export const DOCKER_HUB_API = 'registry-1.docker.io';

/**
 * Parses and normalises a reference. Throws `ERR_INVALID_REFERENCE`.
 * @example parseRegistryReference('alpine').repository // 'library/alpine'
 */
export function parseRegistryReference(input: string): RegistryReference {
  const ref = parseReference(input);
  const tag = ref.tag ?? (ref.digest === undefined ? 'latest' : undefined);
  let full = `${ref.domain}/${ref.path}`;
  if (tag !== undefined) full += `:${tag}`;
  if (ref.digest !== undefined) full += `@${ref.digest}`;
  return {
    registry: ref.domain,
    repository: ref.path,
    ...(tag !== undefined ? { tag } : {}),
    ...(ref.digest !== undefined ? { digest: ref.digest } : {}),
    familiar: familiarReference(full),
    full,
  };
}

/** The host:port the API is served on (Docker Hub's differs from its name). */
export function apiHost(registry: string): string {
  return registry === 'docker.io' ? DOCKER_HUB_API : registry;
}

/** The tag or digest to put in a manifest URL (the digest wins: it is what the bytes must hash to). */
export function manifestReference(ref: RegistryReference): string {
  return ref.digest ?? ref.tag ?? 'latest';
}

/** True for loopback hosts (`localhost`, `127.x`, `[::1]`), which docker lets speak plain HTTP. */
export function isLoopbackHost(hostPort: string): boolean {
  const host = hostOnly(hostPort);
  return host === 'localhost' || host.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '::1';
}

/** The host of `host[:port]` (brackets of an IPv6 literal removed). */
export function hostOnly(hostPort: string): string {
  if (hostPort.startsWith('[')) return hostPort.slice(1, hostPort.indexOf(']'));
  const colon = hostPort.lastIndexOf(':');
  return colon >= 0 ? hostPort.slice(0, colon) : hostPort;
}
