/**
 * Wrapping layer tars made by GNU tar into an image that `importImage` reads: an OCI layout
 * folder (blobs hardlinked, not copied) and an oci-archive (the layout folder tarred by GNU tar).
 * The layers stay uncompressed, so the import and the peer's `tar -xf` read the same bytes.
 */
import { createReadStream, linkSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { runChild } from '../harness.js';

/** GNU tar flags that make an archive of a folder deterministic (sorted, fixed owners and times). */
export const DETERMINISTIC_TAR = [
  '--sort=name',
  '--owner=0',
  '--group=0',
  '--numeric-owner',
  '--mtime=@1700000000',
  '--format=gnu',
] as const;

/** Tars `dir` (its contents, as `./...`) into `archive` with GNU tar, deterministically. */
export async function tarFolder({
  dir,
  archive,
  extra = [],
}: {
  dir: string;
  archive: string;
  extra?: readonly string[];
}): Promise<void> {
  await runChild({ argv: ['tar', '-cf', archive, ...DETERMINISTIC_TAR, '-C', dir, '.', ...extra] });
}

/** sha256 hex of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Options for {@link writeOciLayout}. */
export interface WriteOciLayoutOptions {
  /** The layout folder to create. */
  dir: string;
  /** Uncompressed layer tars, bottom first (hardlinked into the layout: same filesystem). */
  layers: readonly string[];
  /** The name written as `org.opencontainers.image.ref.name`. */
  refName?: string;
}

/** Writes an OCI image layout with one image whose layers are the given tars; returns the layer diffIDs. */
export async function writeOciLayout({ dir, layers, refName = 'latest' }: WriteOciLayoutOptions): Promise<string[]> {
  const blobs = join(dir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const put = (bytes: Buffer): { digest: string; size: number } => {
    const hex = createHash('sha256').update(bytes).digest('hex');
    writeFileSync(join(blobs, hex), bytes);
    return { digest: `sha256:${hex}`, size: bytes.length };
  };
  const descriptors: Array<{ mediaType: string; digest: string; size: number }> = [];
  const diffIds: string[] = [];
  for (const layer of layers) {
    const hex = await sha256File(layer);
    try {
      linkSync(layer, join(blobs, hex));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    descriptors.push({
      mediaType: 'application/vnd.oci.image.layer.v1.tar',
      digest: `sha256:${hex}`,
      size: statSync(layer).size,
    });
    diffIds.push(`sha256:${hex}`);
  }
  const config = put(
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: {},
        rootfs: { type: 'layers', diff_ids: diffIds },
        history: diffIds.map((_, i) => ({ created: '2023-11-14T22:13:20Z', created_by: `bench layer ${i}` })),
      }),
    ),
  );
  const manifest = put(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: descriptors,
      }),
    ),
  );
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          ...manifest,
          annotations: { 'org.opencontainers.image.ref.name': refName },
        },
      ],
    }),
  );
  return diffIds;
}
