/**
 * The blob half of the store: `blobs/<alg>/<hex>` of an OCI image layout. The store computes every
 * digest itself while streaming; an expected digest or size is only checked. Blobs are written to
 * a temp file and renamed into place, so a crash never leaves a partial blob under a digest, and
 * putting a blob that exists is deduplication, not an error. Every read is verified.
 */
import type { Readable } from 'node:stream';
import { Digester, digestAlgorithm, digestHex, parseDigest, type Digest } from '../digest/digest.js';
import { checkExpected, integrityError, sizeError, type Expected } from '../digest/verify.js';
import { ErrorCodes, LayerkitError, throwIfAborted } from '../errors.js';
import { platformName } from '#platform';
import type { StoreFs } from './backend.js';
import { tempName } from './atomic.js';
import { WorkerDigester } from './worker-digester.js';

/** Blobs up to this size (when the caller knows it) are read synchronously ({@link BlobStore.read}). */
const SMALL_BLOB = 256 * 1024;

/** Bytes to put: a buffer, a string (UTF-8), or a stream / async iterable of chunks. */
export type BlobSource = Uint8Array | string | AsyncIterable<Uint8Array> | NodeJS.ReadableStream;

/** Options for {@link BlobStore.put}. */
export interface PutBlobOptions {
  /** What the bytes must be; a mismatch fails with `EINTEGRITY` / `EBADSIZE` and stores nothing. */
  expected?: Expected | undefined;
  /** Sees every chunk as it is written (to index a layer in the same pass). */
  onChunk?: ((chunk: Buffer) => void) | undefined;
  /**
   * Asked once, when the stream passes 8 MiB: is `onChunk` busy enough that the digest should be
   * computed on a worker thread (true, the default), or is this thread better left to hash the
   * bytes itself (false: it saves a copy of every chunk)? `false` decides at once: every byte is
   * hashed on this thread as it comes, and the first 8 MiB are not held (copied) until then.
   */
  offloadDigest?: (() => boolean) | false | undefined;
  signal?: AbortSignal | undefined;
}

/** A stored blob's identity. */
export interface BlobInfo {
  digest: Digest;
  size: number;
}

/** What {@link BlobStore.put} did. */
export interface PutResult extends BlobInfo {
  /** False when the blob was already stored (deduplicated). */
  created: boolean;
}

/** Content-addressed blobs in `blobs/sha256/`. */
export class BlobStore {
  readonly #fs: StoreFs;
  readonly #root: string;
  readonly #tmpDir: string;
  readonly #durable: boolean;

  /** @internal Use `openStore()`. */
  constructor(options: { fs: StoreFs; root: string; tmpDir: string; durable: boolean }) {
    this.#fs = options.fs;
    this.#root = options.root;
    this.#tmpDir = options.tmpDir;
    this.#durable = options.durable;
  }

  /** The file path of a blob (whether or not it exists), for positioned reads. */
  path(digest: Digest): string {
    const d = parseDigest(digest);
    return `${this.#root}/blobs/${d.slice(0, d.indexOf(':'))}/${digestHex(d)}`;
  }

  /** True when the blob is stored. */
  has(digest: Digest): boolean {
    return this.#fs.existsSync(this.path(digest));
  }

