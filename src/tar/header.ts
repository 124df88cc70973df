/**
 * Pure tar header codec: one 512-byte ustar/GNU/v7 block to fields and back, PAX extended
 * records, GNU base-256 numbers. No I/O and no state; `reader.ts` and `writer.ts` drive it.
 *
 * Decoding is lenient where real archives differ (octal ended by NUL or space, base-256,
 * signed or unsigned checksums, mode with file-type bits) and strict where guessing would hide
 * corruption (bad checksum, bad digits, unknown or sparse typeflags). Encoding is
 * deterministic: ustar, plus a PAX `x` header only when a value does not fit.
 */
import { ErrorCodes, LayerkitError } from '../errors.js';
import type { EntryType } from '../layer/types.js';
import { decodeName, encodeName, quoteName } from './name-encoding.js';

/** Size of a tar block. */
export const BLOCK_SIZE = 512;

/** Typeflag bytes. */
export const TYPEFLAG = {
  oldFile: 0x00,
  file: 0x30,
  hardlink: 0x31,
  symlink: 0x32,
  char: 0x33,
  block: 0x34,
  directory: 0x35,
  fifo: 0x36,
  contiguous: 0x37,
  paxLocal: 0x78,
  paxGlobal: 0x67,
  gnuLongName: 0x4c,
  gnuLongLink: 0x4b,
  gnuSparse: 0x53,
} as const;

/** Largest values the octal ustar fields hold. */
export const USTAR_MAX = {
  /** 7 octal digits: uid, gid, devmajor, devminor. */
  id: 0o7777777,
  /** 11 octal digits: size, mtime. */
  size: 0o77777777777,
} as const;

/** The fields of one header block, as stored (before PAX/GNU overrides). */
export interface RawTarHeader {
  /** `name`, joined with the ustar `prefix` when the block is POSIX ustar. */
  name: string;
  linkname: string;
  /** The typeflag byte. */
  typeflag: number;
  /** `mode & 0o7777`; file-type bits some writers add (`0100644`) are dropped. */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
  /** Which dialect the magic field says. */
  format: 'ustar' | 'gnu' | 'v7';
}

function formatError(message: string, data: Record<string, unknown> = {}): LayerkitError {
  return new LayerkitError(ErrorCodes.ERR_LAYER_FORMAT, message, data);
}

// ---------------------------------------------------------------------------------------------
// Decoding

/**
 * Decodes the header block at `buf[at, at + 512)`. Returns `null` for an all-zero block (the
 * end-of-archive marker).
 *
 * @throws `ERR_LAYER_FORMAT` for a bad checksum or a malformed numeric field.
 */
export function decodeHeader(buf: Uint8Array, at = 0): RawTarHeader | null {
  // Checksum: the sum of all bytes with the checksum field counted as eight spaces. Zero blocks
  // (the end marker) sum to 0. Old writers summed signed chars; that is checked only on mismatch.
  let sum = 0;
  const end = at + BLOCK_SIZE;
  for (let i = at; i < end; i++) sum += buf[i] as number;
  if (sum === 0) return null;
  for (let i = at + 148; i < at + 156; i++) sum -= buf[i] as number;
  const unsigned = sum + 8 * 0x20;
  const stored = parseOctal(buf, at + 148, 8, 'checksum');
  if (stored !== unsigned && stored !== signedChecksum(buf, at)) {
    throw formatError(`bad tar header checksum (stored ${stored}, computed ${unsigned})`, {
      stored,
      computed: unsigned,
    });
  }

  const format = magicOf(buf, at);
  let name = fieldString(buf, at, 100);
  if (format === 'ustar') {
    // star puts a 131-byte prefix before atime/ctime and "tar\0" at the end of the block.
    const star = buf[at + 508] === 0x74 && buf[at + 509] === 0x61 && buf[at + 510] === 0x72 && buf[at + 511] === 0;
    const prefix = fieldString(buf, at + 345, star ? 131 : 155);
    if (prefix !== '') name = `${prefix}/${name}`;
  }
  const extended = format !== 'v7';
  return {
    name,
    linkname: fieldString(buf, at + 157, 100),
    typeflag: buf[at + 156] as number,
    mode: parseNumber(buf, at + 100, 8, 'mode') & 0o7777,
    uid: parseNumber(buf, at + 108, 8, 'uid'),
    gid: parseNumber(buf, at + 116, 8, 'gid'),
    size: parseNumber(buf, at + 124, 12, 'size'),
    mtime: parseNumber(buf, at + 136, 12, 'mtime'),
    uname: extended ? fieldString(buf, at + 265, 32) : '',
    gname: extended ? fieldString(buf, at + 297, 32) : '',
    devmajor: extended ? parseNumber(buf, at + 329, 8, 'devmajor') : 0,
    devminor: extended ? parseNumber(buf, at + 337, 8, 'devminor') : 0,
    format,
  };
}

