/**
 * PAX extended headers (POSIX.1-2001): parsing and encoding `"<len> <key>=<value>\n"` records,
 * and applying PAX local/global records and GNU long names/links over a header block's fields.
 */
import { decodeName, encodeName, quoteName } from './name-encoding.js';
import { formatError, type RawTarHeader } from './header.js';

/** Parsed PAX records, in archive order; a later duplicate key wins. */
export type PaxRecords = Map<string, string>;

/** PAX key prefix of an extended attribute (value: raw bytes). */
export const XATTR_SCHILY = 'SCHILY.xattr.';
/** libarchive's PAX key prefix of an extended attribute (name %-encoded, value base64). */
export const XATTR_LIBARCHIVE = 'LIBARCHIVE.xattr.';

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
  if (
    pick('GNU.sparse.major') !== undefined ||
    pick('GNU.sparse.map') !== undefined ||
    pick('GNU.sparse.size') !== undefined
  ) {
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
    throw formatError(
      `entry ${quoteName(name)} has a bad PAX ${key} ${JSON.stringify(value)}: expected a decimal integer below 2^53`,
      {
        path: name,
        key,
      },
    );
  }
  return n;
}

const PAX_TIME = /^-?[0-9]+(?:\.[0-9]*)?$/;

function paxTime(value: string, name: string): number {
  const n = Number(value);
  if (!PAX_TIME.test(value) || !Number.isFinite(n) || Math.abs(n) > Number.MAX_SAFE_INTEGER) {
    throw formatError(`entry ${quoteName(name)} has a bad PAX mtime ${JSON.stringify(value)}`, {
      path: name,
      key: 'mtime',
    });
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
