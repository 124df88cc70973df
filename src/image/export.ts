/**
 * Exporting images: an OCI layout folder, an oci-archive, a docker-archive (the Docker 25+
 * shape, which `docker load` and `podman load` accept: an OCI layout with uncompressed layers
 * plus manifest.json and repositories), a rootfs folder or a flattened tar. Archives are
 * written deterministically (sorted members, fixed times and owners) and streamed, never
 * buffered whole.
 */
import nodeFs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { randomHex } from '#platform';
import { digestHex, sha256, type Digest } from '../digest/digest.js';
import { ErrorCodes, LayerkitError, throwIfAborted } from '../errors.js';
import { canonicalJsonBytes } from '../oci/canonical-json.js';
import { MediaTypes } from '../oci/media-types.js';
import { familiarReference, isValidTag, normalizeReference, parseReference } from '../oci/reference.js';
import type { Descriptor, Manifest } from '../oci/types.js';
import { indexImageLayers } from '../layer/layer-store.js';
import { digestPrefix, REF_NAME_ANNOTATION, refMatches } from '../store/refs.js';
import type { Store } from '../store/store.js';
import { readVerified } from '../store/blobs.js';
import { resolveImage, type Image, type ImageLike } from './image.js';
import { flattenImage } from './listing.js';
import { resolveImageRef } from './resolve-image.js';
import { flatTarStream, unpackRootfs, type UnpackReport } from './unpack.js';
import { TarWriter } from '../tar/writer.js';
import { openStore, STATE_DIR } from '../store/store.js';

/** Export formats. */
export const ExportFormats = ['oci', 'oci-archive', 'docker-archive', 'rootfs', 'tar'] as const;
/** One of {@link ExportFormats}. */
export type ExportFormat = (typeof ExportFormats)[number];

/** Options for {@link exportImage}. */
export interface ExportImageOptions {
  store: Store;
  /** The image: a ref name, digest (or unique prefix), descriptor, or a loaded image. */
  image: ImageLike;
  format: ExportFormat;
  /**
   * A path (folder for `oci`/`rootfs`, file for the archives), or a writable stream for archives and
   * `tar`: Node's, or a web `WritableStream` (in a page: collect the chunks into a `Blob`).
   */
  output: ExportOutput;
  /** The name written into the archive (default: the image's first name). */
  name?: string | undefined;
  /** Timestamp for archive members, seconds (default 0). */
  sourceDateEpoch?: number | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ((bytesWritten: number, totalBytes: number) => void) | undefined;
}

/** Where an export goes: a path, Node's writable stream, or a web `WritableStream` of bytes. */
export type ExportOutput = string | NodeJS.WritableStream | WritableStream<Uint8Array>;

/** What was exported. */
export interface ExportResult {
  format: ExportFormat;
  /** The manifest digest as written (docker-archive writes a manifest of uncompressed layers). */
  digest?: Digest;
  unpack?: UnpackReport;
}

interface Member {
  name: string;
  size: number;
  /** A blob in the store, a file (checked against `digest`: a kept layer copy against its diffID), or bytes. */
  source: { digest: Digest } | { path: string; digest: Digest } | { bytes: Buffer };
}

/** Exports an image from the store. */
export async function exportImage(options: ExportImageOptions): Promise<ExportResult> {
  const { store, format, output, signal } = options;
  const image = await resolveImage({ store, image: options.image });
  const name = options.name ?? image.names[0];
  if (format === 'rootfs') {
    if (typeof output !== 'string')
      throw new LayerkitError(ErrorCodes.ERR_USAGE, 'rootfs export needs a folder path', {});
    const flat = await flattenImage({ store, image, signal });
    return { format, unpack: unpackRootfs({ flat, dir: output, signal }) };
  }
  if (format === 'tar') {
    const flat = await flattenImage({ store, image, signal });
    await writeStream(output, flatTarStream({ flat, signal, sourceDateEpoch: options.sourceDateEpoch }));
    return { format };
  }
  if (format === 'oci') {
    if (typeof output !== 'string')
      throw new LayerkitError(
        ErrorCodes.ERR_USAGE,
        'oci export needs a folder path (use oci-archive for a stream)',
        {},
      );
    await exportLayoutDir(store, image, output, name, signal);
    return { format, digest: image.descriptor.digest };
  }
  const images = [{ image, names: name ? [name] : [] }];
  const { members, digests } =
    format === 'oci-archive' ? ociMembers(images) : await dockerMembers(store, images, signal);
  const total = members.reduce((n, m) => n + m.size, 0);
  await writeStream(
    output,
    archiveStream(store, members, options.sourceDateEpoch ?? 0, signal, (n) => options.onProgress?.(n, total)),
  );
  return { format, digest: digests[0]! };
}