  /** The stored size of a blob, or undefined when it is missing. */
  stat(digest: Digest): BlobInfo | undefined {
    try {
      return { digest, size: this.#fs.statSync(this.path(digest)).size };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /**
   * Stores bytes and returns their digest and size. Idempotent: an existing blob is kept.
   * Atomic: the blob appears complete under its digest or not at all.
   */
  async put(source: BlobSource, options: PutBlobOptions = {}): Promise<PutResult> {
    const { expected = {}, onChunk, offloadDigest, signal } = options;
    throwIfAborted(signal);
    const fs = this.#fs;
    // Big blobs are hashed on a worker thread, leaving this one to `onChunk` (index a layer).
    const digester = new WorkerDigester({ offload: offloadDigest });
    const tmp = tempName(this.#tmpDir, 'blob');
    const handle = await fs.promises.open(tmp, 'w', 0o644);
    try {
      try {
        let total = 0;
        for await (const chunk of chunks(source)) {
          throwIfAborted(signal);
          total += chunk.length;
          if (expected.size !== undefined && total > expected.size)
            throw sizeError(expected.digest, expected.size, total);
          // The write runs on libuv's threadpool while this thread hashes (and indexes) the chunk.
          const writing = writeAll(handle, chunk);
          try {
            const behind = digester.update(chunk);
            onChunk?.(chunk);
            if (behind) await behind;
          } finally {
            await writing;
          }
        }
        if (this.#durable) await handle.sync();
      } finally {
        await handle.close();
      }
      const digest = await digester.digest();
      if (expected.size !== undefined && digester.size !== expected.size)
        throw sizeError(expected.digest, expected.size, digester.size);
      if (expected.digest !== undefined && digest !== expected.digest) throw integrityError(expected.digest, digest);
      const target = this.path(digest);
      const created = !fs.existsSync(target);
      if (!created) {
        fs.rmSync(tmp, { force: true });
      } else {
        fs.mkdirSync(target.slice(0, target.lastIndexOf('/')), { recursive: true });
        fs.chmodSync(tmp, 0o444);
        fs.renameSync(tmp, target);
      }
      return { digest, size: digester.size, created };
    } catch (err) {
      digester.discard();
      fs.rmSync(tmp, { force: true });
      throw err;
    }
  }

  /**
   * Reads a whole blob into memory, verified against its digest (and `size` when given). A blob
   * the caller knows to be small (`size` up to 256 KiB: manifests, configs, indexes) is read with
   * one synchronous call: on a local disk that takes microseconds, where the asynchronous read's
   * four trips through libuv's threadpool (open, stat, read, close) cost more than the reading, a
   * quarter of `layerkit images` on a store of 50 images.
   */
  async read(digest: Digest, options: { size?: number } = {}): Promise<Buffer> {
    const small = options.size !== undefined && options.size <= SMALL_BLOB;
    const data = small ? this.#readRawSync(digest) : await this.#readRaw(digest);
    const digester = new Digester();
    digester.update(data);
    checkExpected(digester, digester.digest(), { digest, size: options.size });
    return data;
  }

  /** Reads and parses a JSON blob (manifest, index, config), verified; bad JSON is `ERR_INVALID_MANIFEST`. */
  async readJson<T>(digest: Digest, options: { size?: number } = {}): Promise<{ value: T; bytes: Buffer }> {
    const bytes = await this.read(digest, options);
    try {
      return { value: JSON.parse(bytes.toString('utf8')) as T, bytes };
    } catch (err) {
      throw new LayerkitError(
        ErrorCodes.ERR_INVALID_MANIFEST,
        `blob ${digest} is not valid JSON: ${(err as Error).message}`,
        { digest },
        { cause: err },
      );
    }
  }

  /**
   * A blob's bytes as an async iterable (Node and a page alike) that fails at EOF with
   * `EINTEGRITY`/`EBADSIZE` when they do not match (`EBADSIZE` as soon as `size` is exceeded).
   * A missing blob fails with `ERR_NOT_FOUND` when it is first read. Chunks are at most
   * `chunkSize` bytes (default 1 MiB) and are the reader's to keep.
   */
  async *chunks(
    digest: Digest,
    options: { size?: number | undefined; chunkSize?: number | undefined } = {},
  ): AsyncGenerator<Buffer> {
    yield* readVerified(
      this.#fs,
      this.path(digest),
      { digest, size: options.size },
      {
        chunkSize: options.chunkSize,
        notFound: () => this.#notFound(digest),
      },
    );
  }

  /**
   * A stream of a blob's bytes that fails at EOF with `EINTEGRITY`/`EBADSIZE` when they do not
   * match. Missing blobs fail with `ERR_NOT_FOUND` when the stream is first read. Node only (a
   * page reads {@link BlobStore.chunks}).
   */
  open(digest: Digest, options: { size?: number; highWaterMark?: number } = {}): Readable {
    if (platformName !== 'node')
      throw new LayerkitError(
        ErrorCodes.ERR_UNSUPPORTED,
        `blob ${digest}: a page has no Node streams; read store.blobs.chunks(digest) instead`,
        { digest, feature: 'BlobStore.open' },
      );
    const chunkSize = options.highWaterMark ?? 1 << 20;
    const { Readable: NodeReadable } = process.getBuiltinModule('node:stream');
    return NodeReadable.from(this.chunks(digest, { size: options.size, chunkSize }), {
      objectMode: false,
      highWaterMark: chunkSize,
    });
  }

  /** Removes a blob (no error when it is already gone). */
  delete(digest: Digest): void {
    this.#fs.rmSync(this.path(digest), { force: true });
  }

  /** Every stored sha256 blob, as digests (files whose names are not digests are skipped). */
  list(): Digest[] {
    const dir = `${this.#root}/blobs/sha256`;
    let names: string[];
    try {
      names = this.#fs.readdirSync(dir) as string[];
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return names
      .filter((n) => /^[a-f0-9]{64}$/.test(n))
      .sort()
      .map((n) => `sha256:${n}` as Digest);
  }

  /** Verifies one blob by re-hashing its bytes; resolves to the problem found, if any. */
  async check(digest: Digest, options: { size?: number } = {}): Promise<LayerkitError | undefined> {
    try {
      for await (const _ of this.chunks(digest, options)) {
        // drain: the bytes are checked at the end
      }
      return undefined;
    } catch (err) {
      if (err instanceof LayerkitError) return err;
      throw err;
    }
  }

  /**
   * A blob's whole bytes. Through the callback `readFile`, not `fs.promises`: the promise API goes
   * through a FileHandle (open, fstat, read, close, each a promise), which costs about three times as
   * much per small file; `layerkit images` reads two small blobs per image.
   */
  #readRawSync(digest: Digest): Buffer {
    try {
      return this.#fs.readFileSync(this.path(digest)) as Buffer;
    } catch (err) {
      throw (err as NodeJS.ErrnoException).code === 'ENOENT' ? this.#notFound(digest) : err;
    }
  }

  #readRaw(digest: Digest): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.#fs.readFile(this.path(digest), (err, data) => {
        if (!err) resolve(data);
        else reject(err.code === 'ENOENT' ? this.#notFound(digest) : err);
      });
    });
  }

  #notFound(digest: Digest): LayerkitError {
    return new LayerkitError(
      ErrorCodes.ERR_NOT_FOUND,
      `blob ${digest} is not in the store (${this.#root}); re-import the image that needs it`,
      {
        digest,
      },
    );
  }
}

