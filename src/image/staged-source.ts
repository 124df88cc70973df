/**
 * What an import reads from: the staged view of a layout folder (here, read on demand), an
 * archive file (`staged-archive-file.ts`, read by seeking) or an archive stream
 * (`staged-tar-stream.ts`, read in one pass). Each answers the same questions: "what is in file
 * X" and "which stored blob is at path Y". Also here: what all three share (storing a blob while
 * indexing it speculatively as a layer, member names, chunked reads, errors about archives).
 *
 * Names inside archives are untrusted, but nothing here writes a file by name: blobs land in the
 * store under the digest computed from their bytes, so a hostile name cannot escape anything.
 */
import { posix } from 'node:path';
import nodeFs from 'node:fs';
import { digestHex, isDigest, type Digest } from '../digest/digest.js';
import { integrityError, type Expected } from '../digest/verify.js';
import { ErrorCodes, LayerkitError, throwIfAborted } from '../errors.js';
import { LayerIndexer } from '../layer/layer-indexer.js';
import { forgetLayerIndex, rememberLayerIndex } from '../layer/layer-store.js';
import type { BlobSource, PutResult } from '../store/blobs.js';
import { LAYERS_STATE } from '../layer/layer-state.js';
import type { Lease, Store } from '../store/store.js';
import { sniffCompression } from '../tar/compression.js';

/** Metadata files are at most this large (containerd uses the same limit). */
export const METADATA_LIMIT = 20 << 20;

/** The staged view of an archive or layout folder. */
export interface StagedSource {
  /** Where it came from, for messages. */
  readonly where: string;
  /** The store blobs are staged into. */
  readonly store: Store;
  /** A small file's bytes, or undefined when absent. */
  file(path: string): Buffer | undefined;
  /** The stored blob at an archive path (following symlinks inside the archive), or undefined. */
  blob(path: string): Promise<{ digest: Digest; size: number } | undefined>;
  /** Digests this import added to the store (they did not exist before). */
  readonly added: Set<Digest>;
  /**
   * diffIDs whose layer state (index) this import created while staging: uncompressed layer
   * blobs are indexed in the same pass that stores them, so they are read once.
   */
  readonly indexed: Set<Digest>;
}

/**
 * Stores a blob and, when its bytes turn out to be an uncompressed tar, indexes it as a layer in
 * the same pass (its diffID is its digest). Any blob may be a layer until the manifest says so,
 * so the indexing is speculative: a blob that is not a tar (JSON, gzip) just stops being indexed,
 * and a layer whose tar is bad is left to the import's own indexing pass to report.
 */
export async function putBlob(
  store: Store,
  source: BlobSource,
  options: { expected?: Expected; signal?: AbortSignal | undefined },
  indexed: Set<Digest>,
): Promise<PutResult> {
  let indexer: LayerIndexer | undefined;
  let trying = true;
  const onChunk = (chunk: Buffer): void => {
    if (!trying) return;
    try {
      if (indexer === undefined) {
        if (sniffCompression(chunk) !== 'none' || chunk[0] === 0x7b /* '{': JSON */) {
          trying = false;
          return;
        }
        indexer = new LayerIndexer({ store, copy: false });
      }
      indexer.write(chunk);
    } catch {
      trying = false;
      indexer?.abort();
      indexer = undefined;
    }
  };
  let info: PutResult;
  try {
    // The digest goes to the worker only while indexing keeps this thread busy hashing files; a
    // blob that is one big file, or not a tar at all, is hashed here (one copy of it fewer).
    const offloadDigest = (): boolean => trying && indexer !== undefined && indexer.hashedBytes * 2 >= indexer.size;
    info = await store.blobs.put(source, { ...options, onChunk, offloadDigest });
  } catch (err) {
    indexer?.abort();
    throw err;
  }
  if (trying && indexer !== undefined) {
    try {
      const { index, created } = indexer.finish({ diffId: info.digest, dataBlob: info.digest });
      if (created) indexed.add(info.digest);
      rememberLayerIndex(store, index);
    } catch {
      // not a whole tar: if it is a layer, indexing it later reports what is wrong
    }
  }
  return info;
}

/** What an import has staged so far: the store, its lease, and what it added and indexed. */
export interface StagingState {
  store: Store;
  lease: Lease;
  added: Set<Digest>;
  indexed: Set<Digest>;
}

