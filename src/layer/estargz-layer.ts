/**
 * Reading an eStargz blob by ranges: the footer gives the TOC's offset, the TOC (checked against
 * the descriptor's `toc.digest` annotation) lists every entry and where each file's chunks are,
 * and a file's bytes are read by fetching only its chunks' gzip members, each checked against its
 * `chunkDigest`. {@link EstargzLayer} is a {@link LayerReader} over that: metadata at once,
 * file bytes once fetched (`fetch`), kept in memory for the life of the process.
 *
 * Where the bytes come from is a {@link RangeSource}: a registry (lazy mounts), a file, a buffer.
 */
import { gunzipSync } from '#platform';
import { sha256, type Digest } from '../digest/digest.js';
import { ErrorCodes, LayerkitError, throwIfAborted } from '../errors.js';
import {
  cleanTocName,
  type EstargzToc,
  type EstargzTocEntry,
  FOOTER_SIZE,
  MAX_TOC_SIZE,
  NO_PREFETCH_LANDMARK,
  parseFooter,
  parseToc,
  PREFETCH_LANDMARK,
  TOC_TAR_NAME,
} from '../tar/estargz.js';
import { readTarEntries } from '../tar/read-tar-entries.js';
import { classifyWhiteout } from '../tar/whiteout.js';
import { compareTarPaths } from '../tar/path.js';
import type { EntryType, LayerEntry, LayerReader } from './types.js';

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

/** Options for {@link openEstargzLayer}. */
export interface OpenEstargzLayerOptions {
  source: RangeSource;
  /** The blob's digest (names it in errors). */
  blob: Digest;
  /** The layer's diffID (from the image config). */
  diffId: Digest;
  /** The `containerd.io/snapshot/stargz/toc.digest` annotation: the TOC must hash to it. */
  tocDigest?: string | undefined;
  signal?: AbortSignal | undefined;
}

/** One chunk of a file: where its member is in the blob and which bytes of the file it holds. */
interface Chunk {
  /** Member start and end in the blob. */
  start: number;
  end: number;
  innerOffset: number;
  /** Offset and size in the file. */
  at: number;
  size: number;
  digest: string;
}

const TYPE_OF: Record<Exclude<EstargzTocEntry['type'], 'chunk'>, EntryType> = {
  dir: 'directory',
  reg: 'file',
  symlink: 'symlink',
  hardlink: 'hardlink',
  char: 'char',
  block: 'block',
  fifo: 'fifo',
};

/**
 * Opens an eStargz blob: two reads (footer, TOC), the TOC verified and checked for hostile names
 * and offsets.
 * @throws `ERR_LAYER_FORMAT` (no footer, bad TOC), `EINTEGRITY` (the TOC does not hash to
 *   `tocDigest`), `ERR_UNSAFE_PATH` (a TOC name escaping the root); each naming the blob.
 */
export async function openEstargzLayer(options: OpenEstargzLayerOptions): Promise<EstargzLayer> {
  const { source, blob, signal } = options;
  const bad = (why: string): LayerkitError =>
    new LayerkitError(ErrorCodes.ERR_LAYER_FORMAT, `eStargz blob ${blob}: ${why}`, { digest: blob });
  if (source.size < FOOTER_SIZE) throw bad(`it is ${source.size} bytes, less than a footer`);
  throwIfAborted(signal);
  const tocOffset = parseFooter(await source.read(source.size - FOOTER_SIZE, source.size, signal), blob);
  const tocEnd = source.size - FOOTER_SIZE;
  if (tocOffset >= tocEnd) throw bad(`the footer puts the TOC at ${tocOffset}, past the blob's ${tocEnd} bytes`);
  if (tocEnd - tocOffset > MAX_TOC_SIZE) throw bad(`its TOC is ${tocEnd - tocOffset} bytes compressed`);
  const member = await source.read(tocOffset, tocEnd, signal);
  let json: Buffer | undefined;
  try {
    for await (const e of readTarEntries([Buffer.from(gunzipSync(member))], { maxEntries: 1 })) {
      if (e.header.path !== TOC_TAR_NAME) throw bad(`the entry at the TOC offset is ${JSON.stringify(e.header.path)}`);
      json = e.data;
      break;
    }
  } catch (err) {
    if (err instanceof LayerkitError && err.data['digest'] === blob) throw err;
    throw new LayerkitError(
      ErrorCodes.ERR_LAYER_FORMAT,
      `eStargz blob ${blob}: the TOC member does not gunzip to a tar (${(err as Error).message})`,
      { digest: blob },
      { cause: err },
    );
  }
  if (json === undefined || json.length > MAX_TOC_SIZE) throw bad('there is no TOC entry at the TOC offset');
  if (options.tocDigest !== undefined && sha256(json) !== options.tocDigest) {
    throw new LayerkitError(
      ErrorCodes.EINTEGRITY,
      `eStargz blob ${blob}: its TOC hashes to ${sha256(json)}, not ${options.tocDigest} as the layer's annotation says`,
      { digest: blob, expected: options.tocDigest, found: sha256(json) },
    );
  }
  const toc = parseToc(json, { tocOffset, blob });
  return new EstargzLayer({ toc, tocOffset, source, blob, diffId: options.diffId, tocDigest: sha256(json) });
}

