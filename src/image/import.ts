/**
 * Importing images: an OCI layout folder, an oci-archive tar or a docker-archive tar (the legacy
 * `docker save` form and the Docker 25+ form), detected from their contents. Each image's layers
 * are indexed as part of the import, so a bad layer (truncated tar, gzip garbage, wrong diffID)
 * fails the import. On any failure the store is left exactly as it was: blobs and layer state
 * the import added are removed and no tag is written.
 */
import nodeFs from 'node:fs';
import type { Digest } from '../digest/digest.js';
import { ErrorCodes, LayerkitError } from '../errors.js';
import { MediaTypes } from '../oci/media-types.js';
import { canonicalJsonBytes } from '../oci/canonical-json.js';
import { familiarReference, parseReference } from '../oci/reference.js';
import type { Descriptor, ImageConfig, ImageIndex, Manifest, Platform } from '../oci/types.js';
import type { Lease, Store } from '../store/store.js';
import { REF_NAME_ANNOTATION } from '../store/refs.js';
import { checkLayerDiffId, indexImageLayers } from '../layer/layer-store.js';
import { decompressStream, sniffCompression, SNIFF_BYTES } from '../tar/compression.js';
import { loadFromBlobs, type Image } from './image.js';
import { UNTAGGED_ROOT } from './images.js';
import { checkDescriptor } from '../oci/descriptor-check.js';
import { hostPlatform, selectManifest } from './platform.js';
import { stageArchiveFile } from './staged-archive-file.js';
import { rollbackWrites } from './rollback.js';
import { stageDirectory, type StagedSource } from './staged-source.js';
import { stageTar } from './staged-tar-stream.js';

/** Options for {@link importImage}. */
export interface ImportImageOptions {
  store: Store;
  /** A layout folder or a tar file (oci-archive or docker-archive); or a stream of a tar. */
  source: string | NodeJS.ReadableStream;
  /** Names to give the image (only when the source holds one image). Replace the names inside. */
  tags?: string[] | undefined;
  /** Platform to pick from an index (default: the host's). */
  platform?: Platform | undefined;
  signal?: AbortSignal | undefined;
  /** Called with the number of archive bytes read so far. */
  onProgress?: ((bytesRead: number, totalBytes: number | undefined) => void) | undefined;
}

/** One imported image. */
export interface ImportedImage {
  image: Image;
  /** The names it was tagged with (empty for an untagged image, which is kept as a root). */
  names: string[];
}

/** What the source was. */
export type ArchiveFormat = 'oci-layout' | 'oci-archive' | 'docker-archive';

/** The result of {@link importImage}. */
export interface ImportResult {
  format: ArchiveFormat;
  images: ImportedImage[];
}

