/**
 * The eStargz format (stargz-snapshotter docs/estargz.md): a tar+gzip layer whose gzip stream is
 * a concatenation of members, one starting at every file payload (and every chunk of a large
 * file), with a table of contents (`stargz.index.json`, the last tar entry) and a 51-byte footer
 * pointing at it. Any gzip reader sees one tar; a lazy reader fetches the footer, the TOC and then
 * only the members of the files it reads. This file holds the pure pieces both sides share: the
 * names, the footer codec, the gzip member framing and the TOC's shape and checks.
 */
import { crc32, deflateRawBlock } from '#platform';
import { ErrorCodes, LayerkitError } from '../errors.js';

/** The TOC's tar entry name. */
export const TOC_TAR_NAME = 'stargz.index.json';
/** The landmark written after prioritised (prefetch) files. */
export const PREFETCH_LANDMARK = '.prefetch.landmark';
/** The landmark written first when no file is prioritised. */
export const NO_PREFETCH_LANDMARK = '.no.prefetch.landmark';
/** The byte a landmark file holds. */
export const LANDMARK_CONTENTS = 0x0f;
/** Bytes of the footer. */
export const FOOTER_SIZE = 51;
/** Default chunk size of large files (stargz's 4 MiB). */
export const DEFAULT_CHUNK_SIZE = 4 << 20;
/** The layer descriptor annotation holding the digest of the TOC JSON. */
export const TOC_DIGEST_ANNOTATION = 'containerd.io/snapshot/stargz/toc.digest';
/** The layer descriptor annotation holding the size of the uncompressed tar. */
export const UNCOMPRESSED_SIZE_ANNOTATION = 'io.containers.estargz.uncompressed-size';
/** Largest TOC a reader accepts (compressed or not). */
export const MAX_TOC_SIZE = 64 << 20;

/** One TOC entry, with the field names of stargz's `TOCEntry` (zero values omitted). */
export interface EstargzTocEntry {
  name: string;
  type: 'dir' | 'reg' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo' | 'chunk';
  size?: number;
  modtime?: string;
  linkName?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  userName?: string;
  groupName?: string;
  /** Offset of the gzip member holding this payload (or chunk) in the blob. */
  offset?: number;
  /** Offset of the payload inside that member's uncompressed bytes (several payloads in one member). */
  innerOffset?: number;
  devMajor?: number;
  devMinor?: number;
  /** Extended attributes, values base64 (Go's `map[string][]byte`). */
  xattrs?: Record<string, string>;
  /** sha256 of the whole file (`reg`). */
  digest?: string;
  chunkOffset?: number;
  /** Bytes of this chunk; 0 (omitted) means "to the end of the file". */
  chunkSize?: number;
  chunkDigest?: string;
}

/** The TOC document. */
export interface EstargzToc {
  version: 1;
  entries: EstargzTocEntry[];
}

/** The footer: an empty gzip member whose FEXTRA subfield `SG` says `%016x` of the TOC offset + `STARGZ`. */
export function encodeFooter(tocOffset: number): Buffer {
  const out = Buffer.alloc(FOOTER_SIZE);
  out.set([0x1f, 0x8b, 0x08, 0x04, 0, 0, 0, 0, 0, 0xff], 0);
  out.writeUInt16LE(26, 10);
  out.write('SG', 12, 'latin1');
  out.writeUInt16LE(22, 14);
  out.write(`${tocOffset.toString(16).padStart(16, '0')}STARGZ`, 16, 'latin1');
  // An empty final stored block, then CRC-32 and ISIZE of nothing (zeros).
  out.set([0x01, 0x00, 0x00, 0xff, 0xff], 38);
  return out;
}

/**
 * Reads the TOC offset from a blob's last {@link FOOTER_SIZE} bytes.
 * @throws `ERR_LAYER_FORMAT` when they are not an eStargz footer (`data.digest` when given).
 */
export function parseFooter(footer: Uint8Array, blob?: string): number {
  const bad = (why: string): LayerkitError =>
    new LayerkitError(ErrorCodes.ERR_LAYER_FORMAT, `${blob ?? 'the blob'} is not eStargz: ${why}`, {
      ...(blob ? { digest: blob } : {}),
    });
  const b = Buffer.from(footer.buffer, footer.byteOffset, footer.byteLength);
  if (b.length !== FOOTER_SIZE) throw bad(`the footer is ${b.length} bytes, not ${FOOTER_SIZE}`);
  if (b[0] !== 0x1f || b[1] !== 0x8b || b[2] !== 0x08 || (b[3]! & 0x04) === 0)
    throw bad('the footer is not a gzip header with an extra field');
  if (b.readUInt16LE(10) !== 26 || b.toString('latin1', 12, 14) !== 'SG' || b.readUInt16LE(14) !== 22)
    throw bad('the footer has no SG subfield of 22 bytes');
  const text = b.toString('latin1', 16, 38);
  if (!/^[0-9a-f]{16}STARGZ$/.test(text)) throw bad(`the footer says ${JSON.stringify(text)}`);
  const offset = Number.parseInt(text.slice(0, 16), 16);
  if (!Number.isSafeInteger(offset)) throw bad('the TOC offset is too large');
  return offset;
}

