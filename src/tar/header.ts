/**
 * The tar header block codec, decoding side: one 512-byte ustar/GNU/v7 block to fields, GNU
 * base-256 numbers, typeflags. Pure functions; `reader.ts` drives them, `pax.ts` applies the
 * extended headers and `header-encode.ts` writes blocks.
 *
 * Decoding is lenient where real archives differ (octal ended by NUL or space, base-256,
 * signed or unsigned checksums, mode with file-type bits) and strict where guessing would hide
 * corruption (bad checksum, bad digits, unknown or sparse typeflags).
 */
import { ErrorCodes, LayerkitError } from '../errors.js';
import type { EntryType } from './entry.js';
import { decodeName, quoteName } from './name-encoding.js';

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

/** An `ERR_LAYER_FORMAT` error (the reader adds where it happened). */
export function formatError(message: string, data: Record<string, unknown> = {}): LayerkitError {
  return new LayerkitError(ErrorCodes.ERR_LAYER_FORMAT, message, data);
}

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
export function signedChecksum(buf: Uint8Array, at: number): number {
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
      throw formatError(
        `bad tar header: the ${field} field holds ${JSON.stringify(String.fromCharCode(c))}, not an octal digit`,
        {
          field,
        },
      );
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

/** `n` rounded up to a whole number of blocks. */
export function paddedSize(n: number): number {
  return Math.ceil(n / BLOCK_SIZE) * BLOCK_SIZE;
}