/** The checksum as old writers computed it, summing signed chars. */
function signedChecksum(buf: Uint8Array, at: number): number {
  let sum = 8 * 0x20;
  for (let i = at; i < at + BLOCK_SIZE; i++) {
    if (i >= at + 148 && i < at + 156) continue;
    const c = buf[i] as number;
    sum += c >= 0x80 ? c - 256 : c;
  }
  return sum;
}

function magicOf(buf: Uint8Array, at: number): RawTarHeader['format'] {
  const m = at + 257;
  if (buf[m] !== 0x75 || buf[m + 1] !== 0x73 || buf[m + 2] !== 0x74 || buf[m + 3] !== 0x61 || buf[m + 4] !== 0x72) {
    return 'v7';
  }
  if (buf[m + 5] === 0) return 'ustar'; // "ustar\0" + "00"
  if (buf[m + 5] === 0x20 && buf[m + 6] === 0x20 && buf[m + 7] === 0) return 'gnu'; // "ustar  \0"
  return 'v7';
}

/** A NUL-terminated string field. */
function fieldString(buf: Uint8Array, start: number, length: number): string {
  let end = start;
  const limit = start + length;
  while (end < limit && buf[end] !== 0) end++;
  return end === start ? '' : decodeName(buf, start, end);
}

/** A numeric field: octal ASCII, or GNU base-256 when the high bit of the first byte is set. */
function parseNumber(buf: Uint8Array, start: number, length: number, field: string): number {
  if (((buf[start] as number) & 0x80) !== 0) return parseBase256(buf, start, length, field);
  return parseOctal(buf, start, length, field);
}

/** Octal digits after optional leading spaces, ended by NUL, space or the field's end. */
function parseOctal(buf: Uint8Array, start: number, length: number, field: string): number {
  const end = start + length;
  let i = start;
  while (i < end && buf[i] === 0x20) i++;
  let value = 0;
  for (; i < end; i++) {
    const c = buf[i] as number;
    if (c === 0 || c === 0x20) break;
    if (c < 0x30 || c > 0x37) {
      throw formatError(`bad tar header: the ${field} field holds ${JSON.stringify(String.fromCharCode(c))}, not an octal digit`, {
        field,
      });
    }
    value = value * 8 + (c - 0x30);
  }
  return value;
}

/** GNU base-256: big-endian two's complement with the top bit of the first byte as a marker. */
function parseBase256(buf: Uint8Array, start: number, length: number, field: string): number {
  const negative = ((buf[start] as number) & 0x40) !== 0;
  const invert = negative ? 0xff : 0;
  let value = 0;
  for (let i = 0; i < length; i++) {
    let c = ((buf[start + i] as number) ^ invert) & 0xff;
    if (i === 0) c &= 0x7f;
    value = value * 256 + c;
    if (value > Number.MAX_SAFE_INTEGER) {
      throw formatError(`bad tar header: the base-256 ${field} field does not fit in 53 bits`, { field });
    }
  }
  return negative ? -value - 1 : value;
}

