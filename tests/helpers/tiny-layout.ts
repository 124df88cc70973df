/**
 * Tiny OCI image layouts written straight to a folder (no library code involved), for tests that
 * mutate or race imports: uncompressed one-file layers, a config, a manifest and index.json.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The sha256 digest of bytes. */
export const sha256Of = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** An uncompressed tar holding one regular file. */
export function oneFileTar(name: string, content: string): Buffer {
  const body = Buffer.from(content);
  const header = Buffer.alloc(512);
  header.write(name, 0);
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124);
  header.write('00000000000\0', 136);
  header.write('        ', 148);
  header.write('0', 156);
  header.write('ustar\0', 257);
  header.write('00', 263);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  const pad = Buffer.alloc((512 - (body.length % 512)) % 512);
  return Buffer.concat([header, body, pad, Buffer.alloc(1024)]);
}

/** What {@link writeTinyLayout} lets a test change. */
export interface TinyLayoutOptions {
  /** The layers' contents, one file each. */
  layers: string[];
  /** Store this layer's bytes altered (its file no longer matches its digest). */
  corruptLayer?: number;
  /** Changes the manifest object before it is written. */
  mutateManifest?: (manifest: Record<string, unknown>) => void;
  /** Changes the index.json object before it is written. */
  mutateIndex?: (index: Record<string, unknown>) => void;
}

/** Writes an OCI layout into `dir` (created). */
export function writeTinyLayout(dir: string, options: TinyLayoutOptions): void {
  mkdirSync(join(dir, 'blobs/sha256'), { recursive: true });
  const put = (b: Buffer, stored?: Buffer) => {
    const digest = sha256Of(b);
    writeFileSync(join(dir, 'blobs/sha256', digest.slice(7)), stored ?? b);
    return { digest, size: b.length };
  };
  const layers = options.layers.map((content, i) => {
    const tar = oneFileTar(`file${i}`, content);
    return put(tar, i === options.corruptLayer ? Buffer.from(tar).fill(65, 600, 610) : undefined);
  });
  const config = put(
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
      }),
    ),
  );
  const tarType = 'application/vnd.oci.image.layer.v1.tar';
  const manifest: Record<string, unknown> = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: layers.map((l) => ({ mediaType: tarType, ...l })),
  };
  options.mutateManifest?.(manifest);
  const m = put(Buffer.from(JSON.stringify(manifest)));
  const index: Record<string, unknown> = {
    schemaVersion: 2,
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...m }],
  };
  options.mutateIndex?.(index);
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(join(dir, 'index.json'), JSON.stringify(index));
}