/** Archive formats {@link saveImages} writes. */
export const SaveFormats = ['docker-archive', 'oci-archive'] as const;
/** One of {@link SaveFormats}. */
export type SaveFormat = (typeof SaveFormats)[number];

/** Options for {@link saveImages}. */
export interface SaveImagesOptions {
  store: Store;
  /**
   * The images, as `docker save` takes them: `name:tag` saves that name; a repository without a tag
   * (`app`) saves every tag of it in the store; a digest or ID prefix saves the image without names.
   */
  images: string[];
  /** Default `docker-archive` (what `docker load` and `podman load` read). */
  format?: SaveFormat | undefined;
  /** A file path (written to a temp file and renamed into place) or a writable stream (Node's or a web one). */
  output: ExportOutput;
  /** Timestamp for archive members, seconds (default 0). */
  sourceDateEpoch?: number | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ((bytesWritten: number, totalBytes: number) => void) | undefined;
}

/** What {@link saveImages} wrote. */
export interface SaveResult {
  format: SaveFormat;
  /** One entry per image, in the order first asked for, with the names written for it. */
  images: Array<{ digest: Digest; names: string[] }>;
}

/**
 * Writes several images into one archive, as `docker save IMG...` does: each image once, its blobs
 * once, every name it was asked by. Names are resolved before a byte is written, so an unknown
 * image fails without leaving a file.
 * @example await saveImages({ store, images: ['app:1', 'base:2'], output: 'images.tar' });
 */
export async function saveImages(options: SaveImagesOptions): Promise<SaveResult> {
  const { store, signal } = options;
  const format = options.format ?? 'docker-archive';
  if (!SaveFormats.includes(format))
    throw new LayerkitError(
      ErrorCodes.ERR_USAGE,
      `cannot save as ${JSON.stringify(format)}: use one of ${SaveFormats.join(', ')}`,
      { format },
    );
  if (options.images.length === 0) throw new LayerkitError(ErrorCodes.ERR_USAGE, 'save needs at least one image', {});
  const byDigest = new Map<string, ArchivedImage>();
  for (const query of options.images) {
    throwIfAborted(signal);
    for (const { digest, name } of savedNames(store, query)) {
      let entry = byDigest.get(digest);
      if (!entry) {
        entry = { image: await resolveImage({ store, image: query === name ? name : digest }), names: [] };
        byDigest.set(digest, entry);
      }
      if (name !== undefined && !entry.names.includes(name)) entry.names.push(name);
    }
  }
  const images = [...byDigest.values()];
  const { members, digests } =
    format === 'oci-archive' ? ociMembers(images) : await dockerMembers(store, images, signal);
  const total = members.reduce((n, m) => n + m.size, 0);
  await writeStream(
    options.output,
    archiveStream(store, members, options.sourceDateEpoch ?? 0, signal, (n) => options.onProgress?.(n, total)),
  );
  return { format, images: images.map((e, i) => ({ digest: digests[i]!, names: e.names })) };
}

/** The stored images (by index digest) and names a `docker save` argument stands for. */
function savedNames(store: Store, query: string): Array<{ digest: string; name: string | undefined }> {
  let ref: ReturnType<typeof parseReference> | undefined;
  try {
    ref = parseReference(query);
  } catch {
    ref = undefined;
  }
  if (ref && ref.tag === undefined && ref.digest === undefined && digestPrefix(query) === undefined) {
    // A repository without a tag: every tag of it, as `docker save busybox` does.
    const repo = `${ref.domain}/${ref.path}`;
    const tagged = store.listRefs().filter((r) => {
      try {
        const p = parseReference(r.name);
        return p.tag !== undefined && `${p.domain}/${p.path}` === repo;
      } catch {
        return false;
      }
    });
    if (tagged.length > 0) return tagged.map((r) => ({ digest: r.descriptor.digest, name: r.name }));
  }
  const resolved = resolveImageRef({ store, query });
  const byName = store.listRefs().some((r) => refMatches(r.name, query));
  return [{ digest: resolved.descriptor.digest, name: byName ? query : undefined }];
}

/** One image of an archive and the names it is written under (none: an untagged image). */
interface ArchivedImage {
  image: Image;
  names: string[];
}

/** A ref name for an exported layout: a bare tag or a full reference, written as given. */
function checkedName(name: string): string {
  if (!isValidTag(name)) parseReference(name);
  return name;
}

function blobMember(d: { digest: Digest; size: number }): Member {
  return { name: `blobs/sha256/${digestHex(d.digest)}`, size: d.size, source: { digest: d.digest } };
}