/** Imports every image of a layout folder or archive into the store. */
export async function importImage(options: ImportImageOptions): Promise<ImportResult> {
  const { store, source, signal, onProgress } = options;
  // What this import created: on failure (and, for blobs no image uses, on success) it goes again,
  // after the lease has ended and only if nothing else uses it by then (see rollback.ts).
  const added = new Set<Digest>();
  const indexed = new Set<Digest>();
  const unused = { blobs: new Set<Digest>(), diffIds: new Set<Digest>() };
  let result: ImportResult;
  try {
    result = await store.withLease(async (lease) => {
      let staged: StagedSource;
      let fromDirectory = false;
      if (typeof source === 'string') {
        const st = statOrThrow(source);
        fromDirectory = st.isDirectory();
        if (fromDirectory) {
          staged = stageDirectory({ store, dir: source, lease, added, indexed, ...(signal ? { signal } : {}) });
        } else {
          let read = 0;
          const onBytes = (n: number): void => onProgress?.((read += n), st.size);
          if (sniffCompression(readHead(source)) === 'none') {
            // A tar on disk is read by seeking: headers first, then only the blobs the images need.
            staged = await stageArchiveFile({ store, path: source, lease, signal, onBytes, added, indexed });
          } else {
            // `docker save | gzip` and friends: decompressed as a stream (a compressed tar cannot seek).
            const bytes = nodeFs.createReadStream(source, { highWaterMark: 1 << 20 });
            staged = await stageTar({
              store,
              source: decompressArchive(counted(bytes, onBytes), source, signal),
              where: source,
              lease,
              signal,
              added,
              indexed,
            });
          }
        }
      } else {
        // A stream may be compressed too (`docker save IMG | gzip | layerkit import -`): sniffed, as a file is.
        let read = 0;
        const bytes = source as AsyncIterable<Uint8Array>;
        staged = await stageTar({
          store,
          source: decompressArchive(
            counted(bytes, (n) => onProgress?.((read += n), undefined)),
            'stdin',
            signal,
          ),
          where: 'stdin',
          lease,
          signal,
          added,
          indexed,
        });
      }
      const addedStates: Digest[] = [];
      try {
        const result = await interpret(staged, options, { lease, fromDirectory }, addedStates);
        // Drop blobs the archive carried but no imported image uses (other platforms, attestations).
        const used = new Set<string>();
        for (const { image } of result.images) {
          used.add(image.descriptor.digest);
          used.add(image.manifest.config.digest);
          for (const l of image.layers) used.add(l.digest);
        }
        for (const d of staged.added) if (!used.has(d)) unused.blobs.add(d);
        // Tars indexed while staging that no imported image uses as a layer lose their state too.
        const layers = new Set<string>(result.images.flatMap(({ image }) => image.diffIds));
        for (const d of staged.indexed) if (!layers.has(d)) unused.diffIds.add(d);
        for (const { image, names } of result.images) {
          if (names.length === 0)
            store.setRoot(UNTAGGED_ROOT, image.descriptor.digest, { digests: [image.descriptor.digest] });
          for (const name of names) await store.tag(name, image.descriptor);
        }
        return result;
      } catch (err) {
        for (const d of addedStates) indexed.add(d);
        throw err;
      }
    });
  } catch (err) {
    await rollbackWrites({ store, blobs: added, diffIds: indexed });
    throw err;
  }
  await rollbackWrites({ store, blobs: unused.blobs, diffIds: unused.diffIds });
  return result;
}

/** The first bytes of a file, to tell a compressed archive from a plain tar. */
function readHead(path: string): Buffer {
  const head = Buffer.alloc(SNIFF_BYTES);
  const fd = nodeFs.openSync(path, 'r');
  try {
    return head.subarray(0, nodeFs.readSync(fd, head, 0, SNIFF_BYTES, 0));
  } finally {
    nodeFs.closeSync(fd);
  }
}

/** Passes chunks through, telling `onBytes` their sizes (progress counts the bytes read, compressed or not). */
async function* counted(bytes: AsyncIterable<Uint8Array>, onBytes: (n: number) => void): AsyncGenerator<Uint8Array> {
  for await (const chunk of bytes) {
    onBytes(chunk.length);
    yield chunk;
  }
}

/** Decompresses an archive stream; a corrupt one is a damaged archive, named by its path. */
async function* decompressArchive(
  bytes: AsyncIterable<Uint8Array>,
  where: string,
  signal: AbortSignal | undefined,
): AsyncGenerator<Buffer> {
  try {
    yield* decompressStream(bytes, signal ? { signal } : {});
  } catch (err) {
    if (err instanceof LayerkitError && err.code === ErrorCodes.ERR_LAYER_FORMAT) {
      throw new LayerkitError(
        ErrorCodes.ERR_ARCHIVE_FORMAT,
        `${where}: ${err.message}`,
        { path: where },
        { cause: err },
      );
    }
    if (err instanceof LayerkitError && err.code === ErrorCodes.ERR_UNSUPPORTED_COMPRESSION) {
      throw new LayerkitError(
        err.code,
        `${where}: the archive is ${String(err.data['compression'])}-compressed; decompress it first (layerkit reads plain and gzip-compressed archives)`,
        { ...err.data, path: where },
        { cause: err },
      );
    }
    throw err;
  }
}

function statOrThrow(path: string): nodeFs.Stats {
  try {
    return nodeFs.statSync(path);
  } catch (err) {
    throw new LayerkitError(ErrorCodes.ERR_NOT_FOUND, `${path} does not exist`, { path }, { cause: err });
  }
}

