/**
 * A layer read by ranges of its blob ({@link RangeSource}: a registry, a file, a buffer): every
 * entry's metadata at once, a file's bytes fetched as they are read, in chunks that each layer
 * kind locates and checks in its own way (eStargz: gzip members with a digest each; an
 * uncompressed tar: the file's bytes where they lie). Fetched chunks are kept in memory for the
 * life of the layer. {@link RangeLayer} holds what the kinds share: the entry tables of a
 * {@link LayerReader}, the chunk cache, and reads that say what to fetch when bytes are missing.
 */
import type { Digest } from '../digest/digest.js';
import { ErrorCodes, LayerkitError } from '../errors.js';
import { compareTarPaths } from '../tar/path.js';
import type { LayerEntry, LayerReader } from './types.js';

/** Random access to a blob's bytes. */
export interface RangeSource {
  /** Bytes of the blob. */
  readonly size: number;
  /** Bytes `[start, end)` of the blob (exactly that many, or an error). */
  read(start: number, end: number, signal?: AbortSignal): Promise<Buffer>;
}

/** A range source over bytes in memory (tests, small blobs). */
export function bufferRangeSource(bytes: Uint8Array): RangeSource {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { size: b.length, read: async (start, end) => Buffer.from(b.subarray(start, end)) };
}

/** One chunk of a file: the blob bytes `[start, end)` that hold bytes `[at, at + size)` of the file. */
export interface RangeChunk {
  start: number;
  end: number;
  at: number;
  size: number;
}

/** The tables a {@link RangeLayer} is made of (filled by each layer kind's opener). */
export interface RangeLayerTables<C extends RangeChunk> {
  entries: Map<string, LayerEntry>;
  /** Each file's chunks, in order, covering its bytes (files of size 0 have none). */
  chunks: Map<string, C[]>;
  whiteouts: Set<string>;
  opaque: Set<string>;
}

/** A {@link LayerReader} whose file bytes are fetched by ranges of the blob (see the module comment). */
export abstract class RangeLayer<C extends RangeChunk = RangeChunk> implements LayerReader {
  readonly diffId: Digest;
  /** The blob's digest. */
  readonly blob: Digest;
  /** Blob bytes fetched for file data so far. */
  bytesFetched = 0;
  protected readonly source: RangeSource;
  /** How errors name the blob (`eStargz blob sha256:…`). */
  protected readonly where: string;
  readonly #entries: Map<string, LayerEntry>;
  readonly #chunks: Map<string, C[]>;
  readonly #whiteouts: Set<string>;
  readonly #opaque: Set<string>;
  readonly #children = new Map<string, Set<string>>();
  readonly #sorted: LayerEntry[];
  /** Checked chunk bytes by chunk start + file offset. */
  readonly #cache = new Map<string, Buffer>();
  readonly #inflight = new Map<string, Promise<Buffer>>();

