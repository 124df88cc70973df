/**
 * Test-side builders of image layouts and archives from raw layer bytes, so hostile or broken
 * inputs reach `importImage` exactly as an attacker or a broken tool would hand them over.
 * Digests are computed here; nothing is normalised.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { TarWriter } from '../../src/tar/writer.js';
import type { TarEntryInput } from '../../src/tar/types.js';

/** A blob to place in a layout: its bytes and descriptor fields. */
export interface LayoutBlob {
  digest: string;
  size: number;
  bytes: Buffer;
}

/** Hashes bytes into a {@link LayoutBlob}. */
export function blobOf(bytes: Buffer | string): LayoutBlob {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
  return { digest: `sha256:${createHash('sha256').update(b).digest('hex')}`, size: b.length, bytes: b };
}

/** Writes a tar with layerkit's deterministic writer and returns its bytes. */
export async function tarBytes(entries: Array<{ header: TarEntryInput; data?: Buffer }>): Promise<Buffer> {
  const writer = new TarWriter();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of writer.stream) chunks.push(c as Buffer);
  })();
  for (const { header, data } of entries) await writer.add(header, data);
  await writer.finish();
  await done;
  return Buffer.concat(chunks);
}

/** One image of a layout: uncompressed layer tars (bottom first) and how to store them. */
export interface LayoutImage {
  tag: string;
  layers: Buffer[];
  /** gzip the layer blobs (default false: `tar` media type). */
  gzip?: boolean;
}

/** The blobs and JSON of one image as written by {@link writeLayout}. */
export interface WrittenImage {
  manifest: LayoutBlob;
  config: LayoutBlob;
  layers: LayoutBlob[];
  diffIds: string[];
}

/** Builds the blobs of an image (config with the layers' diffIDs, OCI manifest). */
function imageBlobs(image: LayoutImage): WrittenImage {
  const diffIds = image.layers.map((l) => blobOf(l).digest);
  const layers = image.layers.map((l) => blobOf(image.gzip ? gzipSync(l) : l));
  const config = blobOf(
    JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: diffIds } }),
  );
  const manifest = blobOf(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.size },
      layers: layers.map((l) => ({
        mediaType: image.gzip
          ? 'application/vnd.oci.image.layer.v1.tar+gzip'
          : 'application/vnd.oci.image.layer.v1.tar',
        digest: l.digest,
        size: l.size,
      })),
    }),
  );
  return { manifest, config, layers, diffIds };
}

/** Writes an OCI layout folder holding the images (each tagged with its `ref.name`). */
export function writeLayout(dir: string, images: LayoutImage[]): WrittenImage[] {
  fs.mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  const written = images.map(imageBlobs);
  for (const w of written) {
    for (const b of [w.manifest, w.config, ...w.layers])
      fs.writeFileSync(join(dir, 'blobs', 'sha256', b.digest.slice(7)), b.bytes);
  }
  fs.writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const manifests = written.map((w, i) => ({
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    digest: w.manifest.digest,
    size: w.manifest.size,
    annotations: { 'org.opencontainers.image.ref.name': images[i]!.tag },
  }));
  fs.writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }),
  );
  return written;
}

/** One member of an archive: a name and its bytes (or a directory). */
export interface ArchiveMember {
  name: string;
  bytes?: Buffer;
  type?: 'file' | 'directory' | 'symlink';
  linkname?: string;
}

/** Packs members into a tar archive (as an oci-archive or docker-archive would be). */
export async function packArchive(members: ArchiveMember[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    p.on('data', (c: unknown) => {
      chunks.push(c as Buffer);
    });
    p.on('end', () => resolve());
    p.on('error', reject);
  });
  for (const m of members) {
    await new Promise<void>((resolve, reject) => {
      const header = {
        name: m.name,
        type: m.type ?? 'file',
        mode: m.type === 'directory' ? 0o755 : 0o644,
        mtime: new Date(0),
        ...(m.linkname ? { linkname: m.linkname } : {}),
      };
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (m.type === 'file' || m.type === undefined) p.entry(header, m.bytes ?? Buffer.alloc(0), cb);
      else p.entry(header, cb);
    });
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** Reads every regular-file member of a tar archive into memory (archives in tests are tiny). */
export async function unpackArchive(bytes: Buffer): Promise<ArchiveMember[]> {
  const { extract } = await import('tar-stream');
  const ex = extract();
  const out: ArchiveMember[] = [];
  const done = (async () => {
    for await (const entry of ex) {
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      const t = entry.header.type;
      out.push({
        name: entry.header.name,
        bytes: Buffer.concat(chunks),
        type: t === 'directory' ? 'directory' : t === 'symlink' ? 'symlink' : 'file',
        ...(entry.header.linkname ? { linkname: entry.header.linkname } : {}),
      });
    }
  })();
  ex.end(bytes);
  await done;
  return out;
}