/**
 * The entry type of a typeflag. `7` (contiguous) is a file; an old-style `\0` whose name ends in
 * `/` is a directory. Returns `undefined` for the meta typeflags (`x g L K`).
 *
 * @throws `ERR_LAYER_FORMAT` for GNU sparse (`S`) and unknown typeflags, naming the entry.
 */
export function entryTypeOf(typeflag: number, name: string): EntryType | undefined {
  switch (typeflag) {
    case TYPEFLAG.file:
    case TYPEFLAG.contiguous:
      return 'file';
    case TYPEFLAG.oldFile:
      return name.endsWith('/') ? 'directory' : 'file';
    case TYPEFLAG.hardlink:
      return 'hardlink';
    case TYPEFLAG.symlink:
      return 'symlink';
    case TYPEFLAG.char:
      return 'char';
    case TYPEFLAG.block:
      return 'block';
    case TYPEFLAG.directory:
      return 'directory';
    case TYPEFLAG.fifo:
      return 'fifo';
    case TYPEFLAG.paxLocal:
    case TYPEFLAG.paxGlobal:
    case TYPEFLAG.gnuLongName:
    case TYPEFLAG.gnuLongLink:
      return undefined;
    case TYPEFLAG.gnuSparse:
      throw formatError(
        `entry ${quoteName(name)} is a GNU sparse file (typeflag 'S'), which OCI layers must not use; recreate the layer without --sparse`,
        { path: name, typeflag: 'S' },
      );
    default:
      throw formatError(
        `entry ${quoteName(name)} has unknown typeflag ${describeTypeflag(typeflag)}; layers may hold only files, directories, links, devices and fifos`,
        { path: name, typeflag: String.fromCharCode(typeflag) },
      );
  }
}

function describeTypeflag(t: number): string {
  return t >= 0x20 && t < 0x7f ? `'${String.fromCharCode(t)}'` : `0x${t.toString(16).padStart(2, '0')}`;
}

/** True for the typeflags whose size field counts no data (Go's archive/tar does the same). */
export function isHeaderOnly(typeflag: number): boolean {
  return typeflag >= TYPEFLAG.hardlink && typeflag <= TYPEFLAG.fifo;
}

/** Parsed PAX records, in archive order; a later duplicate key wins. */
export type PaxRecords = Map<string, string>;

const XATTR_SCHILY = 'SCHILY.xattr.';
const XATTR_LIBARCHIVE = 'LIBARCHIVE.xattr.';

/**
 * Parses PAX extended-header data: records `"<len> <key>=<value>\n"` where `<len>` counts the
 * whole record. Values are UTF-8, except `SCHILY.xattr.*` values, which are raw bytes (kept as
 * latin1 strings). An empty value is kept (it means "unset" when merged).
 *
 * @throws `ERR_LAYER_FORMAT` for a malformed record.
 */
export function parsePaxRecords(data: Uint8Array, into: PaxRecords = new Map()): PaxRecords {
  let pos = 0;
  const n = data.length;
  while (pos < n) {
    // Writers may pad the data with NULs; stop at the first one between records.
    if (data[pos] === 0) break;
    let len = 0;
    let i = pos;
    while (i < n && data[i] !== 0x20) {
      const c = data[i] as number;
      if (c < 0x30 || c > 0x39 || i - pos > 12) throw formatError(`bad PAX record at byte ${pos}: bad length`);
      len = len * 10 + (c - 0x30);
      i++;
    }
    const end = pos + len;
    if (i >= n || i === pos || end > n || end <= i + 1 || data[end - 1] !== 0x0a) {
      throw formatError(`bad PAX record at byte ${pos}: its length ${len} does not match its contents`);
    }
    let eq = i + 1;
    while (eq < end - 1 && data[eq] !== 0x3d) eq++;
    if (eq >= end - 1 || eq === i + 1) throw formatError(`bad PAX record at byte ${pos}: no key=value`);
    const key = decodeName(data, i + 1, eq);
    const value = key.startsWith(XATTR_SCHILY)
      ? Buffer.from(data.buffer, data.byteOffset + eq + 1, end - 1 - (eq + 1)).toString('latin1')
      : decodeName(data, eq + 1, end - 1);
    into.set(key, value);
    pos = end;
  }
  return into;
}

