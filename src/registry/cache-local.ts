/**
 * The build cache in a folder (BuildKit's `--cache-to type=local,dest=DIR` and
 * `--cache-from type=local,src=DIR`): an OCI image layout holding the same records a cache
 * repository holds (cache-remote.ts), so a CI job can keep its cache between runs, or a page move
 * one between two in-memory stores. `index.json` names the cache index under its tag
 * (`org.opencontainers.image.ref.name`, default `latest` as BuildKit's); the cache index lists one
 * record image per key; every blob is under `blobs/sha256/`.
 *
 * The folder is read and written through a small `fs.promises` subset (Node's own by default; a
 * memfs volume or anything with the same calls), so it works in a browser too. Every byte read is
 * checked against its digest, a digest must look like one before it becomes a path, and a record
 * is only ever looked up by a key the builder computed itself.
 */
import { randomHex } from '#platform';
import type { Digest } from '../digest/digest.js';
import { digestHex } from '../digest/digest.js';
import { ErrorCodes, LayerkitError, throwIfAborted } from '../errors.js';
import { writeImage } from '../image/write-image.js';
import { canonicalJsonBytes } from '../oci/canonical-json.js';
import { MediaTypes } from '../oci/media-types.js';
import type { Descriptor, ImageIndex, Platform } from '../oci/types.js';
import type { Lease, Store } from '../store/store.js';
import {
  CACHE_CONFIG_KEY,
  CACHE_KEY_ANNOTATION,
  CACHE_POSITION_ANNOTATION,
  type CacheRecordSource,
  type RemoteCacheEntry,
  type RemoteLookup,
} from './cache-format.js';
import {
  admitCacheLayer,
  DIGEST,
  mergeCacheEntries,
  parseJsonObject,
  parseRecordConfig,
  parseRecordManifest,
  recordImage,
  recordIndexEntry,
  sha256Of,
} from './cache-record.js';

/** The tag a cache folder's index is named by when none is given (BuildKit's default). */
export const DEFAULT_LOCAL_CACHE_TAG = 'latest';
/** The OCI annotation naming an entry of `index.json`. */
const REF_NAME = 'org.opencontainers.image.ref.name';
/** The largest index, manifest or config read from a cache folder. */
const JSON_LIMIT = 8 << 20;
/** Bytes per read when a layer is streamed out of the folder. */
const CHUNK = 1 << 20;

/** An open file, as Node's `FileHandle` and memfs's have it. */
interface CacheFileHandle {
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  write(buffer: Uint8Array): Promise<{ bytesWritten: number }>;
  close(): Promise<void>;
}

/**
 * The calls a cache folder is read and written with: a subset of Node's `fs.promises` (Node's
 * own, a memfs volume, or a few lines over a Map). With `open`, layers are streamed; without it
 * they are read and written whole.
 */
export interface CacheFs {
  promises: {
    readFile(path: string): Promise<Uint8Array | string>;
    writeFile(path: string, data: Uint8Array): Promise<unknown>;
    mkdir(path: string, options: { recursive: true }): Promise<unknown>;
    rename(from: string, to: string): Promise<unknown>;
    stat(path: string): Promise<{ size: number }>;
    unlink(path: string): Promise<unknown>;
    open?(path: string, flags: string): Promise<CacheFileHandle>;
  };
}

/** A cache folder: where it is, the fs it is in, and the tag of its index. */
export interface CacheFolder {
  /** The folder (absolute on Node, or as the injected fs names it). */
  dir: string;
  fs: CacheFs;
  /** The tag its cache index is named by in `index.json` (default `latest`). */
  tag?: string | undefined;
}

const isMissing = (err: unknown) => (err as { code?: unknown })?.code === 'ENOENT';
const folderOf = (dir: string) => (dir.length > 1 ? dir.replace(/\/+$/, '') : dir);
const blobPath = (dir: string, digest: string) => `${dir}/blobs/sha256/${digestHex(digest as Digest)}`;
const bytesOf = (data: Uint8Array | string) => (typeof data === 'string' ? new TextEncoder().encode(data) : data);

/**
 * Reads a small blob of the folder, checked: a digest-shaped name, at most `limit` bytes, the
 * size and digest the descriptor says.
 */
async function readBlob(folder: CacheFolder, d: Descriptor, what: string): Promise<Uint8Array> {
  if (typeof d.digest !== 'string' || !DIGEST.test(d.digest))
    throw new LayerkitError(ErrorCodes.ERR_INVALID_MANIFEST, `${what} names no sha256 digest`, { path: folder.dir });
  if (!(d.size <= JSON_LIMIT))
    throw new LayerkitError(ErrorCodes.ERR_LIMIT_EXCEEDED, `${what} is larger than ${JSON_LIMIT} bytes`, {
      limit: JSON_LIMIT,
      path: folder.dir,
      blob: d.digest,
    });
  const path = blobPath(folder.dir, d.digest);
  const bytes = bytesOf(await folder.fs.promises.readFile(path));
  const found = sha256Of(bytes);
  if (found !== d.digest || bytes.length !== d.size)
    throw new LayerkitError(
      ErrorCodes.EINTEGRITY,
      `${what}: ${path} holds ${bytes.length} bytes that hash to ${found}, not ${d.size} bytes of ${d.digest}`,
      { path, blob: d.digest, found },
    );
  return bytes;
}