function ociMembers(images: ArchivedImage[]): { members: Member[]; digests: Digest[] } {
  const blobs = new Map<string, Member>();
  const manifests: Descriptor[] = [];
  for (const { image, names } of images) {
    for (const d of [image.descriptor, image.manifest.config, ...image.layers]) blobs.set(d.digest, blobMember(d));
    const descriptor: Descriptor = {
      mediaType: image.descriptor.mediaType,
      digest: image.descriptor.digest,
      size: image.descriptor.size,
    };
    // The name as given (`built`, `app:1`, `localhost/app:1`), so `oci:DIR:<name>` finds it in skopeo and umoci.
    if (names.length === 0) manifests.push(descriptor);
    for (const name of names)
      manifests.push({ ...descriptor, annotations: { [REF_NAME_ANNOTATION]: checkedName(name) } });
  }
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests }));
  const members = [
    ...blobs.values(),
    { name: 'index.json', size: index.length, source: { bytes: index } },
    layoutMember(),
  ];
  return { members: sortMembers(members), digests: images.map((i) => i.image.descriptor.digest) };
}

function layoutMember(): Member {
  const bytes = Buffer.from('{"imageLayoutVersion":"1.0.0"}');
  return { name: 'oci-layout', size: bytes.length, source: { bytes } };
}