/** A {@link LayerReader} over an eStargz blob's TOC, reading file bytes by ranges. */
export class EstargzLayer implements LayerReader {
  readonly diffId: Digest;
  /** The blob's digest. */
  readonly blob: Digest;
  /** The digest of the TOC JSON read from the blob. */
  readonly tocDigest: Digest;
  readonly #source: RangeSource;
  readonly #entries = new Map<string, LayerEntry>();
  readonly #chunks = new Map<string, Chunk[]>();
  readonly #whiteouts = new Set<string>();
  readonly #opaque = new Set<string>();
  readonly #children = new Map<string, Set<string>>();
  readonly #sorted: LayerEntry[];
  /** Verified chunk bytes by member start + file offset. */
  readonly #cache = new Map<string, Buffer>();
  readonly #inflight = new Map<string, Promise<Buffer>>();
  /** Blob bytes fetched for file data so far. */
  bytesFetched = 0;

  /** @internal Use {@link openEstargzLayer}. */
  constructor(o: {
    toc: EstargzToc;
    tocOffset: number;
    source: RangeSource;
    blob: Digest;
    diffId: Digest;
    tocDigest: Digest;
  }) {
    this.diffId = o.diffId;
    this.blob = o.blob;
    this.tocDigest = o.tocDigest;
    this.#source = o.source;
    const where = `eStargz blob ${o.blob}`;
    const starts = [...new Set(o.toc.entries.flatMap((e) => (e.offset !== undefined ? [e.offset] : [])))];
    starts.push(o.tocOffset);
    starts.sort((a, b) => a - b);
    const endOf = (offset: number): number => {
      let lo = 0;
      let hi = starts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (starts[mid]! > offset) hi = mid;
        else lo = mid + 1;
      }
      return starts[lo]!;
    };
    const pending = new Map<string, EstargzTocEntry[]>();
    for (const e of o.toc.entries) {
      const path = cleanTocName(e.name, where, { digest: o.blob });
      if (e.type === 'chunk') {
        pending.get(path)?.push(e);
        continue;
      }
      if (path === TOC_TAR_NAME || path === PREFETCH_LANDMARK || path === NO_PREFETCH_LANDMARK) continue;
      const wh = classifyWhiteout(path);
      if (wh?.kind === 'whiteout') {
        this.#whiteouts.add(wh.target);
        this.#addName(wh.target);
        continue;
      }
      if (wh?.kind === 'opaque') {
        this.#opaque.add(wh.dir);
        this.#addName(wh.dir);
        continue;
      }
      if (wh?.kind === 'aufs-meta') continue;
      const entry: LayerEntry = {
        path,
        type: TYPE_OF[e.type],
        mode: (e.mode ?? 0) & 0o7777,
        uid: e.uid ?? 0,
        gid: e.gid ?? 0,
        mtime: e.modtime ? Math.floor(Date.parse(e.modtime) / 1000) || 0 : 0,
        size: e.type === 'reg' ? (e.size ?? 0) : 0,
      };
      if (e.type === 'symlink') entry.linkTarget = e.linkName ?? '';
      if (e.type === 'hardlink') entry.linkTarget = cleanTocName(e.linkName ?? '', where, { digest: o.blob });
      if (e.type === 'char' || e.type === 'block') {
        entry.devmajor = e.devMajor ?? 0;
        entry.devminor = e.devMinor ?? 0;
      }
      if (e.xattrs) {
        entry.xattrs = Object.fromEntries(
          Object.entries(e.xattrs).map(([k, v]) => [k, Buffer.from(String(v), 'base64').toString('latin1')]),
        );
      }
      if (e.type === 'reg' && e.digest) entry.sha256 = e.digest as Digest;
      if (path === '' && entry.type !== 'directory') continue;
      this.#entries.set(path, entry);
      if (path !== '') this.#addName(path);
      if (e.type === 'reg') {
        const list = [e];
        pending.set(path, list);
      }
    }
    for (const [path, list] of pending) {
      const entry = this.#entries.get(path)!;
      if (entry.size === 0) continue;
      const chunks: Chunk[] = [];
      list.sort((a, b) => (a.chunkOffset ?? 0) - (b.chunkOffset ?? 0));
      for (let i = 0; i < list.length; i++) {
        const c = list[i]!;
        const at = c.chunkOffset ?? 0;
        const next = i + 1 < list.length ? (list[i + 1]!.chunkOffset ?? 0) : entry.size;
        const size = c.chunkSize || next - at;
        const expected = chunks.length === 0 ? 0 : chunks.at(-1)!.at + chunks.at(-1)!.size;
        if (c.offset === undefined || !c.chunkDigest || at !== expected || size <= 0 || at + size > entry.size) {
          throw new LayerkitError(
            ErrorCodes.ERR_LAYER_FORMAT,
            `${where}: bad TOC: the chunks of ${JSON.stringify(path)} do not cover its ${entry.size} bytes in order`,
            { digest: o.blob, path },
          );
        }
        chunks.push({
          start: c.offset,
          end: endOf(c.offset),
          innerOffset: c.innerOffset ?? 0,
          at,
          size,
          digest: c.chunkDigest,
        });
      }
      const last = chunks.at(-1)!;
      if (last.at + last.size !== entry.size) {
        throw new LayerkitError(
          ErrorCodes.ERR_LAYER_FORMAT,
          `${where}: bad TOC: the chunks of ${JSON.stringify(path)} stop at ${last.at + last.size} of ${entry.size} bytes`,
          { digest: o.blob, path },
        );
      }
      this.#chunks.set(path, chunks);
    }
    this.#sorted = [...this.#entries.values()].sort((a, b) => compareTarPaths(a.path, b.path));
  }

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
      throw new LayerkitError(
        ErrorCodes.ERR_NOT_FOUND,
        `eStargz blob ${this.blob} has no file data for ${JSON.stringify(path)}`,
        { path, digest: this.blob },
      );
    }
    return { path: p, entry };
  }

  #range(size: number, options: { position?: number; length?: number }): [number, number] {
    const position = Math.max(0, Math.min(options.position ?? 0, size));
    const length = Math.max(0, Math.min(options.length ?? size - position, size - position));
    return [position, position + length];
  }

  #chunksFor(path: string, from: number, to: number): Chunk[] {
    return (this.#chunks.get(path) ?? []).filter((c) => c.at < to && c.at + c.size > from);
  }

  /** True when the bytes a {@link readSync} with these arguments needs are in memory. */
  isFetched(path: string, options: { position?: number; length?: number } = {}): boolean {
    const f = this.#file(path);
    const [from, to] = this.#range(f.entry.size, options);
    return this.#chunksFor(f.path, from, to).every((c) => this.#cache.has(`${c.start}:${c.at}`));
  }

  /**
   * Fetches (once) and verifies the chunks holding bytes `[position, position + length)` of a file.
   * @throws `EINTEGRITY` naming the blob and the file when a chunk does not match its digest.
   */
  async fetch(path: string, options: { position?: number; length?: number; signal?: AbortSignal } = {}): Promise<void> {
    const f = this.#file(path);
    const [from, to] = this.#range(f.entry.size, options);
    await Promise.all(this.#chunksFor(f.path, from, to).map((c) => this.#chunk(f.path, c, options.signal)));
  }

  #chunk(path: string, c: Chunk, signal: AbortSignal | undefined): Promise<Buffer> {
    const key = `${c.start}:${c.at}`;
    const hit = this.#cache.get(key);
    if (hit) return Promise.resolve(hit);
    let p = this.#inflight.get(key);
    if (!p) {
      p = this.#load(path, c, signal).finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, p);
    }
    return p;
  }

  async #load(path: string, c: Chunk, signal: AbortSignal | undefined): Promise<Buffer> {
    const compressed = await this.#source.read(c.start, c.end, signal);
    this.bytesFetched += compressed.length;
    const tampered = (why: string, cause?: unknown): LayerkitError =>
      new LayerkitError(
        ErrorCodes.EINTEGRITY,
        `eStargz blob ${this.blob}: the chunk of ${JSON.stringify(path)} at byte ${c.at} ${why}`,
        { digest: this.blob, path, offset: c.start, expected: c.digest },
        cause === undefined ? undefined : { cause },
      );
    let plain: Uint8Array;
    try {
      plain = gunzipSync(compressed);
    } catch (err) {
      throw tampered(`is not gzip (${(err as Error).message})`, err);
    }
    if (plain.length < c.innerOffset + c.size) throw tampered(`is ${plain.length} bytes, short of ${c.size}`);
    const bytes = Buffer.from(plain.subarray(c.innerOffset, c.innerOffset + c.size));
    const found = sha256(bytes);
    if (found !== c.digest) throw tampered(`hashes to ${found}, not ${c.digest}`);
    this.#cache.set(`${c.start}:${c.at}`, bytes);
    return bytes;
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
  constructor(layer: EstargzLayer, path: string, options: { position?: number; length?: number }) {
    super(
      ErrorCodes.ERR_UNSUPPORTED,
      `${JSON.stringify(path)} of lazily mounted layer ${layer.blob} is not fetched yet: read it with the async methods (readFile, open, createReadStream) or await fs.prefetch() first`,
      { path, digest: layer.blob, lazy: true },
    );
    this.fetch = (signal) => layer.fetch(path, { ...options, ...(signal ? { signal } : {}) });
  }
}
