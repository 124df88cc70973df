/**
 * Writing eStargz: a Transform from an uncompressed layer tar to an eStargz blob. The tar's bytes
 * are kept as they are (headers, PAX records, padding), cut into gzip members at every non-empty
 * file payload and every chunk of a large file, behind a `.no.prefetch.landmark` entry, and
 * followed by the TOC entry, the end of the archive and the footer — the layout stargz's own
 * writer produces, so stargz-snapshotter, containerd and podman read it lazily, and any gzip
 * reader still sees one tar. Deterministic: the same tar and options give the same bytes.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { Digester, sha256, type Digest } from '../digest/digest.js';
import { BLOCK_SIZE, paddedSize } from './header.js';
import { encodeHeader } from './header-encode.js';
import { TarParser } from './reader.js';
import type { TarEntryHeader } from './types.js';
import {
  cleanTocName,
  DEFAULT_CHUNK_SIZE,
  encodeFooter,
  type EstargzToc,
  type EstargzTocEntry,
  gzipMember,
  LANDMARK_CONTENTS,
  NO_PREFETCH_LANDMARK,
  PREFETCH_LANDMARK,
  TOC_TAR_NAME,
} from './estargz.js';

/** Options for {@link EstargzWriter}. */
export interface EstargzWriterOptions {
  /** gzip level 0–9 (default 6). */
  level?: number | undefined;
  /** Files larger than this are cut into chunks of this size (default 4 MiB). */
  chunkSize?: number | undefined;
  /** Sees every byte of the uncompressed eStargz tar, in order (the diffID's stream). */
  onUncompressed?: ((chunk: Buffer) => void) | undefined;
  /**
   * Files to put first (prefetched by lazy readers), followed by `.prefetch.landmark`; their parent
   * directories come along. The other entries are held in memory until the input ends.
   */
  prioritized?: readonly string[] | undefined;
}

/** What an {@link EstargzWriter} wrote, known once its output has ended. */
export interface EstargzWriteResult {
  /** Digest of the TOC JSON (the `containerd.io/snapshot/stargz/toc.digest` annotation). */
  tocDigest: Digest;
  /** Offset of the TOC's gzip member in the blob. */
  tocOffset: number;
  /** Bytes of the uncompressed tar (the `io.containers.estargz.uncompressed-size` annotation). */
  uncompressedSize: number;
}

/** The byte range of one input entry and what to do with it. */
interface Region {
  /** Start of the entry's header blocks (PAX and long-name headers included). */
  start: number;
  /** Start of its data. */
  data: number;
  /** Bytes of data (files only). */
  size: number;
  /** End of its padded data. */
  end: number;
  /** Entries a previous conversion added (TOC, landmarks): dropped, rewritten at the end. */
  drop: boolean;
  entry: EstargzTocEntry | undefined;
  /** Written before the landmark (prioritized mode only). */
  first: boolean;
}

const TOC_TYPES = {
  directory: 'dir',
  file: 'reg',
  symlink: 'symlink',
  hardlink: 'hardlink',
  char: 'char',
  block: 'block',
  fifo: 'fifo',
} as const;

/** The TOC entry of a tar header, with stargz's field names and Go's omit-empty rule. */
export function tocEntryOf(h: TarEntryHeader): EstargzTocEntry {
  const type = TOC_TYPES[h.type];
  const name = h.type === 'directory' ? (h.path === '' ? './' : `${h.path}/`) : h.path;
  const e: EstargzTocEntry = { name, type };
  if (type === 'reg') e.size = h.size;
  e.modtime = `${new Date(Math.floor(h.mtime) * 1000).toISOString().slice(0, 19)}Z`;
  if (h.linkTarget !== undefined && (type === 'symlink' || type === 'hardlink')) e.linkName = h.linkTarget;
  if (h.mode) e.mode = h.mode;
  if (h.uid) e.uid = h.uid;
  if (h.gid) e.gid = h.gid;
  if (h.uname) e.userName = h.uname;
  if (h.gname) e.groupName = h.gname;
  if (type === 'char' || type === 'block') {
    if (h.devmajor) e.devMajor = h.devmajor;
    if (h.devminor) e.devMinor = h.devminor;
  }
  if (h.xattrs && Object.keys(h.xattrs).length > 0) {
    e.xattrs = Object.fromEntries(
      Object.keys(h.xattrs)
        .sort()
        .map((k) => [k, Buffer.from(h.xattrs![k]!, 'latin1').toString('base64')]),
    );
  }
  return e;
}

/**
 * Converts an uncompressed layer tar (written in) to an eStargz blob (read out). `result`
 * resolves when the output ends. Tar errors (`ERR_LAYER_FORMAT`, `ERR_UNSAFE_PATH`) fail the stream.
 */