/**
 * Stores one member's bytes as a blob and takes it into the import: the digest its name
 * (`blobs/<alg>/<hex>`) claims is checked — a mismatch leaves nothing behind and fails with
 * `EINTEGRITY` naming `label` (default `where: member`) — then the blob is leased and, when new,
 * recorded as added. A member shorter than `size` is a truncated archive.
 */
export async function stageMember(
  state: StagingState,
  source: BlobSource,
  options: {
    member: string;
    where: string;
    label?: string;
    size?: number | undefined;
    signal?: AbortSignal | undefined;
  },
): Promise<{ digest: Digest; size: number }> {
  const { store, lease, added, indexed } = state;
  const { member, where, label = `${where}: ${member}`, size, signal } = options;
  const claimed = blobDigestForPath(member);
  const info = await putBlob(
    store,
    source,
    { ...(size !== undefined ? { expected: { size } } : {}), signal },
    indexed,
  ).catch((err: unknown) => {
    throw wrap(err, where, member);
  });
  if (claimed !== undefined && info.digest !== claimed) {
    // Left for the import's rollback: another import may be reusing the blob by now.
    if (info.created) added.add(info.digest);
    throw integrityError(claimed, info.digest, label);
  }
  lease.add(info.digest);
  if (info.created) added.add(info.digest);
  return { digest: info.digest, size: info.size };
}

/** Normalises an archive member name; names that climb out of the archive are refused. */
export function archivePath(name: string, where: string): string {
  // Normalise relative to the archive root *without* a leading '/': with one, normalize() would
  // silently clamp '../x' to 'x' and the climb would go unnoticed.
  const p = posix.normalize(name.replace(/^\/+/, '') || '.').replace(/\/$/, '');
  if (p === '..' || p.startsWith('../')) {
    throw new LayerkitError(
      ErrorCodes.ERR_UNSAFE_PATH,
      `${where}: member ${JSON.stringify(name)} climbs out of the archive`,
      { path: name },
    );
  }
  return p === '.' ? '' : p;
}

/**
 * The member an archive path ends at, following the archive's own links (symlink targets made
 * relative to the archive root, hardlink targets as named; at most 16 hops).
 */
export function resolveMember(links: ReadonlyMap<string, string>, name: string, where: string): string {
  let p = archivePath(name, where);
  for (let hops = 0; links.has(p) && hops < 16; hops++) p = archivePath(links.get(p)!, where);
  return p;
}

/** The digest an archive path names (`blobs/<alg>/<hex>`), if it names one. */
export function blobDigestForPath(path: string): Digest | undefined {
  const m = /^blobs\/([a-z0-9]+)\/([a-f0-9]+)$/.exec(path);
  if (!m) return undefined;
  const d = `${m[1]}:${m[2]}`;
  return isDigest(d) ? (d as Digest) : undefined;
}

/** Archive members kept in memory when small: the JSON and text files that describe the images. */
export function isMetadataName(path: string): boolean {
  return (
    path === 'oci-layout' ||
    path === 'index.json' ||
    path === 'manifest.json' ||
    path === 'repositories' ||
    path.endsWith('.json') ||
    path.endsWith('/VERSION') ||
    path.endsWith('/json')
  );
}

/**
 * A file's bytes (or the bytes from `start` up to `end`) in 1 MiB chunks read into two buffers
 * used in turn (the next read runs while the consumer handles the current chunk), so a big blob
 * costs no allocation per chunk. A chunk is valid until the consumer asks for the next one, which
 * is how `BlobStore.put` consumes.
 */
export async function* readChunks(
  path: string,
  range: { start?: number; end?: number; onBytes?: ((n: number) => void) | undefined } = {},
): AsyncGenerator<Buffer> {
  const size = 1 << 20;
  const { start = 0, end = Infinity, onBytes } = range;
  const handle = await nodeFs.promises.open(path, 'r');
  const buffers = [Buffer.allocUnsafeSlow(size), Buffer.allocUnsafeSlow(size)];
  let which = 0;
  let position = start;
  const read = (buffer: Buffer) => handle.read(buffer, 0, Math.min(size, end - position), position);
  let next = read(buffers[0]!);
  try {
    for (;;) {
      const { bytesRead } = await next;
      if (bytesRead === 0) return;
      onBytes?.(bytesRead);
      const current = buffers[which]!;
      position += bytesRead;
      which ^= 1;
      next = position < end ? read(buffers[which]!) : Promise.resolve({ bytesRead: 0, buffer: buffers[which]! });
      yield current.subarray(0, bytesRead);
    }
  } finally {
    await next.catch(() => undefined);
    await handle.close();
  }
}