/** The layer blob's bytes, streamed when the fs can `open` (the store checks them as they come). */
async function* blobChunks(folder: CacheFolder, d: Descriptor, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  const path = blobPath(folder.dir, d.digest);
  const { open } = folder.fs.promises;
  if (open === undefined) {
    yield bytesOf(await folder.fs.promises.readFile(path));
    return;
  }
  const handle = await open.call(folder.fs.promises, path, 'r');
  try {
    for (let position = 0; ; ) {
      throwIfAborted(signal);
      const buffer = new Uint8Array(CHUNK);
      const { bytesRead } = await handle.read(buffer, 0, CHUNK, position);
      if (bytesRead === 0) return;
      position += bytesRead;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

/** `index.json`'s manifests, or undefined when the folder has none. */
async function readLayoutIndex(folder: CacheFolder): Promise<Descriptor[] | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = bytesOf(await folder.fs.promises.readFile(`${folder.dir}/index.json`));
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
  if (bytes.length > JSON_LIMIT)
    throw new LayerkitError(ErrorCodes.ERR_LIMIT_EXCEEDED, `${folder.dir}/index.json is larger than ${JSON_LIMIT}`, {
      limit: JSON_LIMIT,
      path: folder.dir,
    });
  const index = parseJsonObject<Partial<ImageIndex>>(bytes, `${folder.dir}/index.json`);
  return Array.isArray(index.manifests) ? index.manifests : [];
}

/** The cache index the folder names under its tag: its record entries by key, or undefined when there is none. */
async function readCacheIndex(folder: CacheFolder, tag: string): Promise<Descriptor[] | undefined> {
  const top = await readLayoutIndex(folder);
  const named = top?.find((d) => d.annotations?.[REF_NAME] === tag);
  if (named === undefined) return undefined;
  const what = `the cache index ${folder.dir} (tag ${tag})`;
  const index = parseJsonObject<Partial<ImageIndex>>(await readBlob(folder, named, what), what);
  if (index.annotations?.[CACHE_CONFIG_KEY] !== 'index' || !Array.isArray(index.manifests))
    throw new LayerkitError(ErrorCodes.ERR_INVALID_MANIFEST, `${what} is not a layerkit cache index`, {
      path: folder.dir,
      blob: named.digest,
    });
  return index.manifests;
}

/**
 * A cache folder a build reads records from. Open with {@link openLocalCacheSource}. A folder
 * with no `index.json` (or none under the tag) is an empty cache, as on the first run of a CI job.
 */
export class LocalCacheSource implements CacheRecordSource {
  /** The folder, as the user gave it. */
  readonly ref: string;
  /** Why the folder could not be read (every lookup is then `invalid` with it). */
  readonly unavailable: string | undefined;
  readonly #folder: CacheFolder;
  readonly #indexed: Map<Digest, Descriptor>;
  readonly #positions = new Map<string, Digest>();
  readonly #signal: AbortSignal | undefined;

  /** @internal Use {@link openLocalCacheSource}. */
  constructor(o: {
    folder: CacheFolder;
    indexed?: Map<Digest, Descriptor>;
    unavailable?: string;
    signal?: AbortSignal | undefined;
  }) {
    this.ref = o.folder.dir;
    this.#folder = o.folder;
    this.#indexed = o.indexed ?? new Map();
    this.unavailable = o.unavailable;
    this.#signal = o.signal;
    for (const [key, d] of this.#indexed) {
      const position = d.annotations?.[CACHE_POSITION_ANNOTATION];
      if (typeof position === 'string' && position !== '') this.#positions.set(position, key);
    }
  }

  /** Looks `key` up in the folder's cache index; reads and checks its record. */
  async lookup(key: Digest): Promise<RemoteLookup> {
    if (this.unavailable !== undefined) return { status: 'invalid', reason: this.unavailable };
    const d = this.#indexed.get(key);
    if (d === undefined) return { status: 'absent' };
    const what = `the cache record ${d.digest} in ${this.ref}`;
    try {
      const manifest = parseRecordManifest(await readBlob(this.#folder, d, what), what);
      const config = await readBlob(this.#folder, manifest.config, `the config of ${what}`);
      return { status: 'hit', entry: parseRecordConfig(manifest, config, key, what), repository: '' };
    } catch (err) {
      if (err instanceof LayerkitError && err.code === ErrorCodes.ERR_ABORTED) throw err;
      return { status: 'invalid', reason: (err as Error).message };
    }
  }

  /** The components the folder recorded for a Dockerfile position (to explain a miss), if any. */
  async componentsAt(position: string): Promise<Record<string, unknown> | undefined> {
    const key = this.#positions.get(position);
    if (key === undefined) return undefined;
    const found = await this.lookup(key);
    return found.status === 'hit' ? found.entry.components : undefined;
  }

  /**
   * Brings a hit's layer blob into the store, verified against its digest and diffID, and indexes it.
   * @returns the blob bytes read from the folder (0 when the store had it).
   * @throws `EINTEGRITY`/`EBADSIZE` naming the folder and blob, `ERR_ABORTED`.
   */
  async fetchLayer(o: { store: Store; lease: Lease; entry: RemoteCacheEntry }): Promise<number> {
    const layer = o.entry.layer;
    try {
      if (!DIGEST.test(layer.digest))
        throw new LayerkitError(ErrorCodes.ERR_INVALID_MANIFEST, 'the record names no sha256 layer digest', {});
      return await admitCacheLayer({
        store: o.store,
        lease: o.lease,
        entry: o.entry,
        signal: this.#signal,
        download: async () => blobChunks(this.#folder, layer, this.#signal),
      });
    } catch (err) {
      if (err instanceof LayerkitError && err.code === ErrorCodes.ERR_ABORTED) throw err;
      const code = err instanceof LayerkitError ? err.code : ErrorCodes.ERR_INVALID_MANIFEST;
      const data = err instanceof LayerkitError ? err.data : {};
      throw new LayerkitError(
        code,
        `${(err as Error).message} (layer ${layer.digest} of the cache record ${o.entry.key} in ${this.ref})`,
        { ...data, path: this.ref, blob: layer.digest },
        { cause: err },
      );
    }
  }

  /** Nothing to close: the folder is read per call. */
  async close(): Promise<void> {}
}

/** Options for {@link openLocalCacheSource}. */
export interface OpenLocalCacheSourceOptions extends CacheFolder {
  signal?: AbortSignal | undefined;
}

/**
 * Opens a cache folder for reading: reads its cache index. A folder that cannot be read is
 * returned `unavailable` (each lookup then says why), as BuildKit goes on without a cache it
 * cannot import; a folder with nothing under the tag is an empty cache.
 */
export async function openLocalCacheSource(options: OpenLocalCacheSourceOptions): Promise<LocalCacheSource> {
  const { signal } = options;
  throwIfAborted(signal);
  const folder: CacheFolder = { dir: folderOf(options.dir), fs: options.fs, tag: options.tag };
  try {
    const manifests = await readCacheIndex(folder, options.tag ?? DEFAULT_LOCAL_CACHE_TAG);
    const indexed = new Map<Digest, Descriptor>();
    for (const d of manifests ?? []) {
      const key = d.annotations?.[CACHE_KEY_ANNOTATION];
      if (typeof key === 'string' && DIGEST.test(key)) indexed.set(key as Digest, d);
    }
    return new LocalCacheSource({ folder, indexed, signal });
  } catch (err) {
    if (err instanceof LayerkitError && err.code === ErrorCodes.ERR_ABORTED) throw err;
    return new LocalCacheSource({
      folder,
      signal,
      unavailable: `the cache ${folder.dir} could not be read: ${(err as Error).message}`,
    });
  }
}

/** Options for {@link exportLocalCache}. */
export interface ExportLocalCacheOptions extends CacheFolder {
  store: Store;
  /** Keeps the record images written into the store alive while they are copied. */
  lease: Lease;
  entries: readonly RemoteCacheEntry[];
  /** The build's platform, for the record configs. */
  platform: Platform;
  signal?: AbortSignal | undefined;
}

/** What {@link exportLocalCache} did. */
export interface ExportLocalCacheResult {
  /** The folder, as given. */
  dir: string;
  /** Records exported. */
  records: number;
  /** Blob bytes written (0 when the folder had every blob already). */
  bytesWritten: number;
  /** The cache index's digest. */
  index: Digest;
}

/**
 * Writes cache records into a folder (made when missing) as an OCI image layout: each record's
 * blobs (a blob already there is not written again), then the cache index, merged with the one
 * already under the tag (a key's newer record wins), then `index.json`, replaced atomically with
 * the other tags' entries kept. Each file appears whole under its name or not at all; two
 * exports into one folder at the same moment keep the last index.json written.
 * @throws the fs's errors (`ENOSPC`, `EACCES`…), `ERR_ABORTED`.
 */
export async function exportLocalCache(options: ExportLocalCacheOptions): Promise<ExportLocalCacheResult> {
  const { store, lease, signal, platform } = options;
  const folder: CacheFolder = { dir: folderOf(options.dir), fs: options.fs };
  const tag = options.tag ?? DEFAULT_LOCAL_CACHE_TAG;
  const fsp = folder.fs.promises;
  await fsp.mkdir(`${folder.dir}/blobs/sha256`, { recursive: true });
  let written = 0;
  /** Writes a file whole under its name or not at all (a temporary name, then a rename). */
  const write = async (path: string, data: Uint8Array | AsyncIterable<Uint8Array>): Promise<number> => {
    const tmp = `${path}.tmp-${randomHex(8)}`;
    try {
      let size: number;
      if (data instanceof Uint8Array) {
        await fsp.writeFile(tmp, data);
        size = data.length;
      } else size = await writeChunks(folder.fs, tmp, data, signal);
      await fsp.rename(tmp, path);
      return size;
    } catch (err) {
      await fsp.unlink(tmp).catch(() => undefined);
      throw err;
    }
  };
  const copy = async (d: Descriptor): Promise<void> => {
    const path = blobPath(folder.dir, d.digest);
    const had = await fsp.stat(path).then(
      (st) => st.size === d.size,
      () => false,
    );
    if (!had) written += await write(path, store.blobs.chunks(d.digest, { size: d.size }));
  };
  if (
    !(await fsp.stat(`${folder.dir}/oci-layout`).then(
      () => true,
      () => false,
    ))
  )
    await write(`${folder.dir}/oci-layout`, new TextEncoder().encode('{"imageLayoutVersion":"1.0.0"}'));

  const unique = [...new Map(options.entries.map((e) => [e.key, e])).values()];
  const entries = new Map<string, Descriptor>();
  for (const entry of unique) {
    throwIfAborted(signal);
    const { config, annotations } = recordImage(entry, platform);
    const image = await writeImage({ store, config, layers: [entry.layer], annotations, lease });
    for (const d of [entry.layer, image.manifest.config, image.descriptor]) await copy(d);
    entries.set(entry.key, recordIndexEntry(entry, image.descriptor));
  }

  const existing = await readCacheIndex(folder, tag).catch((err) => {
    // An index that does not read (damaged, or another tool's) is replaced, as a registry's is.
    if (err instanceof LayerkitError && err.code !== ErrorCodes.ERR_ABORTED) return undefined;
    throw err;
  });
  const merged = mergeCacheEntries({
    existing: existing ?? [],
    entries,
    keyAnnotation: CACHE_KEY_ANNOTATION,
    annotations: { [CACHE_CONFIG_KEY]: 'index' },
    oursWin: true,
  });
  const bytes = canonicalJsonBytes(merged);
  const index: Descriptor = { mediaType: MediaTypes.ociIndex, digest: sha256Of(bytes), size: bytes.length };
  const indexPath = blobPath(folder.dir, index.digest);
  if (
    !(await fsp.stat(indexPath).then(
      (st) => st.size === bytes.length,
      () => false,
    ))
  )
    await write(indexPath, bytes);
  const others = ((await readLayoutIndex(folder).catch(() => undefined)) ?? []).filter(
    (d) => d.annotations?.[REF_NAME] !== tag,
  );
  const top: ImageIndex = {
    schemaVersion: 2,
    mediaType: MediaTypes.ociIndex,
    manifests: [...others, { ...index, annotations: { [REF_NAME]: tag } }],
  };
  await write(`${folder.dir}/index.json`, canonicalJsonBytes(top));
  return { dir: options.dir, records: unique.length, bytesWritten: written, index: index.digest };
}

/** Writes chunks into a new file (streamed through `open` when the fs has it); returns the bytes written. */
async function writeChunks(
  fs: CacheFs,
  path: string,
  chunks: AsyncIterable<Uint8Array>,
  signal: AbortSignal | undefined,
): Promise<number> {
  let total = 0;
  const { open } = fs.promises;
  if (open === undefined) {
    const parts: Uint8Array[] = [];
    for await (const chunk of chunks) {
      throwIfAborted(signal);
      parts.push(chunk);
      total += chunk.length;
    }
    const all = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      all.set(p, at);
      at += p.length;
    }
    await fs.promises.writeFile(path, all);
    return total;
  }
  const handle = await open.call(fs.promises, path, 'w');
  try {
    for await (const chunk of chunks) {
      throwIfAborted(signal);
      for (let at = 0; at < chunk.length; ) {
        const { bytesWritten } = await handle.write(chunk.subarray(at));
        if (!(bytesWritten > 0)) throw new Error(`${path}: the write made no progress`);
        at += bytesWritten;
      }
      total += chunk.length;
    }
  } finally {
    await handle.close();
  }
  return total;
}