/** Extended headers that apply to the next entry. */
export interface ExtendedHeaders {
  /** PAX `g` records in force (defaults for every later entry). */
  global: PaxRecords | undefined;
  /** PAX `x` records for this entry. */
  local: PaxRecords | undefined;
  /** GNU `L` long name for this entry. */
  longName: string | undefined;
  /** GNU `K` long link for this entry. */
  longLink: string | undefined;
}

/** A header with every override applied, before path normalising. */
export interface ResolvedHeader {
  name: string;
  linkname: string;
  size: number;
  uid: number;
  gid: number;
  mtime: number;
  uname: string;
  gname: string;
  xattrs: Record<string, string> | undefined;
}

/**
 * Applies PAX (local over global) and GNU long name/link overrides to a raw header.
 *
 * @throws `ERR_LAYER_FORMAT` for malformed PAX numbers and for PAX sparse files.
 */
export function resolveHeader(raw: RawTarHeader, ext: ExtendedHeaders): ResolvedHeader {
  const pick = (key: string): string | undefined => {
    const local = ext.local?.get(key);
    if (local !== undefined) return local === '' ? undefined : local;
    const global = ext.global?.get(key);
    return global === '' ? undefined : global;
  };
  const name = ext.local?.get('path') || ext.longName || ext.global?.get('path') || raw.name;
  if (pick('GNU.sparse.major') !== undefined || pick('GNU.sparse.map') !== undefined || pick('GNU.sparse.size') !== undefined) {
    throw formatError(
      `entry ${quoteName(name)} is a GNU sparse file (PAX GNU.sparse records), which OCI layers must not use; recreate the layer without --sparse`,
      { path: name },
    );
  }
  const linkname = ext.local?.get('linkpath') || ext.longLink || ext.global?.get('linkpath') || raw.linkname;
  const int = (key: string, fallback: number): number => {
    const v = pick(key);
    return v === undefined ? fallback : paxInteger(v, key, name);
  };
  const mtimeText = pick('mtime');
  let xattrs: Record<string, string> | undefined;
  for (const records of [ext.global, ext.local]) {
    if (records === undefined) continue;
    for (const [key, value] of records) {
      if (key.startsWith(XATTR_SCHILY)) {
        (xattrs ??= {})[key.slice(XATTR_SCHILY.length)] = value;
      } else if (key.startsWith(XATTR_LIBARCHIVE)) {
        const xname = decodePercent(key.slice(XATTR_LIBARCHIVE.length));
        (xattrs ??= {})[xname] = Buffer.from(value, 'base64').toString('latin1');
      }
    }
  }
  return {
    name,
    linkname,
    size: int('size', raw.size),
    uid: int('uid', raw.uid),
    gid: int('gid', raw.gid),
    mtime: mtimeText === undefined ? raw.mtime : paxTime(mtimeText, name),
    uname: pick('uname') ?? raw.uname,
    gname: pick('gname') ?? raw.gname,
    xattrs,
  };
}

function paxInteger(value: string, key: string, name: string): number {
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x30 || c > 0x39) n = NaN;
    n = n * 10 + (c - 0x30);
  }
  if (!Number.isSafeInteger(n) || value.length === 0) {
    throw formatError(`entry ${quoteName(name)} has a bad PAX ${key} ${JSON.stringify(value)}: expected a decimal integer below 2^53`, {
      path: name,
      key,
    });
  }
  return n;
}

const PAX_TIME = /^-?[0-9]+(?:\.[0-9]*)?$/;

function paxTime(value: string, name: string): number {
  const n = Number(value);
  if (!PAX_TIME.test(value) || !Number.isFinite(n) || Math.abs(n) > Number.MAX_SAFE_INTEGER) {
    throw formatError(`entry ${quoteName(name)} has a bad PAX mtime ${JSON.stringify(value)}`, { path: name, key: 'mtime' });
  }
  return n;
}