async function* chunks(source: BlobSource): AsyncIterable<Buffer> {
  if (typeof source === 'string') {
    yield Buffer.from(source, 'utf8');
  } else if (source instanceof Uint8Array) {
    yield Buffer.isBuffer(source) ? source : Buffer.from(source.buffer, source.byteOffset, source.byteLength);
  } else {
    for await (const chunk of source as AsyncIterable<Uint8Array | string>) {
      if (typeof chunk === 'string') yield Buffer.from(chunk, 'utf8');
      else yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    }
  }
}

async function writeAll(handle: import('node:fs/promises').FileHandle, chunk: Buffer): Promise<void> {
  let off = 0;
  while (off < chunk.length) {
    const { bytesWritten } = await handle.write(chunk, off, chunk.length - off);
    off += bytesWritten;
  }
}

/**
 * A file's bytes as an async iterable over `fs.promises` (Node's fs or memfs), checked against
 * `expected` as {@link BlobStore.chunks} does; `where` names the file in the errors.
 */
export async function* readVerified(
  fs: StoreFs,
  path: string,
  expected: Expected,
  options: { chunkSize?: number | undefined; where?: string; notFound?: () => Error } = {},
): AsyncGenerator<Buffer> {
  const chunkSize = options.chunkSize ?? 1 << 20;
  let handle: Awaited<ReturnType<StoreFs['promises']['open']>>;
  try {
    handle = await fs.promises.open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && options.notFound) throw options.notFound();
    throw err;
  }
  const algorithm = expected.digest === undefined ? 'sha256' : digestAlgorithm(expected.digest);
  const digester = new Digester(algorithm === 'sha512' ? 'sha512' : 'sha256');
  try {
    let left = (await handle.stat()).size;
    for (;;) {
      // Sized to what is left (small blobs get small buffers); a file that grew reads on.
      const want = Math.max(1, Math.min(chunkSize, left));
      const buf = Buffer.allocUnsafe(want);
      const { bytesRead } = await handle.read(buf, 0, want, null);
      if (bytesRead === 0) break;
      left -= bytesRead;
      const chunk = bytesRead === want ? buf : buf.subarray(0, bytesRead);
      digester.update(chunk);
      if (expected.size !== undefined && digester.size > expected.size)
        throw sizeError(expected.digest, expected.size, digester.size, options.where);
      yield chunk;
    }
  } finally {
    await handle.close();
  }
  checkExpected(digester, digester.digest(), expected, options.where);
}
