/**
 * The registry options that `pull`, `push`, `build` and `cat --lazy` share (`--cert-dir`,
 * `--insecure`, `--compression`), apart from the commands: `build` parses them without loading
 * the registry client, which only a build that pulls, pushes or uses a remote cache needs.
 */
import type { RegistryOptions } from '../../registry/client.js';
import { parseRegistryReference } from '../../registry/reference.js';
import { stringOption, type OptionSpec, type OptionValues } from '../command.js';
import { UsageError } from '../output.js';

/** How a command reaches registries: a certs.d folder, insecure registries (pull, push, build). */
export const CONNECTION_OPTIONS: Record<string, OptionSpec> = {
  'cert-dir': {
    type: 'string',
    value: 'DIR',
    description: 'a certs.d folder (HOST:PORT/ca.crt, client.cert, client.key) searched before /etc/docker/certs.d',
  },
  insecure: {
    type: 'boolean',
    description: 'allow plain HTTP and unverified TLS for this registry (loopback registries may use HTTP anyway)',
  },
};

/** The registry options `CONNECTION_OPTIONS` give, for the registry `registryName` names. */
export function connection(options: OptionValues, registryName: () => string): RegistryOptions {
  const certsDir = stringOption(options, 'cert-dir');
  return {
    ...(certsDir ? { certsDir } : {}),
    ...(options.insecure ? { insecure: [registryName()] } : {}),
  };
}

/** The registry host of a reference (`docker.io` for `alpine`). */
export function registryOf(ref: string): string {
  return parseRegistryReference(ref).registry;
}

/** `--compression` of push and build: how layers are sent or stored. */
export const COMPRESSION_OPTION = {
  type: 'string',
  value: 'FORMAT',
  description:
    "'estargz' writes the layers in eStargz (still gzip, which every registry and runtime reads; lazily pullable); 'gzip' (default) leaves them as they are",
} as const;

/** The `--compression` value: `'estargz'`, or undefined for the default gzip. */
export function compressionOption(options: Record<string, unknown>): 'estargz' | undefined {
  const v = options['compression'];
  if (v === undefined || v === 'gzip') return undefined;
  if (v === 'estargz') return 'estargz';
  throw new UsageError(`--compression ${String(v)}: use estargz or gzip`);
}