function decodePercent(s: string): string {
  if (!s.includes('%')) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

// ---------------------------------------------------------------------------------------------
// Encoding

/** One entry's header as the writer has decided it (the name exactly as it will be stored). */
export interface EncodeHeaderInput {
  /** The stored name: directories end in `/`, the root is `./`. */
  name: string;
  type: EntryType;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  size: number;
  linkname?: string | undefined;
  devmajor?: number | undefined;
  devminor?: number | undefined;
  xattrs?: Record<string, string> | undefined;
}

const TYPEFLAG_OF: Record<EntryType, number> = {
  file: TYPEFLAG.file,
  hardlink: TYPEFLAG.hardlink,
  symlink: TYPEFLAG.symlink,
  char: TYPEFLAG.char,
  block: TYPEFLAG.block,
  directory: TYPEFLAG.directory,
  fifo: TYPEFLAG.fifo,
};

/**
 * Encodes one entry's header: a ustar block, preceded by a PAX `x` header (block plus padded
 * records) only when something does not fit ustar: a path that cannot be split into
 * name + prefix or is not ASCII, a link target over 100 bytes or not ASCII, uid/gid over
 * 0o7777777, size over 0o77777777777, an mtime that is fractional, negative or too big, or
 * xattrs. uname/gname are written empty; mode as given (`& 0o7777`, so 0 stays 0).
 *
 * @throws `ERR_LAYER_FORMAT` for values no tar can hold (negative sizes or ids, NUL in a name).
 */
export function encodeHeader(h: EncodeHeaderInput): Buffer {
  const what = (): string => `cannot write entry ${quoteName(h.name)}`;
  checkUnsigned(h.uid, 'uid', what);
  checkUnsigned(h.gid, 'gid', what);
  checkUnsigned(h.size, 'size', what);
  checkUnsigned(h.mode, 'mode', what);
  if (!Number.isFinite(h.mtime) || Math.abs(h.mtime) > Number.MAX_SAFE_INTEGER) {
    throw formatError(`${what()}: mtime ${h.mtime} is not a time`, { path: h.name });
  }
  const name = encodeName(h.name);
  const linkname = encodeName(h.linkname ?? '');
  if (name.includes(0) || linkname.includes(0)) throw formatError(`${what()}: a name holds a NUL byte`, { path: h.name });

  const pax: Array<[string, Buffer]> = [];
  let nameField = name;
  let prefixField: Buffer | undefined;
  if (!isAscii(name) || name.length > 100) {
    const split = isAscii(name) ? splitUstarName(name) : undefined;
    if (split === undefined) {
      pax.push(['path', name]);
      nameField = truncateUtf8(name, 100);
    } else {
      [prefixField, nameField] = split;
    }
  }
  let linkField = linkname;
  if (!isAscii(linkname) || linkname.length > 100) {
    pax.push(['linkpath', linkname]);
    linkField = truncateUtf8(linkname, 100);
  }
  const fitsId = (v: number): boolean => v <= USTAR_MAX.id;
  if (!fitsId(h.uid)) pax.push(['uid', Buffer.from(String(h.uid))]);
  if (!fitsId(h.gid)) pax.push(['gid', Buffer.from(String(h.gid))]);
  if (h.size > USTAR_MAX.size) pax.push(['size', Buffer.from(String(h.size))]);
  const wholeMtime = Number.isInteger(h.mtime) && h.mtime >= 0 && h.mtime <= USTAR_MAX.size;
  if (!wholeMtime) pax.push(['mtime', Buffer.from(formatPaxTime(h.mtime))]);
  if (h.xattrs !== undefined) {
    for (const [key, value] of Object.entries(h.xattrs)) {
      if (key === '' || key.includes('=') || key.includes('\0')) {
        throw formatError(`${what()}: xattr name ${JSON.stringify(key)} cannot be stored in a PAX record`, { path: h.name });
      }
      pax.push([XATTR_SCHILY + key, Buffer.from(value, 'latin1')]);
    }
  }

  const block: BlockFields = {
    name: nameField,
    prefix: prefixField,
    mode: h.mode & 0o7777,
    uid: fitsId(h.uid) ? h.uid : 0,
    gid: fitsId(h.gid) ? h.gid : 0,
    size: h.size > USTAR_MAX.size ? 0 : h.size,
    mtime: h.mtime >= 0 && h.mtime <= USTAR_MAX.size ? Math.floor(h.mtime) : 0,
    typeflag: TYPEFLAG_OF[h.type],
    linkname: linkField,
    devmajor: h.devmajor ?? 0,
    devminor: h.devminor ?? 0,
  };
  if (pax.length === 0) {
    const out = Buffer.allocUnsafe(BLOCK_SIZE).fill(0);
    writeBlock(out, 0, block);
    return out;
  }
  pax.sort((a, b) => Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0])));
  const data = encodePaxRecords(pax);
  const dataBlocks = paddedSize(data.length);
  const out = Buffer.alloc(BLOCK_SIZE + dataBlocks + BLOCK_SIZE);
  writeBlock(out, 0, {
    name: paxHeaderName(h.name),
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: data.length,
    mtime: 0,
    typeflag: TYPEFLAG.paxLocal,
  });
  data.copy(out, BLOCK_SIZE);
  writeBlock(out, BLOCK_SIZE + dataBlocks, block);
  return out;
}