async function interpret(
  staged: StagedSource,
  options: ImportImageOptions,
  { lease, fromDirectory }: { lease: Lease; fromDirectory: boolean },
  addedStates: Digest[],
): Promise<ImportResult> {
  const { store, platform = hostPlatform(), signal } = options;
  const where = staged.where;
  const layoutFile = staged.file('oci-layout');
  const indexFile = staged.file('index.json');
  const dockerManifest = staged.file('manifest.json');
  let format: ArchiveFormat;
  let found: Array<{ descriptor: Descriptor; names: string[] }>;
  if (layoutFile !== undefined && indexFile !== undefined) {
    const version = parseJson<{ imageLayoutVersion?: string }>(layoutFile, `${where}: oci-layout`).imageLayoutVersion;
    if (version !== '1.0.0') {
      throw new LayerkitError(
        ErrorCodes.ERR_ARCHIVE_FORMAT,
        `${where}: oci-layout has imageLayoutVersion ${JSON.stringify(version)}; only 1.0.0 is supported`,
        { path: where },
      );
    }
    format = fromDirectory ? 'oci-layout' : dockerManifest ? 'docker-archive' : 'oci-archive';
    found = await fromOciIndex(staged, parseJson<ImageIndex>(indexFile, `${where}: index.json`), dockerManifest);
  } else if (dockerManifest !== undefined) {
    format = 'docker-archive';
    found = await fromDockerManifest(staged, dockerManifest, lease);
  } else {
    throw new LayerkitError(
      ErrorCodes.ERR_ARCHIVE_FORMAT,
      `${where} is not an image: it has neither oci-layout + index.json (OCI layout / oci-archive) nor manifest.json (docker-archive)`,
      { path: where },
    );
  }
  if (found.length === 0)
    throw new LayerkitError(ErrorCodes.ERR_ARCHIVE_FORMAT, `${where} holds no images`, { path: where });
  if (options.tags !== undefined && options.tags.length > 0) {
    if (found.length > 1) {
      throw new LayerkitError(
        ErrorCodes.ERR_USAGE,
        `${where} holds ${found.length} images; --tag names one image, so import without it (each keeps its own names)`,
        { path: where },
      );
    }
    found[0]!.names = options.tags.map((t) => familiarReference(t));
  }
  const images: ImportedImage[] = [];
  for (const { descriptor, names } of found) {
    if (format !== 'docker-archive' || layoutFile !== undefined) await ensureGraph(staged, descriptor, platform);
    const image = await loadFromBlobs({ blobs: store.blobs, descriptor, platform, names, where });
    // Record each created layer state as it appears: a later layer failing must undo earlier ones.
    const created = new Set<Digest>();
    const { indexes } = await indexImageLayers({
      store,
      image,
      onCreated: (d) => (addedStates.push(d), created.add(d)),
      ...(signal ? { signal } : {}),
    });
    // A reused index was made from another blob: this one must still hash to the diffID claimed.
    for (const [i, layer] of image.layers.entries()) {
      if (created.has(image.diffIds[i]!) || indexes[i]!.data.dataBlob === layer.digest) continue;
      await checkLayerDiffId({ store, descriptor: layer, diffId: image.diffIds[i]!, ...(signal ? { signal } : {}) });
    }
    images.push({ image: { ...image, names }, names });
  }
  return { format, images };
}

function parseJson<T>(bytes: Buffer, what: string): T {
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch (err) {
    throw new LayerkitError(
      ErrorCodes.ERR_ARCHIVE_FORMAT,
      `${what} is not valid JSON (${(err as Error).message})`,
      { file: what },
      { cause: err },
    );
  }
}

/** Makes sure the blobs an image needs are staged into the store (a layout folder is read on demand). */
async function ensureGraph(staged: StagedSource, descriptor: Descriptor, platform: Platform): Promise<void> {
  const need = async (d: Descriptor): Promise<void> => {
    const info = await staged.blob(`blobs/${d.digest.replace(':', '/')}`);
    if (info === undefined) {
      throw new LayerkitError(
        ErrorCodes.ERR_NOT_FOUND,
        `${staged.where}: blob ${d.digest} (${d.mediaType}) is missing from the archive`,
        { digest: d.digest },
      );
    }
  };
  await need(descriptor);
  const { value } = await readStagedJson(staged, descriptor);
  const where = `${staged.where}: blob ${descriptor.digest}`;
  if (Array.isArray((value as ImageIndex).manifests)) {
    const children = (value as ImageIndex).manifests.map((d, i) =>
      checkDescriptor(d, { where, field: `manifests[${i}]` }),
    );
    await ensureGraph(staged, selectManifest(children, platform, staged.where), platform);
    return;
  }
  const manifest = value as Manifest;
  if (manifest.config !== undefined) await need(checkDescriptor(manifest.config, { where, field: 'config' }));
  if (manifest.layers !== undefined && !Array.isArray(manifest.layers))
    throw new LayerkitError(ErrorCodes.ERR_INVALID_MANIFEST, `${where}: layers must be an array`, {
      path: where,
      field: 'layers',
    });
  for (const [i, layer] of (manifest.layers ?? []).entries())
    await need(checkDescriptor(layer, { where, field: `layers[${i}]` }));
}