  protected constructor(o: {
    source: RangeSource;
    blob: Digest;
    diffId: Digest;
    where: string;
    tables: RangeLayerTables<C>;
  }) {
    this.diffId = o.diffId;
    this.blob = o.blob;
    this.source = o.source;
    this.where = o.where;
    this.#entries = o.tables.entries;
    this.#chunks = o.tables.chunks;
    this.#whiteouts = o.tables.whiteouts;
    this.#opaque = o.tables.opaque;
    for (const path of this.#entries.keys()) if (path !== '') this.#addName(path);
    for (const path of this.#whiteouts) this.#addName(path);
    for (const path of this.#opaque) this.#addName(path);
    this.#sorted = [...this.#entries.values()].sort((a, b) => compareTarPaths(a.path, b.path));
  }

  /** Keeps bytes of a chunk that came another way (with the headers, say) as if fetched. */
  protected keep(chunk: C, bytes: Buffer): void {
    this.#cache.set(`${chunk.start}:${chunk.at}`, bytes);
  }

  /**
   * Reads and checks one chunk: fetches `[chunk.start, chunk.end)` of the blob and returns the
   * file's `chunk.size` bytes it holds, or throws `EINTEGRITY` naming the blob and `path`.
   */
  protected abstract load(path: string, chunk: C, signal: AbortSignal | undefined): Promise<Buffer>;

  #addName(path: string): void {
    let p = path;
    while (p !== '') {
      const i = p.lastIndexOf('/');
      const parent = i < 0 ? '' : p.slice(0, i);
      let set = this.#children.get(parent);
      if (set === undefined) this.#children.set(parent, (set = new Set()));
      if (set.has(p.slice(i + 1))) return;
      set.add(p.slice(i + 1));
      p = parent;
    }
  }

  get(path: string): LayerEntry | undefined {
    return this.#entries.get(path);
  }
  isImplicitDir(path: string): boolean {
    return (
      path !== '' &&
      !this.#entries.has(path) &&
      !this.#whiteouts.has(path) &&
      (this.#children.has(path) || this.#opaque.has(path))
    );
  }
  isWhiteout(path: string): boolean {
    return this.#whiteouts.has(path);
  }
  isOpaque(dir: string): boolean {
    return this.#opaque.has(dir);
  }
  children(dir: string): readonly string[] {
    const set = this.#children.get(dir);
    return set ? [...set].sort() : [];
  }
  entries(): Iterable<LayerEntry> {
    return this.#sorted.values();
  }
  whiteouts(): Iterable<string> {
    return [...this.#whiteouts].sort();
  }
  opaqueDirs(): Iterable<string> {
    return [...this.#opaque].sort();
  }

  /** The file whose bytes `path` reads (a hardlink's target in this layer), or a coded error. */
  #file(path: string): { path: string; entry: LayerEntry } {
    let p = path;
    let entry = this.#entries.get(p);
    for (let hops = 0; entry?.type === 'hardlink' && hops < 64; hops++) {
      p = entry.linkTarget!;
      entry = this.#entries.get(p);
    }
    if (entry?.type !== 'file') {
      throw new LayerkitError(ErrorCodes.ERR_NOT_FOUND, `${this.where} has no file data for ${JSON.stringify(path)}`, {
        path,
        digest: this.blob,
      });
    }
    return { path: p, entry };
  }

  #range(size: number, options: { position?: number; length?: number }): [number, number] {
    const position = Math.max(0, Math.min(options.position ?? 0, size));
    const length = Math.max(0, Math.min(options.length ?? size - position, size - position));
    return [position, position + length];
  }

  #chunksFor(path: string, from: number, to: number): C[] {
    return (this.#chunks.get(path) ?? []).filter((c) => c.at < to && c.at + c.size > from);
  }

  /** True when the bytes a {@link readSync} with these arguments needs are in memory. */
  isFetched(path: string, options: { position?: number; length?: number } = {}): boolean {
    const f = this.#file(path);
    const [from, to] = this.#range(f.entry.size, options);
    return this.#chunksFor(f.path, from, to).every((c) => this.#cache.has(`${c.start}:${c.at}`));
  }

  /**
   * Fetches (once) and checks the chunks holding bytes `[position, position + length)` of a file.
   * @throws `EINTEGRITY` naming the blob and the file when a chunk fails its check.
   */
  async fetch(path: string, options: { position?: number; length?: number; signal?: AbortSignal } = {}): Promise<void> {
    const f = this.#file(path);
    const [from, to] = this.#range(f.entry.size, options);
    await Promise.all(this.#chunksFor(f.path, from, to).map((c) => this.#chunk(f.path, c, options.signal)));
  }

  #chunk(path: string, c: C, signal: AbortSignal | undefined): Promise<Buffer> {
    const key = `${c.start}:${c.at}`;
    const hit = this.#cache.get(key);
    if (hit) return Promise.resolve(hit);
    let p = this.#inflight.get(key);
    if (!p) {
      p = this.load(path, c, signal)
        .then((bytes) => {
          this.#cache.set(key, bytes);
          return bytes;
        })
        .finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, p);
    }
    return p;
  }

  /** Reads a file's bytes, fetching what is missing. */
  async readFile(
    path: string,
    options: { position?: number; length?: number; signal?: AbortSignal } = {},
  ): Promise<Buffer> {
    await this.fetch(path, options);
    return this.readSync(path, options);
  }

  /**
   * Reads bytes already fetched. Bytes not in memory yet are an `ERR_UNSUPPORTED` error whose
   * `data.lazy` is true and which carries `fetch()`: a lazy view awaits it and reads again.
   */
  readSync(path: string, options: { position?: number; length?: number } = {}): Buffer {
    const f = this.#file(path);
    const [from, to] = this.#range(f.entry.size, options);
    const out = Buffer.alloc(to - from);
    for (const c of this.#chunksFor(f.path, from, to)) {
      const bytes = this.#cache.get(`${c.start}:${c.at}`);
      if (bytes === undefined) throw new LazyFetchNeeded(this, path, options);
      const lo = Math.max(from, c.at);
      const hi = Math.min(to, c.at + c.size);
      bytes.copy(out, lo - from, lo - c.at, hi - c.at);
    }
    return out;
  }
}

/**
 * The error a synchronous read of bytes a lazy layer has not fetched yet throws: `ERR_UNSUPPORTED`
 * (no synchronous network reads), with `fetch()` to get them; the lazy view's async methods do.
 */
export class LazyFetchNeeded extends LayerkitError {
  readonly fetch: (signal?: AbortSignal) => Promise<void>;
  constructor(layer: RangeLayer, path: string, options: { position?: number; length?: number }) {
    super(
      ErrorCodes.ERR_UNSUPPORTED,
      `${JSON.stringify(path)} of lazily mounted layer ${layer.blob} is not fetched yet: read it with the async methods (readFile, open, createReadStream) or await fs.prefetch() first`,
      { path, digest: layer.blob, lazy: true },
    );
    this.fetch = (signal) => layer.fetch(path, { ...options, ...(signal ? { signal } : {}) });
  }
}