function checkUnsigned(v: number, field: string, what: () => string): void {
  if (!Number.isSafeInteger(v) || v < 0) throw formatError(`${what()}: ${field} ${v} is not a non-negative integer`, { field });
}

function formatPaxTime(t: number): string {
  if (Number.isInteger(t)) return String(t);
  // String() is exact and shortest, but uses exponents below 1e-6; tar wants plain decimals.
  return Math.abs(t) < 1e-6 ? t.toFixed(9) : String(t);
}

function isAscii(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) if ((b[i] as number) >= 0x80) return false;
  return true;
}

/** Splits a long ASCII name into ustar prefix (≤155) and name (≤100) at a `/`, if possible. */
function splitUstarName(name: Buffer): [Buffer, Buffer] | undefined {
  if (name.length > 256) return undefined;
  for (let i = Math.max(1, name.length - 101); i <= Math.min(155, name.length - 2); i++) {
    if (name[i] === 0x2f) return [name.subarray(0, i), name.subarray(i + 1)];
  }
  return undefined;
}

/** The first ≤ `max` bytes of UTF-8 `b`, cut at a character boundary. */
function truncateUtf8(b: Buffer, max: number): Buffer {
  if (b.length <= max) return b;
  let end = max;
  while (end > 0 && ((b[end] as number) & 0xc0) === 0x80) end--;
  return b.subarray(0, end);
}

/** `PaxHeaders/<basename>`, cut to fit the 100-byte name field. */
function paxHeaderName(name: string): Buffer {
  let trimmed = name;
  while (trimmed.endsWith('/')) trimmed = trimmed.slice(0, -1);
  const base = trimmed.slice(trimmed.lastIndexOf('/') + 1) || '.';
  return Buffer.concat([Buffer.from('PaxHeaders/'), truncateUtf8(encodeName(base), 100 - 11)]);
}