/** One gzip member of `data`: a fixed header (mtime 0, OS 255, so the bytes are reproducible), deflate, trailer. */
export async function gzipMember(data: Uint8Array, level: number): Promise<Buffer> {
  const header = Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, level === 9 ? 2 : level === 1 ? 4 : 0, 0xff]);
  const body = await deflateRawBlock(data, { level, dictionary: undefined, final: true });
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(data, 0) >>> 0, 0);
  trailer.writeUInt32LE(data.byteLength % 2 ** 32, 4);
  return Buffer.concat([header, body, trailer]);
}

const TYPES = new Set(['dir', 'reg', 'symlink', 'hardlink', 'char', 'block', 'fifo', 'chunk']);
const SHA256 = /^sha256:[0-9a-f]{64}$/;

/**
 * Parses and checks a TOC from untrusted bytes: known types, names that stay inside the root,
 * offsets inside `[0, tocOffset)`, non-negative sizes and digests of the right form.
 * @throws `ERR_LAYER_FORMAT` (bad JSON or fields), `ERR_UNSAFE_PATH` (a name or hardlink escaping the root).
 */
export function parseToc(json: Uint8Array, options: { tocOffset: number; blob?: string | undefined }): EstargzToc {
  const where = options.blob ?? 'the eStargz layer';
  const data = options.blob ? { digest: options.blob } : {};
  const fail = (why: string, extra: Record<string, unknown> = {}): LayerkitError =>
    new LayerkitError(ErrorCodes.ERR_LAYER_FORMAT, `${where}: bad TOC: ${why}`, { ...data, ...extra });
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(json).toString('utf8'));
  } catch (err) {
    throw fail(`not JSON (${(err as Error).message})`);
  }
  const toc = doc as EstargzToc;
  if (typeof toc !== 'object' || toc === null || toc.version !== 1 || !Array.isArray(toc.entries))
    throw fail('not a version 1 TOC with entries');
  for (const e of toc.entries) {
    if (typeof e !== 'object' || e === null || typeof e.name !== 'string' || !TYPES.has(e.type))
      throw fail(`an entry has no name or an unknown type ${JSON.stringify((e as { type?: unknown })?.type)}`);
    const path = cleanTocName(e.name, where, data);
    for (const k of ['size', 'offset', 'innerOffset', 'chunkOffset', 'chunkSize', 'mode', 'uid', 'gid'] as const) {
      const v = e[k];
      if (v !== undefined && !(Number.isSafeInteger(v) && v >= 0))
        throw fail(`${k} of ${JSON.stringify(e.name)} is ${JSON.stringify(v)}`, { path });
    }
    if ((e.offset ?? 0) >= options.tocOffset)
      throw fail(`the offset of ${JSON.stringify(e.name)} (${e.offset}) is past the TOC at ${options.tocOffset}`, {
        path,
      });
    for (const k of ['digest', 'chunkDigest'] as const) {
      const v = e[k];
      if (v !== undefined && (typeof v !== 'string' || !SHA256.test(v)))
        throw fail(`${k} of ${JSON.stringify(e.name)} is not a sha256 digest`, { path });
    }
    if (e.type === 'hardlink') cleanTocName(String(e.linkName ?? ''), where, data);
  }
  return toc;
}

/**
 * A TOC name as a normalised relative path (`''` for the root), as stargz's `cleanEntryName`
 * does, but refusing what a clean would silently fold: `..` components and absolute paths.
 * @throws `ERR_UNSAFE_PATH`.
 */
export function cleanTocName(name: string, where = 'the eStargz layer', data: Record<string, unknown> = {}): string {
  const unsafe = (): LayerkitError =>
    new LayerkitError(ErrorCodes.ERR_UNSAFE_PATH, `${where}: TOC name ${JSON.stringify(name)} escapes the root`, {
      ...data,
      path: name,
    });
  if (name.startsWith('/') || name.includes('\0')) throw unsafe();
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') throw unsafe();
    parts.push(part);
  }
  return parts.join('/');
}