/** Removes layer states created while staging (all of them, or one diffID's). */
export function forgetIndexed(store: Store, indexed: Set<Digest>, only?: Digest): void {
  for (const d of only === undefined ? [...indexed] : indexed.has(only) ? [only] : []) {
    store.removeState(`${LAYERS_STATE}/${digestHex(d)}`);
    forgetLayerIndex(store, d);
    indexed.delete(d);
  }
}

/**
 * A tar reader error, said about the archive: input that never gave an entry is "not a tar
 * archive", later damage is "damaged"; unsafe names and limits keep their codes.
 */
export function archiveError(err: unknown, where: string, entries: number): unknown {
  if (!(err instanceof LayerkitError)) {
    if (entries > 0)
      return new LayerkitError(
        ErrorCodes.ERR_ARCHIVE_FORMAT,
        `${where}: the archive is damaged (${(err as Error).message})`,
        { path: where },
        { cause: err },
      );
    return new LayerkitError(
      ErrorCodes.ERR_ARCHIVE_FORMAT,
      `${where} is not a tar archive (${(err as Error).message}); expected an OCI layout folder, an oci-archive or a docker-archive`,
      { path: where },
      { cause: err },
    );
  }
  if (err.code !== ErrorCodes.ERR_LAYER_FORMAT) {
    if (
      (err.code === ErrorCodes.ERR_UNSAFE_PATH || err.code === ErrorCodes.ERR_LIMIT_EXCEEDED) &&
      !err.message.startsWith(`${where}:`)
    ) {
      return new LayerkitError(err.code, `${where}: ${err.message}`, { ...err.data, path: where }, { cause: err });
    }
    return err;
  }
  if (entries === 0) {
    return new LayerkitError(
      ErrorCodes.ERR_ARCHIVE_FORMAT,
      `${where} is not a tar archive (${err.message}); expected an OCI layout folder, an oci-archive or a docker-archive`,
      { path: where },
      { cause: err },
    );
  }
  return new LayerkitError(
    ErrorCodes.ERR_ARCHIVE_FORMAT,
    `${where}: the archive is damaged (${err.message})`,
    { path: where },
    { cause: err },
  );
}

/** The error for an archive without a single member. */
export function emptyArchiveError(where: string): LayerkitError {
  return new LayerkitError(
    ErrorCodes.ERR_ARCHIVE_FORMAT,
    `${where} is empty or not a tar archive; expected an OCI layout folder, an oci-archive or a docker-archive`,
    { path: where },
  );
}

/** A short read of an archive member is a damaged archive, named as such. */
export function wrap(err: unknown, where: string, path: string): unknown {
  if (err instanceof LayerkitError && err.code === ErrorCodes.EBADSIZE) {
    return new LayerkitError(
      ErrorCodes.ERR_ARCHIVE_FORMAT,
      `${where}: member ${path} is truncated (${err.message})`,
      { path },
      { cause: err },
    );
  }
  return err;
}

/** Options for {@link stageDirectory}. */
export interface StageDirectoryOptions {
  store: Store;
  dir: string;
  lease: Lease;
  signal?: AbortSignal;
  /** Where to record the blobs and layer states this import creates (for its rollback). */
  added?: Set<Digest> | undefined;
  indexed?: Set<Digest> | undefined;
}

/** A layout folder on disk, read on demand: blobs are copied into the store (verified) when asked for. */
export function stageDirectory({
  store,
  dir,
  lease,
  signal,
  added = new Set<Digest>(),
  indexed = new Set<Digest>(),
}: StageDirectoryOptions): StagedSource {
  const where = dir;
  const inside = (path: string) => `${dir}/${archivePath(path, where)}`;
  return {
    where,
    store,
    added,
    indexed,
    file: (path) => {
      try {
        const full = inside(path);
        if (nodeFs.statSync(full).size > METADATA_LIMIT) {
          throw new LayerkitError(ErrorCodes.ERR_ARCHIVE_FORMAT, `${full} is larger than ${METADATA_LIMIT} bytes`, {
            path: full,
          });
        }
        return nodeFs.readFileSync(full);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
    },
    blob: async (path) => {
      throwIfAborted(signal);
      const full = inside(path);
      if (!nodeFs.existsSync(full)) return undefined;
      return stageMember({ store, lease, added, indexed }, readChunks(full), {
        member: archivePath(path, where),
        where,
        label: full,
        signal,
      });
    },
  };
}
