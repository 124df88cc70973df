/**
 * ADD's local archive rule: a regular-file source whose content is a tar (plain or gzip; the
 * name does not matter) is unpacked into the destination, `tar -x` style, instead of copied.
 * Entry names are normalised by layerkit's tar reader (escapes refused) and written through the
 * union view, so nothing can land outside the image.
 */
import { gunzipSync } from '#platform';
import { posix } from 'node:path';
import { ErrorCodes, LayerkitError } from '../../errors.js';
import { stepError } from '../step-error.js';
import { decodeHeader } from '../../tar/header.js';
import { sniffCompression } from '../../tar/compression.js';
import { readTarEntries } from '../../tar/read-tar-entries.js';
import type { UnionFS } from '../../union/union-fs.js';

/** The uncompressed tar bytes when `data` is a (possibly gzip-compressed) tar, else undefined. */
export function asTarArchive(data: Buffer, what: string): Buffer | undefined {
  const compression = sniffCompression(data.subarray(0, 8));
  let tar = data;
  if (compression === 'gzip') {
    try {
      const out = gunzipSync(data);
      tar = Buffer.isBuffer(out) ? out : Buffer.from(out.buffer, out.byteOffset, out.byteLength);
    } catch {
      return undefined;
    }
  } else if (compression !== 'none') {
    throw stepError(
      ErrorCodes.ERR_UNSUPPORTED_COMPRESSION,
      `${what}: the archive is ${compression}-compressed, which this runtime cannot decompress; recompress it with gzip or add it unpacked`,
      { compression },
    );
  }
  if (tar.length < 512) return undefined;
  try {
    return decodeHeader(tar, 0) ? tar : undefined;
  } catch {
    return undefined;
  }
}

/** Unpacks tar bytes into `dest` in the view. `owner` (from `--chown`) replaces the archive's owners. */
export async function unpackArchive(
  fs: UnionFS,
  tar: Buffer,
  dest: string,
  owner: { uid: number; gid: number } | undefined,
  what: string,
): Promise<void> {
  if (!fs.existsSync(dest)) fs.mkdirSync(dest, { recursive: true, mode: 0o755 });
  const dirTimes: Array<[string, number]> = [];
  for await (const { header, data } of readTarEntries([tar])) {
    if (header.path === '') continue;
    if (posix.basename(header.path).startsWith('.wh.')) {
      throw new LayerkitError(
        ErrorCodes.ERR_UNSAFE_PATH,
        `${what}: archive entry ${header.path} has a name reserved for whiteouts (.wh.)`,
        { path: header.path },
      );
    }
    const target = posix.join(dest, header.path);
    const parent = posix.dirname(target);
    if (!fs.existsSync(parent)) fs.mkdirSync(parent, { recursive: true, mode: 0o755 });
    let existing;
    try {
      existing = fs.lstatSync(target);
    } catch {
      existing = undefined;
    }
    if (existing && !(existing.isDirectory() && header.type === 'directory'))
      fs.rmSync(target, { recursive: true, force: true });
    switch (header.type) {
      case 'directory':
        if (!existing?.isDirectory()) fs.mkdirSync(target, { mode: 0o755 });
        break;
      case 'file':
        fs.writeFileSync(target, data);
        break;
      case 'symlink':
        fs.symlinkSync(header.linkTarget ?? '', target);
        break;
      case 'hardlink':
        fs.linkSync(posix.join(dest, header.linkTarget ?? ''), target);
        continue;
      default:
        continue; // devices and fifos: the view has no mknod
    }
    fs.lchownSync(target, owner?.uid ?? header.uid, owner?.gid ?? header.gid);
    if (header.type !== 'symlink') fs.chmodSync(target, header.mode);
    if (header.type === 'directory') dirTimes.push([target, header.mtime]);
    else fs.lutimesSync(target, header.mtime, header.mtime);
  }
  for (const [p, t] of dirTimes.reverse()) fs.utimesSync(p, t, t);
}
