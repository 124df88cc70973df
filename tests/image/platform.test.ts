import { describe, expect, it } from 'vitest';
import { platformMatches, parsePlatform, formatPlatform } from '../../src/index.js';
import { selectManifest, isAttestation } from '../../src/low-level.js';
import type { Descriptor } from '../../src/index.js';

const d = (hex: string, platform?: Descriptor['platform'], annotations?: Record<string, string>): Descriptor => ({
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: `sha256:${hex.padEnd(64, '0')}` as Descriptor['digest'],
  size: 1,
  ...(platform ? { platform } : {}),
  ...(annotations ? { annotations } : {}),
});

describe('picking a manifest from an index', () => {
  const attestation = d(
    'a0',
    { os: 'unknown', architecture: 'unknown' },
    { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': `sha256:${'b'.repeat(64)}` },
  );
  const index = [
    attestation,
    d('b1', { os: 'linux', architecture: 'arm', variant: 'v6' }),
    d('b2', { os: 'linux', architecture: 'arm', variant: 'v7' }),
    d('b3', { os: 'linux', architecture: 'amd64' }),
    d('b4', { os: 'linux', architecture: 'arm64', variant: 'v8' }),
  ];

  it.each([
    ['linux/amd64', 'b3'],
    ['linux/arm/v7', 'b2'],
    ['linux/arm', 'b2'],
    ['linux/arm/v6', 'b1'],
    ['linux/arm64', 'b4'],
  ])('%s picks %s, never the attestation', (platform, hex) => {
    expect(selectManifest(index, parsePlatform(platform), 'test').digest).toBe(d(hex).digest);
  });

  it('an index with only an attestation for the platform is ERR_NO_MATCHING_PLATFORM listing what there is', () => {
    expect(() =>
      selectManifest(
        [attestation, d('c1', { os: 'linux', architecture: 's390x' })],
        parsePlatform('linux/amd64'),
        'img',
      ),
    ).toThrow(
      expect.objectContaining({ code: 'ERR_NO_MATCHING_PLATFORM', message: expect.stringContaining('linux/s390x') }),
    );
  });

  it('recognises attestations by annotation and by unknown/unknown', () => {
    expect(isAttestation(attestation)).toBe(true);
    expect(isAttestation(d('e', { os: 'unknown', architecture: 'unknown' }))).toBe(true);
    expect(isAttestation(d('f', { os: 'linux', architecture: 'amd64' }))).toBe(false);
    expect(platformMatches(undefined, parsePlatform('linux/amd64'))).toBe(true);
    expect(formatPlatform(parsePlatform('linux/arm/v7'))).toBe('linux/arm/v7');
    expect(() => parsePlatform('linux')).toThrow(/os\/arch/);
  });
});