function sortMembers(members: Member[]): Member[] {
  return members.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

async function dockerMembers(
  store: Store,
  images: ArchivedImage[],
  signal: AbortSignal | undefined,
): Promise<{ members: Member[]; digests: Digest[] }> {
  const blobs = new Map<string, Member>();
  const dockerManifest: Array<{ Config: string; RepoTags: string[]; Layers: string[] }> = [];
  const indexEntries: Descriptor[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  const digests: Digest[] = [];
  for (const { image, names } of images) {
    const { indexes } = await indexImageLayers({ store, image, signal });
    const layers: Descriptor[] = [];
    indexes.forEach((index, i) => {
      const diffId = image.diffIds[i]!;
      const size = index.data.tarSize;
      layers.push({ mediaType: MediaTypes.ociLayer, digest: diffId, size });
      if (!blobs.has(diffId))
        blobs.set(diffId, {
          name: `blobs/sha256/${digestHex(diffId)}`,
          size,
          source: { path: index.dataPath, digest: diffId },
        });
    });
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: MediaTypes.ociManifest,
      config: {
        mediaType: MediaTypes.ociConfig,
        digest: image.manifest.config.digest,
        size: image.manifest.config.size,
      },
      layers,
    };
    const manifestBytes = canonicalJsonBytes(manifest);
    const manifestDigest = sha256(manifestBytes);
    digests.push(manifestDigest);
    blobs.set(image.manifest.config.digest, blobMember(image.manifest.config));
    blobs.set(manifestDigest, {
      name: `blobs/sha256/${digestHex(manifestDigest)}`,
      size: manifestBytes.length,
      source: { bytes: manifestBytes },
    });
    const descriptor: Descriptor = {
      mediaType: MediaTypes.ociManifest,
      digest: manifestDigest,
      size: manifestBytes.length,
    };
    if (names.length === 0) indexEntries.push(descriptor);
    for (const name of names) {
      const ref = parseReference(name);
      const familiar = familiarReference(name);
      const tag = ref.tag ?? 'latest';
      indexEntries.push({
        ...descriptor,
        annotations: { 'io.containerd.image.name': normalizeReference(name), [REF_NAME_ANNOTATION]: tag },
      });
      const repo = familiar.slice(0, familiar.length - tag.length - 1);
      repositories[repo] = {
        ...repositories[repo],
        [tag]: digestHex(image.diffIds[image.diffIds.length - 1] ?? image.manifest.config.digest),
      };
    }
    dockerManifest.push({
      Config: `blobs/sha256/${digestHex(image.manifest.config.digest)}`,
      RepoTags: names.map((n) => familiarReference(n)),
      Layers: layers.map((l) => `blobs/sha256/${digestHex(l.digest)}`),
    });
  }
  const json = (v: unknown) => Buffer.from(JSON.stringify(v));
  const manifestJson = json(dockerManifest);
  const index = json({ schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: indexEntries });
  const repos = json(repositories);
  const members = [
    ...blobs.values(),
    { name: 'index.json', size: index.length, source: { bytes: index } },
    { name: 'manifest.json', size: manifestJson.length, source: { bytes: manifestJson } },
    layoutMember(),
    { name: 'repositories', size: repos.length, source: { bytes: repos } },
  ];
  return { members: sortMembers(members), digests };
}

function archiveStream(
  store: Store,
  members: Member[],
  mtime: number,
  signal: AbortSignal | undefined,
  onBytes: (n: number) => void,
): AsyncIterable<Buffer> {
  // The project's own deterministic writer: an async iterable on Node and in a page alike.
  const tar = new TarWriter();
  const owner = { mode: 0o644, mtime, uid: 0, gid: 0 };
  const dirs = new Set<string>();
  let written = 0;
  const counted = async function* (source: AsyncIterable<Buffer>) {
    for await (const chunk of source) {
      written += chunk.length;
      onBytes(written);
      yield chunk;
    }
  };
  void (async () => {
    try {
      for (const m of members) {
        throwIfAborted(signal);
        const parts = m.name.split('/');
        for (let i = 1; i < parts.length; i++) {
          const dir = parts.slice(0, i).join('/');
          if (!dirs.has(dir)) {
            dirs.add(dir);
            await tar.add({ ...owner, path: dir, type: 'directory', mode: 0o755 });
          }
        }
        const header = { ...owner, path: m.name, type: 'file' as const, size: m.size };
        if ('bytes' in m.source) await tar.add(header, m.source.bytes);
        else
          await tar.add(
            header,
            counted(
              'path' in m.source
                ? verifiedFile(store, m.source.path, m.source.digest, m.size)
                : store.blobs.chunks(m.source.digest, { size: m.size }),
            ),
          );
      }
      await tar.finish();
    } catch (err) {
      tar.destroy(err);
    }
  })();
  return tar;
}

/** A kept file (an uncompressed layer copy) streamed and checked against the digest it must have. */
function verifiedFile(store: Store, path: string, digest: Digest, size: number): AsyncIterable<Buffer> {
  return readVerified(store.fs, path, { digest, size }, { where: path });
}

async function writeStream(
  output: ExportOutput,
  source: AsyncIterable<Uint8Array> | NodeJS.ReadableStream,
): Promise<void> {
  if (isWebWritable(output)) {
    const writer = output.getWriter();
    try {
      for await (const chunk of source as AsyncIterable<Uint8Array>) {
        await writer.ready;
        await writer.write(chunk);
      }
      await writer.close();
    } catch (err) {
      await writer.abort(err).catch(() => undefined);
      throw err;
    } finally {
      writer.releaseLock();
    }
    return;
  }
  if (typeof output !== 'string') {
    await pipeline(source, output);
    return;
  }
  const tmp = `${output}.tmp-${randomHex(4)}`;
  try {
    await pipeline(source, nodeFs.createWriteStream(tmp));
    nodeFs.renameSync(tmp, output);
  } catch (err) {
    nodeFs.rmSync(tmp, { force: true });
    throw err;
  }
}

function isWebWritable(output: ExportOutput): output is WritableStream<Uint8Array> {
  return typeof output === 'object' && typeof (output as Partial<WritableStream>).getWriter === 'function';
}

async function exportLayoutDir(
  store: Store,
  image: Image,
  dir: string,
  name: string | undefined,
  signal: AbortSignal | undefined,
): Promise<void> {
  const hadState = nodeFs.existsSync(`${dir}/${STATE_DIR}`);
  let target;
  try {
    target = await openStore({ root: dir });
  } catch (err) {
    throw new LayerkitError(
      ErrorCodes.ERR_USAGE,
      `cannot export to ${dir}: ${(err as Error).message}`,
      { path: dir },
      { cause: err },
    );
  }
  await target.withLease(async (lease) => {
    for (const d of [...image.layers, image.manifest.config, image.descriptor]) {
      throwIfAborted(signal);
      if (target.blobs.has(d.digest)) continue;
      const info = await target.blobs.put(store.blobs.chunks(d.digest, { size: d.size }), {
        expected: { digest: d.digest, size: d.size },
      });
      lease.add(info.digest);
    }
    const desc: Descriptor = {
      mediaType: image.descriptor.mediaType,
      digest: image.descriptor.digest,
      size: image.descriptor.size,
    };
    const written = name ? checkedName(name) : undefined;
    const entry: Descriptor = written ? { ...desc, annotations: { [REF_NAME_ANNOTATION]: written } } : desc;
    await target.updateIndex((index) => ({
      index: {
        ...index,
        manifests: [
          ...index.manifests.filter((m) =>
            written
              ? m.annotations?.[REF_NAME_ANNOTATION] !== written
              : m.digest !== desc.digest || m.annotations !== undefined,
          ),
          entry,
        ],
      },
      result: undefined,
    }));
  });
  // An exported layout is a plain OCI layout: drop the private folder opening it as a store made.
  if (!hadState) nodeFs.rmSync(`${dir}/${STATE_DIR}`, { recursive: true, force: true });
}