/** Encodes PAX records `"<len> <key>=<value>\n"` (no padding). */
export function encodePaxRecords(records: ReadonlyArray<readonly [string, Buffer | string]>): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of records) {
    const k = encodeName(key);
    const v = typeof value === 'string' ? encodeName(value) : value;
    const body = k.length + v.length + 3; // space, '=', newline
    let len = body + String(body).length;
    if (String(len).length !== String(body).length) len = body + String(len).length;
    parts.push(Buffer.from(`${len} `), k, Buffer.from('='), v, Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

/** `n` rounded up to a whole number of blocks. */
export function paddedSize(n: number): number {
  return Math.ceil(n / BLOCK_SIZE) * BLOCK_SIZE;
}

/** The fields {@link writeBlock} writes, already decided; nothing is validated or normalised. */
export interface BlockFields {
  name: Buffer | string;
  prefix?: Buffer | string | undefined;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  typeflag: number;
  linkname?: Buffer | string | undefined;
  uname?: Buffer | string | undefined;
  gname?: Buffer | string | undefined;
  devmajor?: number | undefined;
  devminor?: number | undefined;
  /** `ustar` (`ustar\0` `00`, the default), `gnu` (`ustar  \0`) or `v7` (no magic). */
  format?: 'ustar' | 'gnu' | 'v7';
  /** Override the checksum (for building corrupt fixtures); `'signed'` writes the signed sum. */
  checksum?: number | 'signed' | undefined;
}

/**
 * Writes one header block into `out[at, at + 512)` exactly as told: names are copied byte for
 * byte (cut to their field), numbers are octal, or GNU base-256 when they do not fit. The tar
 * writer uses it with decided fields; test fixtures use it to build archives no normal writer
 * would (unsafe names, bad checksums, odd typeflags). `out` must be zeroed.
 */
export function writeBlock(out: Buffer, at: number, f: BlockFields): void {
  putString(out, at, 100, f.name);
  putNumber(out, at + 100, 8, f.mode);
  putNumber(out, at + 108, 8, f.uid);
  putNumber(out, at + 116, 8, f.gid);
  putNumber(out, at + 124, 12, f.size);
  putNumber(out, at + 136, 12, f.mtime);
  out[at + 156] = f.typeflag;
  if (f.linkname !== undefined) putString(out, at + 157, 100, f.linkname);
  const format = f.format ?? 'ustar';
  if (format !== 'v7') {
    (format === 'ustar' ? MAGIC_USTAR : MAGIC_GNU).copy(out, at + 257);
    if (f.uname !== undefined) putString(out, at + 265, 32, f.uname);
    if (f.gname !== undefined) putString(out, at + 297, 32, f.gname);
    putNumber(out, at + 329, 8, f.devmajor ?? 0);
    putNumber(out, at + 337, 8, f.devminor ?? 0);
    if (f.prefix !== undefined) putString(out, at + 345, 155, f.prefix);
  }
  let sum = 8 * 0x20;
  for (let i = at; i < at + BLOCK_SIZE; i++) sum += out[i] as number;
  const checksum = f.checksum === 'signed' ? signedChecksum(out, at) : (f.checksum ?? sum);
  putOctal(out, at + 148, 6, checksum & 0o777777);
  out[at + 154] = 0;
  out[at + 155] = 0x20;
}

const MAGIC_USTAR = Buffer.from('ustar\x0000', 'latin1');
const MAGIC_GNU = Buffer.from('ustar  \x00', 'latin1');

function putString(out: Buffer, at: number, length: number, value: Buffer | string): void {
  if (value.length === 0) return;
  const b = typeof value === 'string' ? encodeName(value) : value;
  b.copy(out, at, 0, Math.min(length, b.length));
}

/** `digits` octal digits of `value` (which must fit), zero-padded. */
function putOctal(out: Buffer, at: number, digits: number, value: number): void {
  let v = value;
  for (let i = at + digits - 1; i >= at; i--) {
    out[i] = 0x30 + (v % 8);
    v = Math.floor(v / 8);
  }
}

/** Octal with a NUL terminator; base-256 (big-endian, marker bit) when octal would not fit. */
function putNumber(out: Buffer, at: number, length: number, value: number): void {
  if (value >= 0 && value <= (length === 8 ? USTAR_MAX.id : length === 12 ? USTAR_MAX.size : 8 ** (length - 1) - 1)) {
    putOctal(out, at, length - 1, value);
    out[at + length - 1] = 0;
    return;
  }
  // Two's complement over the field, then the marker bit (negative values keep 0xff bytes).
  let v = value < 0 ? -value - 1 : value;
  for (let i = length - 1; i >= 0; i--) {
    const byte = v % 256;
    out[at + i] = value < 0 ? 0xff - byte : byte;
    v = Math.floor(v / 256);
  }
  out[at] = ((out[at] as number) | 0x80) & 0xff;
}
