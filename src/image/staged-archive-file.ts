/**
 * An image archive on disk (oci-archive, docker-archive), staged the way a layout folder is:
 * one pass over the tar's *headers* (member data is skipped by seeking, not read) makes a table
 * of members and where their bytes are; the importer then stores only the blobs the images it
 * imports need, each read straight from its place in the archive. So a big layer is read once,
 * by the pass that hashes and indexes it, and blobs of other platforms are never read at all.
 *
 * A stream (stdin) cannot seek and goes through `stageTar` instead; so does a compressed archive.
 * Member names are untrusted: they only ever select bytes to hash; nothing is written by name.
 */
import { posix } from 'node:path';
import nodeFs from 'node:fs';
import type { Digest } from '../digest/digest.js';
import { ErrorCodes, LayerkitError, throwIfAborted } from '../errors.js';
import type { Lease, Store } from '../store/store.js';
import { TarParser } from '../tar/reader.js';
import {
  archiveError,
  archivePath,
  emptyArchiveError,
  METADATA_LIMIT,
  readChunks,
  resolveMember,
  stageMember,
  type StagedSource,
} from './staged-source.js';

/** Where a member's bytes are in the archive. */
interface Member {
  offset: number;
  size: number;
}

/** The members of an archive: regular files by path, and links (symlinks resolved to paths). */
interface MemberTable {
  files: Map<string, Member>;
  links: Map<string, string>;
}

/** Header reads are this large: small members (JSON) come along with their headers. */
const SCAN_CHUNK = 64 * 1024;

/** Options for {@link stageArchiveFile}. */
export interface StageArchiveFileOptions {
  store: Store;
  /** The archive file (uncompressed tar). */
  path: string;
  lease: Lease;
  /** Where to record the blobs and layer states this import creates (for its rollback). */
  added?: Set<Digest> | undefined;
  indexed?: Set<Digest> | undefined;
  signal?: AbortSignal | undefined;
  /** Called with the number of archive bytes read, as they are read. */
  onBytes?: ((n: number) => void) | undefined;
}

/** Reads an archive's member table and returns a staged view that stores blobs on demand. */
export async function stageArchiveFile({
  store,
  path,
  lease,
  signal,
  onBytes,
  added = new Set<Digest>(),
  indexed = new Set<Digest>(),
}: StageArchiveFileOptions): Promise<StagedSource> {
  const where = path;
  const table = await scanMembers(path, signal, onBytes);
  const staged = new Map<string, Promise<{ digest: Digest; size: number }>>();

  const resolve = (name: string): string => resolveMember(table.links, name, where);

  const stage = async (member: string, at: Member): Promise<{ digest: Digest; size: number }> => {
    throwIfAborted(signal);
    const chunks = readChunks(path, { start: at.offset, end: at.offset + at.size, onBytes });
    return stageMember({ store, lease, added, indexed }, chunks, { member, where, size: at.size, signal });
  };

  return {
    where,
    store,
    added,
    indexed,
    file: (name) => {
      const member = resolve(name);
      const at = table.files.get(member);
      if (at === undefined) return undefined;
      if (at.size > METADATA_LIMIT) {
        throw new LayerkitError(
          ErrorCodes.ERR_ARCHIVE_FORMAT,
          `${where}: member ${member} is larger than ${METADATA_LIMIT} bytes`,
          { path: member },
        );
      }
      return readRange(path, at);
    },
    blob: (name) => {
      const member = resolve(name);
      const at = table.files.get(member);
      if (at === undefined) return Promise.resolve(undefined);
      // Asked again (a manifest is read after it is staged): the stored blob answers.
      let info = staged.get(member);
      if (info === undefined) {
        info = stage(member, at);
        staged.set(member, info);
        info.catch(() => staged.delete(member));
      }
      return info;
    },
  };
}

/**
 * One pass over the archive's headers: each read starts where the parser stands, and a member's
 * data is skipped by moving the position past it. The last member of a name wins, as in tar.
 */
async function scanMembers(
  path: string,
  signal: AbortSignal | undefined,
  onBytes: ((n: number) => void) | undefined,
): Promise<MemberTable> {
  const where = path;
  const table: MemberTable = { files: new Map(), links: new Map() };
  const handle = await nodeFs.promises.open(path, 'r');
  let entries = 0;
  try {
    const size = (await handle.stat()).size;
    const parser = new TarParser({
      onEntry: (header, dataOffset) => {
        entries++;
        const member = archivePath(header.rawName, where);
        table.files.delete(member);
        table.links.delete(member);
        if (header.type === 'symlink')
          table.links.set(member, posix.join(posix.dirname(member), header.linkTarget ?? ''));
        else if (header.type === 'hardlink') table.links.set(member, header.linkTarget ?? '');
        else if (header.type === 'file') table.files.set(member, { offset: dataOffset, size: header.size });
      },
    });
    const buffer = Buffer.allocUnsafe(SCAN_CHUNK);
    try {
      while (!parser.done) {
        throwIfAborted(signal);
        const { bytesRead } = await handle.read(buffer, 0, SCAN_CHUNK, parser.offset);
        if (bytesRead === 0) break;
        onBytes?.(bytesRead);
        parser.write(buffer.subarray(0, bytesRead));
        const skip = parser.dataRemaining;
        if (skip > 0 && parser.offset + skip > size) {
          throw new LayerkitError(
            ErrorCodes.ERR_ARCHIVE_FORMAT,
            `${where}: the archive is truncated: its last member needs ${parser.offset + skip - size} more bytes than the file has`,
            { path: where },
          );
        }
        parser.skipData();
      }
      parser.end();
    } catch (err) {
      throw archiveError(err, where, entries);
    }
  } finally {
    await handle.close();
  }
  if (entries === 0) throw emptyArchiveError(where);
  return table;
}

/** A small member's bytes. */
function readRange(path: string, at: Member): Buffer {
  const out = Buffer.allocUnsafe(at.size);
  const fd = nodeFs.openSync(path, 'r');
  try {
    let got = 0;
    while (got < at.size) {
      const n = nodeFs.readSync(fd, out, got, at.size - got, at.offset + got);
      if (n === 0)
        throw new LayerkitError(
          ErrorCodes.ERR_ARCHIVE_FORMAT,
          `${path}: the archive shrank while it was read (member at byte ${at.offset})`,
          { path },
        );
      got += n;
    }
  } finally {
    nodeFs.closeSync(fd);
  }
  return out;
}
