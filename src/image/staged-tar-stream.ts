/**
 * An image archive that arrives as a stream (stdin, a decompressed archive) is read in one pass
 * by layerkit's own tar parser: its metadata files come *after* the blobs (lexical order), so
 * every blob member goes straight into the store as its bytes go by, while small metadata files
 * are kept in memory. Blob bytes are handed to the store as views of the chunks read, never
 * copied; the stream is read no faster than the store writes (each member's queue is bounded).
 *
 * Names inside archives are untrusted, but nothing here writes a file by name: blobs land in the
 * store under the digest computed from their bytes, so a hostile name cannot escape anything.
 */
import { posix } from 'node:path';
import type { Digest } from '../digest/digest.js';
import { throwIfAborted } from '../errors.js';
import type { Lease, Store } from '../store/store.js';
import { TarParser } from '../tar/reader.js';
import {
  archiveError,
  archivePath,
  blobDigestForPath,
  emptyArchiveError,
  isMetadataName,
  METADATA_LIMIT,
  resolveMember,
  stageMember,
  type StagedSource,
} from './staged-source.js';

/** Bytes one member may have queued before the reader waits for the store. */
const QUEUE_LIMIT = 4 << 20;

/**
 * The bytes of one member on their way to the store: an async iterable the store consumes, fed
 * synchronously by the parser. `drained()` tells the reader when to go on.
 */
class MemberFeed implements AsyncIterable<Buffer> {
  #queue: Buffer[] = [];
  #queued = 0;
  #ended = false;
  #failure: unknown;
  #wake: (() => void) | undefined;
  #drainers: Array<() => void> = [];

  push(chunk: Buffer): void {
    this.#queue.push(chunk);
    this.#queued += chunk.length;
    this.#notify();
  }

  end(): void {
    this.#ended = true;
    this.#notify();
  }

  /** Makes the consumer fail with `err` (the archive broke while this member was read). */
  fail(err: unknown): void {
    this.#failure = err;
    this.#ended = true;
    this.#queue = [];
    this.#queued = 0;
    this.#notify();
    this.#release();
  }

  /** Resolves once the queue is below the limit (at once when it is). */
  drained(): Promise<void> {
    if (this.#queued < QUEUE_LIMIT) return Promise.resolve();
    return new Promise((resolve) => this.#drainers.push(resolve));
  }

  /** The consumer is gone (finished or failed): nothing it was sent will be read. */
  abandon(): void {
    this.#queue = [];
    this.#queued = 0;
    this.#release();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    for (;;) {
      if (this.#failure !== undefined) throw this.#failure;
      const next = this.#queue.shift();
      if (next !== undefined) {
        this.#queued -= next.length;
        if (this.#queued < QUEUE_LIMIT) this.#release();
        yield next;
        continue;
      }
      if (this.#ended) return;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #release(): void {
    for (const d of this.#drainers.splice(0)) d();
  }
}

/** Options for {@link stageTar}. */
export interface StageTarOptions {
  store: Store;
  source: AsyncIterable<Uint8Array | string> | NodeJS.ReadableStream;
  where: string;
  lease: Lease;
  signal?: AbortSignal | undefined;
  onBytes?: ((n: number) => void) | undefined;
  /** Where to record the blobs and layer states this import creates (for its rollback). */
  added?: Set<Digest> | undefined;
  indexed?: Set<Digest> | undefined;
}

/** Streams a tar archive into the store, keeping small metadata files in memory. */
export async function stageTar({
  store,
  source,
  where,
  lease,
  signal,
  onBytes,
  added = new Set<Digest>(),
  indexed = new Set<Digest>(),
}: StageTarOptions): Promise<StagedSource> {
  const files = new Map<string, Buffer>();
  const blobs = new Map<string, { digest: Digest; size: number }>();
  const links = new Map<string, string>();
  /** Members whose bytes are still on their way into the store. */
  const open = new Set<MemberFeed>();
  const puts: Array<Promise<void>> = [];
  let failure: unknown;
  let entries = 0;
  let meta: { path: string; chunks: Buffer[] } | undefined;
  let feed: MemberFeed | undefined;

  const stageBlob = (path: string, size: number): MemberFeed => {
    const f = new MemberFeed();
    open.add(f);
    const put = stageMember({ store, lease, added, indexed }, f, { member: path, where, size, signal })
      .then((info) => {
        blobs.set(path, info);
      })
      .catch((err: unknown) => {
        failure ??= err;
      })
      .finally(() => {
        f.abandon();
        open.delete(f);
      });
    puts.push(put);
    return f;
  };

  const parser = new TarParser({
    onEntry: (header) => {
      entries++;
      const path = archivePath(header.rawName, where);
      meta = undefined;
      feed = undefined;
      if (header.type === 'symlink') links.set(path, posix.join(posix.dirname(path), header.linkTarget ?? ''));
      else if (header.type === 'hardlink') links.set(path, header.linkTarget ?? '');
      if (header.type !== 'file') return;
      if (blobDigestForPath(path) === undefined && isMetadataName(path) && header.size <= METADATA_LIMIT)
        meta = { path, chunks: [] };
      else feed = stageBlob(path, header.size);
    },
    onData: (chunk) => {
      if (meta) meta.chunks.push(Buffer.from(chunk));
      else feed?.push(chunk);
    },
    onEntryEnd: () => {
      if (meta) files.set(meta.path, Buffer.concat(meta.chunks));
      feed?.end();
      meta = undefined;
      feed = undefined;
    },
  });

  try {
    try {
      for await (const raw of source as AsyncIterable<Uint8Array | string>) {
        throwIfAborted(signal);
        const chunk =
          typeof raw === 'string'
            ? Buffer.from(raw, 'utf8')
            : Buffer.isBuffer(raw)
              ? raw
              : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
        onBytes?.(chunk.length);
        parser.write(chunk);
        if (failure !== undefined) throw failure;
        for (const f of open) await f.drained();
        if (parser.done) break;
      }
      parser.end();
    } catch (err) {
      const e = archiveError(err, where, entries);
      for (const f of open) f.fail(e);
      throw e;
    }
    await Promise.all(puts);
    if (failure !== undefined) throw failure;
    if (entries === 0) throw emptyArchiveError(where);
  } catch (err) {
    // What it stored is left for the import's rollback (another import may be reusing it by now).
    await Promise.allSettled(puts);
    throw err;
  }

  const resolve = (path: string): string => resolveMember(links, path, where);
  return {
    where,
    store,
    added,
    indexed,
    file: (path) => files.get(resolve(path)),
    blob: async (path) => blobs.get(resolve(path)),
  };
}
