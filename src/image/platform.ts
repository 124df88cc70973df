/**
 * Platforms: which manifest of an index to use. The host's platform unless one is asked for;
 * attestation manifests (BuildKit's `unknown/unknown` entries) are never chosen.
 */
import { arch } from '#platform';
import { ErrorCodes, LayerkitError } from '../errors.js';
import type { Descriptor, Platform } from '../oci/types.js';

const ARCH: Record<string, string> = {
  x64: 'amd64',
  ia32: '386',
  arm64: 'arm64',
  arm: 'arm',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64',
  mips: 'mips',
  mipsel: 'mipsle',
};

/** The platform of the running process (`linux/amd64`...). Non-Linux hosts ask for Linux images. */
export function hostPlatform(): Platform {
  const architecture = ARCH[arch] ?? arch;
  const p: Platform = { os: 'linux', architecture };
  if (architecture === 'arm64') p.variant = 'v8';
  return p;
}

/** Parses `os/arch[/variant]` (`linux/arm/v7`). */
export function parsePlatform(text: string): Platform {
  const parts = text.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p.length === 0)) {
    throw new LayerkitError(
      ErrorCodes.ERR_USAGE,
      `invalid platform ${JSON.stringify(text)}: expected os/arch[/variant], e.g. linux/amd64`,
      { platform: text },
    );
  }
  const p: Platform = { os: parts[0]!, architecture: parts[1]! };
  if (parts[2] !== undefined) p.variant = parts[2];
  return p;
}

/** `os/arch[/variant]`. */
export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** True for BuildKit attestation manifests and other entries no runtime can use. */
export function isAttestation(d: Descriptor): boolean {
  return (
    d.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest' ||
    (d.platform?.os === 'unknown' && d.platform.architecture === 'unknown')
  );
}

function defaultVariant(p: Platform): string | undefined {
  if (p.variant) return p.variant;
  if (p.architecture === 'arm64') return 'v8';
  if (p.architecture === 'arm') return 'v7';
  return undefined;
}

/** True when a descriptor's platform satisfies `wanted` (variant defaults as containerd's matcher has them). */
export function platformMatches(have: Platform | undefined, wanted: Platform): boolean {
  if (have === undefined) return true;
  if (have.os !== wanted.os || have.architecture !== wanted.architecture) return false;
  const wv = defaultVariant(wanted);
  const hv = defaultVariant(have);
  return wv === undefined || hv === undefined || wv === hv;
}

/** Picks the first manifest of an index that matches the platform; `ERR_NO_MATCHING_PLATFORM` lists what there is. */
export function selectManifest(manifests: readonly Descriptor[], wanted: Platform, where: string): Descriptor {
  const usable = manifests.filter((d) => !isAttestation(d));
  const found = usable.find((d) => platformMatches(d.platform, wanted));
  if (found) return found;
  const offered = usable.map((d) => (d.platform ? formatPlatform(d.platform) : 'unspecified')).join(', ');
  throw new LayerkitError(
    ErrorCodes.ERR_NO_MATCHING_PLATFORM,
    `${where} has no image for ${formatPlatform(wanted)} (it has: ${offered || 'nothing'}); pass --platform to pick one`,
    { platform: formatPlatform(wanted), offered: usable.map((d) => d.platform) },
  );
}