export class EstargzWriter extends Transform {
  /** Resolves with the TOC digest and sizes once the blob is complete. */
  readonly result: Promise<EstargzWriteResult>;
  readonly #level: number;
  readonly #chunkSize: number;
  readonly #onUncompressed: ((chunk: Buffer) => void) | undefined;
  readonly #parser: TarParser;
  readonly #regions: Region[] = [];
  readonly #toc: EstargzTocEntry[] = [];
  /** Input bytes not routed yet, starting at input offset {@link #pendingStart}. */
  #pending: Buffer[] = [];
  #pendingStart = 0;
  #lastEnd = 0;
  /** Uncompressed bytes of the member being built. */
  #member: Buffer[] = [];
  #memberSize = 0;
  /** Blob bytes pushed so far. */
  #out = 0;
  #uncompressed = 0;
  #file: Digester | undefined;
  #chunk: Digester | undefined;
  #settle!: { resolve: (r: EstargzWriteResult) => void; reject: (e: unknown) => void };

  constructor(options: EstargzWriterOptions = {}) {
    super();
    this.#level = options.level ?? 6;
    this.#chunkSize = Math.max(1, Math.floor(options.chunkSize ?? DEFAULT_CHUNK_SIZE));
    this.#onUncompressed = options.onUncompressed;
    if (options.prioritized && options.prioritized.length > 0) {
      this.#first = new Set();
      for (const path of options.prioritized) {
        const parts = cleanTocName(path).split('/');
        for (let i = 1; i <= parts.length; i++) this.#first.add(parts.slice(0, i).join('/'));
      }
    }
    this.result = new Promise((resolve, reject) => {
      this.#settle = { resolve, reject };
    });
    this.result.catch(() => {});
    this.on('error', (err) => this.#settle.reject(err));
    this.#parser = new TarParser({
      onEntry: (header, dataOffset) => {
        const size = header.type === 'file' ? header.size : 0;
        const drop =
          header.path === TOC_TAR_NAME || header.path === PREFETCH_LANDMARK || header.path === NO_PREFETCH_LANDMARK;
        const region: Region = {
          start: this.#lastEnd,
          data: dataOffset,
          size,
          end: dataOffset + paddedSize(size),
          drop,
          entry: drop ? undefined : tocEntryOf(header),
          first: this.#first?.has(header.path) === true,
        };
        this.#lastEnd = region.end;
        this.#regions.push(region);
      },
    });
  }

  #started = false;
  /** Prioritized paths and their parents (prioritized mode). */
  readonly #first: Set<string> | undefined;
  /** Entries held back until the prioritized ones and the landmark are written. */
  readonly #held: Array<{ region: Region; bytes: Buffer[] }> = [];
  #replaying = false;

  /** Without prioritized files, the landmark entry goes first: its header opens the blob. */
  async #start(): Promise<void> {
    this.#started = true;
    if (!this.#first) await this.#landmark(NO_PREFETCH_LANDMARK);
  }

  /** A landmark entry: its header in the current member, its one byte as a payload member. */
  async #landmark(name: string): Promise<void> {
    const header = encodeHeader({
      name,
      type: 'file',
      mode: 0o644,
      uid: 0,
      gid: 0,
      mtime: 0,
      size: 1,
    });
    this.#append(header);
    const payload = Buffer.alloc(BLOCK_SIZE);
    payload[0] = LANDMARK_CONTENTS;
    const entry: EstargzTocEntry = {
      name,
      type: 'reg',
      size: 1,
      modtime: '1970-01-01T00:00:00Z',
      mode: 0o644,
    };
    await this.#cut();
    entry.offset = this.#out;
    entry.digest = sha256(payload.subarray(0, 1));
    entry.chunkDigest = entry.digest;
    this.#toc.push(entry);
    this.#append(payload);
  }

  #append(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.#member.push(bytes);
    this.#memberSize += bytes.length;
    this.#uncompressed += bytes.length;
    this.#onUncompressed?.(bytes);
  }

  /** Ends the current member (if it holds anything) and pushes it compressed. */
  async #cut(): Promise<void> {
    if (this.#memberSize === 0) return;
    const data = this.#member.length === 1 ? this.#member[0]! : Buffer.concat(this.#member, this.#memberSize);
    this.#member = [];
    this.#memberSize = 0;
    const gz = await gzipMember(data, this.#level);
    this.#out += gz.length;
    this.push(gz);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.#run(async () => {
      if (!this.#started) await this.#start();
      this.#parser.write(chunk);
      this.#pending.push(chunk);
      await this.#route();
    }, done);
  }

  override _flush(done: TransformCallback): void {
    this.#run(async () => {
      if (!this.#started) await this.#start();
      this.#parser.end();
      await this.#route();
      if (this.#first) {
        await this.#landmark(PREFETCH_LANDMARK);
        this.#replaying = true;
        const rest = this.#pending;
        for (const { region, bytes } of this.#held) {
          this.#regions.push(region);
          this.#pending = bytes;
          this.#pendingStart = region.start;
          await this.#route();
        }
        this.#pending = rest;
      }
      // What is left is the input's end-of-archive: dropped, the TOC entry comes first.
      await this.#cut();
      const tocOffset = this.#out;
      const json = Buffer.from(JSON.stringify({ version: 1, entries: this.#toc } satisfies EstargzToc, null, '\t'));
      const header = encodeHeader({
        name: TOC_TAR_NAME,
        type: 'file',
        mode: 0o444,
        uid: 0,
        gid: 0,
        mtime: 0,
        size: json.length,
      });
      this.#append(header);
      this.#append(json);
      this.#append(Buffer.alloc(paddedSize(json.length) - json.length + 2 * BLOCK_SIZE));
      await this.#cut();
      const footer = encodeFooter(tocOffset);
      this.#out += footer.length;
      this.push(footer);
      this.#settle.resolve({ tocDigest: sha256(json), tocOffset, uncompressedSize: this.#uncompressed });
    }, done);
  }

  #run(work: () => Promise<void>, done: TransformCallback): void {
    work().then(
      () => done(),
      (err: unknown) => done(err as Error),
    );
  }

  /** Routes every pending byte whose entry is known: headers and padding as they are, data chunked. */
  async #route(): Promise<void> {
    let pos = this.#pendingStart;
    let buf = this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending);
    const take = (n: number): Buffer => {
      const out = buf.subarray(0, n);
      buf = buf.subarray(n);
      pos += n;
      return out;
    };
    while (buf.length > 0 && this.#regions.length > 0) {
      const r = this.#regions[0]!;
      if (this.#first && !this.#replaying && !r.first && !r.drop) {
        const held = this.#held.at(-1)?.region === r ? this.#held.at(-1)! : { region: r, bytes: [] as Buffer[] };
        if (held.bytes.length === 0) this.#held.push(held);
        held.bytes.push(Buffer.from(take(Math.min(r.end - pos, buf.length))));
        if (pos >= r.end) this.#regions.shift();
        continue;
      }
      if (pos < r.data) {
        const part = take(Math.min(r.data - pos, buf.length));
        if (!r.drop) this.#append(part);
      } else if (pos < r.data + r.size) {
        const within = pos - r.data;
        const chunkEnd = Math.min(r.size, (Math.floor(within / this.#chunkSize) + 1) * this.#chunkSize);
        if (within % this.#chunkSize === 0 && !r.drop) await this.#openChunk(r, within);
        const part = take(Math.min(chunkEnd - within, buf.length));
        if (!r.drop) {
          this.#file!.update(part);
          this.#chunk!.update(part);
          this.#append(part);
        }
        if (pos - r.data === chunkEnd && !r.drop) this.#closeChunk(r, pos - r.data === r.size);
      } else if (pos < r.end) {
        const part = take(Math.min(r.end - pos, buf.length));
        if (!r.drop) this.#append(part);
      }
      if (pos >= r.end) {
        if (!r.drop && !(r.entry!.type === 'reg' && r.size > 0)) {
          if (r.entry!.type === 'reg') r.entry!.digest = sha256('');
          this.#toc.push(r.entry!);
        }
        this.#regions.shift();
      }
    }
    this.#pendingStart = pos;
    this.#pending = buf.length > 0 ? [buf] : [];
  }

  readonly #chunks: EstargzTocEntry[] = [];

  async #openChunk(r: Region, within: number): Promise<void> {
    await this.#cut();
    if (within === 0) this.#file = new Digester();
    this.#chunk = new Digester();
    const entry: EstargzTocEntry = within === 0 ? r.entry! : { name: r.entry!.name, type: 'chunk' };
    entry.offset = this.#out;
    if (within > 0) entry.chunkOffset = within;
    if (r.size - within >= this.#chunkSize) entry.chunkSize = this.#chunkSize; // stargz: 0 means "the rest"
    this.#chunks.push(entry);
  }

  #closeChunk(r: Region, last: boolean): void {
    const entry = this.#chunks[this.#chunks.length - 1]!;
    entry.chunkDigest = this.#chunk!.digest();
    if (last) {
      r.entry!.digest = this.#file!.digest();
      this.#toc.push(...this.#chunks);
      this.#chunks.length = 0;
    }
  }
}
