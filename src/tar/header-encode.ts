/**
 * The tar header block codec, encoding side. {@link encodeHeader} is deterministic: a ustar
 * block, preceded by a PAX `x` header only when a value does not fit ustar. {@link writeBlock}
 * writes one block exactly as told, for the writer and for hostile test fixtures.
 */
import type { EntryType } from './entry.js';
import { BLOCK_SIZE, TYPEFLAG, USTAR_MAX, formatError, paddedSize, signedChecksum } from './header.js';
import { encodeName, quoteName } from './name-encoding.js';
import { XATTR_SCHILY, encodePaxRecords } from './pax.js';

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
  if (name.includes(0) || linkname.includes(0))
    throw formatError(`${what()}: a name holds a NUL byte`, { path: h.name });

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
        throw formatError(`${what()}: xattr name ${JSON.stringify(key)} cannot be stored in a PAX record`, {
          path: h.name,
        });
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
  if (!Number.isSafeInteger(v) || v < 0)
    throw formatError(`${what()}: ${field} ${v} is not a non-negative integer`, { field });
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
