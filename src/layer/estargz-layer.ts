/**
 * Reading an eStargz blob by ranges: the footer gives the TOC's offset, the TOC (checked against
 * the descriptor's `toc.digest` annotation) lists every entry and where each file's chunks are,
 * and a file's bytes are read by fetching only its chunks' gzip members, each checked against its
 * `chunkDigest`. {@link EstargzLayer} is a {@link RangeLayer} over that: metadata at once, file
 * bytes once fetched (`fetch`), kept in memory for the life of the process.
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
import { RangeLayer, type RangeChunk, type RangeLayerTables, type RangeSource } from './range-layer.js';
import type { EntryType, LayerEntry } from './types.js';

export { bufferRangeSource, LazyFetchNeeded, type RangeSource } from './range-layer.js';

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

/** One chunk of a file: its gzip member in the blob (`start`..`end`), where in it the bytes begin, their digest. */
interface Chunk extends RangeChunk {
  innerOffset: number;
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

/** A {@link RangeLayer} over an eStargz blob's TOC: each chunk a gzip member checked against its digest. */
export class EstargzLayer extends RangeLayer<Chunk> {
  /** The digest of the TOC JSON read from the blob. */
  readonly tocDigest: Digest;

  /** @internal Use {@link openEstargzLayer}. */
  constructor(o: {
    toc: EstargzToc;
    tocOffset: number;
    source: RangeSource;
    blob: Digest;
    diffId: Digest;
    tocDigest: Digest;
  }) {
    const where = `eStargz blob ${o.blob}`;
    super({
      source: o.source,
      blob: o.blob,
      diffId: o.diffId,
      where,
      tables: tocTables(o.toc, o.tocOffset, where, o.blob),
    });
    this.tocDigest = o.tocDigest;
  }

  protected async load(path: string, c: Chunk, signal: AbortSignal | undefined): Promise<Buffer> {
    const compressed = await this.source.read(c.start, c.end, signal);
    this.bytesFetched += compressed.length;
    const tampered = (why: string, cause?: unknown): LayerkitError =>
      new LayerkitError(
        ErrorCodes.EINTEGRITY,
        `${this.where}: the chunk of ${JSON.stringify(path)} at byte ${c.at} ${why}`,
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
    return bytes;
  }
}

/** The entry tables of a TOC, every name cleaned and every file's chunks checked to cover it in order. */
function tocTables(toc: EstargzToc, tocOffset: number, where: string, blob: Digest): RangeLayerTables<Chunk> {
  const tables: RangeLayerTables<Chunk> = {
    entries: new Map(),
    chunks: new Map(),
    whiteouts: new Set(),
    opaque: new Set(),
  };
  const starts = [...new Set(toc.entries.flatMap((e) => (e.offset !== undefined ? [e.offset] : [])))];
  starts.push(tocOffset);
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
  for (const e of toc.entries) {
    const path = cleanTocName(e.name, where, { digest: blob });
    if (e.type === 'chunk') {
      pending.get(path)?.push(e);
      continue;
    }
    if (path === TOC_TAR_NAME || path === PREFETCH_LANDMARK || path === NO_PREFETCH_LANDMARK) continue;
    const wh = classifyWhiteout(path);
    if (wh?.kind === 'whiteout') {
      tables.whiteouts.add(wh.target);
      continue;
    }
    if (wh?.kind === 'opaque') {
      tables.opaque.add(wh.dir);
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
    if (e.type === 'hardlink') entry.linkTarget = cleanTocName(e.linkName ?? '', where, { digest: blob });
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
    tables.entries.set(path, entry);
    if (e.type === 'reg') pending.set(path, [e]);
  }
  for (const [path, list] of pending) {
    const entry = tables.entries.get(path)!;
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
          { digest: blob, path },
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
        { digest: blob, path },
      );
    }
    tables.chunks.set(path, chunks);
  }
  return tables;
}