async function readStagedJson(staged: StagedSource, d: Descriptor): Promise<{ value: unknown }> {
  const info = await staged.blob(`blobs/${d.digest.replace(':', '/')}`);
  if (!info)
    throw new LayerkitError(ErrorCodes.ERR_NOT_FOUND, `${staged.where}: blob ${d.digest} is missing`, {
      digest: d.digest,
    });
  const bytes = await staged.store.blobs.read(d.digest, { size: d.size });
  try {
    return { value: JSON.parse(bytes.toString('utf8')) as unknown };
  } catch (err) {
    throw new LayerkitError(
      ErrorCodes.ERR_INVALID_MANIFEST,
      `${staged.where}: blob ${d.digest} (${d.mediaType}) is not valid JSON (${(err as Error).message})`,
      { digest: d.digest },
      { cause: err },
    );
  }
}

/** Names for an image from an OCI index descriptor (and Docker 25's manifest.json RepoTags). */
async function fromOciIndex(
  staged: StagedSource,
  index: ImageIndex,
  dockerManifest: Buffer | undefined,
): Promise<Array<{ descriptor: Descriptor; names: string[] }>> {
  if (index.schemaVersion !== 2 || !Array.isArray(index.manifests)) {
    throw new LayerkitError(ErrorCodes.ERR_ARCHIVE_FORMAT, `${staged.where}: index.json is not an OCI image index`, {
      path: staged.where,
    });
  }
  const repoTagsByConfig = new Map<string, string[]>();
  if (dockerManifest) {
    for (const entry of parseJson<Array<{ Config?: string; RepoTags?: string[] | null }>>(
      dockerManifest,
      `${staged.where}: manifest.json`,
    )) {
      const m = /blobs\/sha256\/([a-f0-9]{64})$/.exec(entry.Config ?? '');
      if (m) repoTagsByConfig.set(`sha256:${m[1]}`, entry.RepoTags ?? []);
    }
  }
  const byDigest = new Map<string, { descriptor: Descriptor; names: string[] }>();
  for (const [i, listed] of index.manifests.entries()) {
    const d = checkDescriptor(listed, {
      where: `${staged.where}: index.json`,
      field: `manifests[${i}]`,
      mediaTypeOptional: true,
    });
    const known =
      d.mediaType === undefined ||
      d.mediaType === MediaTypes.ociManifest ||
      d.mediaType === MediaTypes.dockerManifest ||
      d.mediaType === MediaTypes.ociIndex ||
      d.mediaType === MediaTypes.dockerManifestList;
    if (!known) continue; // unknown media types are skipped, as the image-spec asks
    const entry = byDigest.get(d.digest) ?? {
      descriptor: { mediaType: d.mediaType ?? MediaTypes.ociManifest, digest: d.digest, size: d.size },
      names: [],
    };
    const name = nameFromAnnotations(d.annotations);
    if (name !== undefined && !entry.names.includes(name)) entry.names.push(name);
    byDigest.set(d.digest, entry);
  }
  if (repoTagsByConfig.size > 0) {
    for (const entry of byDigest.values()) {
      try {
        const { value } = await readStagedJson(staged, entry.descriptor);
        const tags = repoTagsByConfig.get((value as Manifest).config?.digest ?? '');
        for (const t of tags ?? []) {
          const name = safeFamiliar(t);
          if (name && !entry.names.includes(name)) entry.names.push(name);
        }
      } catch {
        // the index entry will fail with a precise error when it is loaded
      }
    }
  }
  return [...byDigest.values()];
}

function nameFromAnnotations(annotations: Record<string, string> | undefined): string | undefined {
  const full = annotations?.['io.containerd.image.name'];
  if (full) return safeFamiliar(full);
  const ref = annotations?.[REF_NAME_ANNOTATION];
  if (!ref) return undefined;
  return safeFamiliar(ref);
}

function safeFamiliar(name: string): string | undefined {
  try {
    parseReference(name);
    return familiarReference(name);
  } catch {
    return undefined;
  }
}

/** The legacy `docker save` form: manifest.json + `<id>.json` configs + `<id>/layer.tar`s. */
async function fromDockerManifest(
  staged: StagedSource,
  bytes: Buffer,
  lease: Lease,
): Promise<Array<{ descriptor: Descriptor; names: string[] }>> {
  const store = staged.store;
  const entries = parseJson<Array<{ Config?: unknown; RepoTags?: unknown; Layers?: unknown }>>(
    bytes,
    `${staged.where}: manifest.json`,
  );
  if (!Array.isArray(entries))
    throw new LayerkitError(ErrorCodes.ERR_ARCHIVE_FORMAT, `${staged.where}: manifest.json is not an array`, {
      path: staged.where,
    });
  const out: Array<{ descriptor: Descriptor; names: string[] }> = [];
  for (const [i, entry] of entries.entries()) {
    if (typeof entry.Config !== 'string' || !Array.isArray(entry.Layers)) {
      throw new LayerkitError(
        ErrorCodes.ERR_ARCHIVE_FORMAT,
        `${staged.where}: manifest.json entry ${i} needs Config and Layers`,
        { path: staged.where },
      );
    }
    const configBytes = staged.file(entry.Config) ?? (await blobBytes(staged, store, entry.Config));
    const config = parseJson<ImageConfig>(configBytes, `${staged.where}: ${entry.Config}`);
    const diffIds = config.rootfs?.diff_ids ?? [];
    if (diffIds.length !== entry.Layers.length) {
      throw new LayerkitError(
        ErrorCodes.ERR_ARCHIVE_FORMAT,
        `${staged.where}: ${entry.Config} lists ${diffIds.length} diff_ids but manifest.json lists ${entry.Layers.length} layers`,
        { path: staged.where },
      );
    }
    const configInfo = await store.blobs.put(configBytes);
    lease.add(configInfo.digest);
    if (configInfo.created) staged.added.add(configInfo.digest);
    const layers: Descriptor[] = [];
    for (const path of entry.Layers as unknown[]) {
      if (typeof path !== 'string')
        throw new LayerkitError(
          ErrorCodes.ERR_ARCHIVE_FORMAT,
          `${staged.where}: a layer path in manifest.json is not a string`,
          { path: staged.where },
        );
      const info = await staged.blob(path);
      if (info === undefined)
        throw new LayerkitError(
          ErrorCodes.ERR_NOT_FOUND,
          `${staged.where}: layer ${path} named in manifest.json is missing`,
          { path },
        );
      const head = await firstBytes(store, info.digest);
      const compression = sniffCompression(head);
      const mediaType =
        compression === 'gzip'
          ? MediaTypes.ociLayerGzip
          : compression === 'zstd'
            ? MediaTypes.ociLayerZstd
            : MediaTypes.ociLayer;
      layers.push({ mediaType, digest: info.digest, size: info.size });
    }
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: MediaTypes.ociManifest,
      config: { mediaType: MediaTypes.ociConfig, digest: configInfo.digest, size: configInfo.size },
      layers,
    };
    const manifestInfo = await store.blobs.put(canonicalJsonBytes(manifest));
    lease.add(manifestInfo.digest);
    if (manifestInfo.created) staged.added.add(manifestInfo.digest);
    const names = (Array.isArray(entry.RepoTags) ? entry.RepoTags : [])
      .map((t) => (typeof t === 'string' ? safeFamiliar(t) : undefined))
      .filter((n): n is string => n !== undefined);
    out.push({
      descriptor: { mediaType: MediaTypes.ociManifest, digest: manifestInfo.digest, size: manifestInfo.size },
      names,
    });
  }
  return out;
}

async function blobBytes(staged: StagedSource, store: Store, path: string): Promise<Buffer> {
  const info = await staged.blob(path);
  if (!info) throw new LayerkitError(ErrorCodes.ERR_NOT_FOUND, `${staged.where}: ${path} is missing`, { path });
  return store.blobs.read(info.digest);
}

async function firstBytes(store: Store, digest: Digest): Promise<Buffer> {
  const fd = store.fs.openSync(store.blobs.path(digest), 'r');
  try {
    const buf = Buffer.alloc(8);
    const n = store.fs.readSync(fd, buf, 0, 8, 0);
    return buf.subarray(0, n);
  } finally {
    store.fs.closeSync(fd);
  }
}
