/**
 * Builds a {@link LayerIndex} in one streaming pass over a layer blob: the blob is verified
 * against its digest, decompressed (the compression is sniffed, whatever the media type says),
 * hashed for the diffID, copied once as an uncompressed tar when it was compressed, and parsed;
 * every file's sha256 and data offset is recorded on the way. Nothing is buffered whole.
 */
import { randomBytes } from 'node:crypto';
import { Digester, digestHex, type Digest } from '../digest/digest.js';
import { ErrorCodes, LayerkitError, throwIfAborted } from '../errors.js';
import type { Descriptor } from '../oci/types.js';
import type { Store } from '../store/store.js';
import { LAYERS_STATE } from '../store/gc.js';
import { decompressStream, sniffCompression } from '../tar/compression.js';
import { compareTarPaths } from '../tar/path.js';
import { TarParser, type TarParserOptions } from '../tar/reader.js';
import type { TarEntryHeader } from '../tar/types.js';
import { classifyWhiteout } from '../tar/whiteout.js';
import { LayerIndex, typeCode, type LayerIndexData } from './layer-index.js';

/** Options for {@link buildLayerIndex}. */
export interface BuildLayerIndexOptions {
  store: Store;
  /** The layer blob's descriptor (its blob must be in the store). */
  descriptor: Descriptor;
  /** The diffID the image config claims; a different content hash is `ERR_INVALID_MANIFEST`. */
  expectedDiffId?: Digest | undefined;
  /** Reader limits (entries, header sizes, path depth). */
  limits?: TarParserOptions | undefined;
  signal?: AbortSignal | undefined;
}

interface Collected {
  header: TarEntryHeader;
  offset: number;
  hash: string;
}

/** Reads a layer blob once and stores its index (and uncompressed copy) under its diffID. */
export async function buildLayerIndex(options: BuildLayerIndexOptions): Promise<{ index: LayerIndex; created: boolean }> {
  const { store, descriptor, expectedDiffId, limits, signal } = options;
  throwIfAborted(signal);
  const fs = store.fs;
  const where = `layer ${descriptor.digest}`;
  const compression = sniffCompression(headBytes(store, descriptor.digest));
  const copy = compression !== 'none';
  const tmpDir = store.statePath('tmp', `layer-${process.pid}-${randomBytes(6).toString('hex')}`);
  fs.mkdirSync(tmpDir, { recursive: true });
  let fd: number | undefined;
  try {
    if (copy) fd = fs.openSync(`${tmpDir}/data.tar`, 'w', 0o644);
    const diff = new Digester();
    const entries = new Map<string, Collected>();
    const whiteouts = new Set<string>();
    const opaque = new Set<string>();
    let current: Collected | undefined;
    let fileHash: Digester | undefined;
    const parser = new TarParser(
      {
        onEntry(header, dataOffset) {
          const wh = classifyWhiteout(header.path);
          if (wh !== undefined) {
            if (wh.kind === 'whiteout') whiteouts.add(wh.target);
            else if (wh.kind === 'opaque') opaque.add(wh.dir);
            current = undefined;
            fileHash = undefined;
            return;
          }
          current = { header, offset: header.type === 'file' ? dataOffset : 0, hash: '' };
          fileHash = header.type === 'file' ? new Digester() : undefined;
        },
        onData(chunk) {
          fileHash?.update(chunk);
        },
        onEntryEnd() {
          if (current === undefined) return;
          if (fileHash) current.hash = digestHex(fileHash.digest());
          // The last entry for a path wins (duplicates are forbidden but found in the wild).
          entries.delete(current.header.path);
          entries.set(current.header.path, current);
          current = undefined;
          fileHash = undefined;
        },
      },
      limits ?? {},
    );
    try {
      for await (const chunk of decompressStream(store.blobs.open(descriptor.digest, { size: descriptor.size }), signal ? { signal } : {})) {
        diff.update(chunk);
        if (fd !== undefined) writeAll(store, fd, chunk);
        parser.write(chunk);
      }
      parser.end();
    } catch (err) {
      throw withContext(await rootCause(store, descriptor, err), where);
    }
    if (fd !== undefined) {
      if (store.durable) fs.fsyncSync(fd);
      fs.closeSync(fd);
      fd = undefined;
    }
    const diffId = diff.digest();
    if (expectedDiffId !== undefined && diffId !== expectedDiffId) {
      throw new LayerkitError(
        ErrorCodes.ERR_INVALID_MANIFEST,
        `${where}: diffID mismatch: the image config says ${expectedDiffId} but the uncompressed layer hashes to ${diffId}; the image is corrupt`,
        { digest: descriptor.digest, expected: expectedDiffId, found: diffId },
      );
    }
    const data = toIndexData(diffId, diff.size, entries, whiteouts, opaque);
    if (!copy) data.dataBlob = descriptor.digest;
    fs.writeFileSync(`${tmpDir}/index.json`, JSON.stringify(data));
    const target = store.statePath(LAYERS_STATE, digestHex(diffId));
    fs.mkdirSync(store.statePath(LAYERS_STATE), { recursive: true });
    let created = true;
    if (fs.existsSync(`${target}/index.json`)) {
      created = false;
    } else {
      fs.rmSync(target, { recursive: true, force: true });
      try {
        fs.renameSync(tmpDir, target);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
        created = false; // another process finished the same layer first
      }
    }
    fs.rmSync(tmpDir, { recursive: true, force: true });
    const finalData = created ? data : (JSON.parse(fs.readFileSync(`${target}/index.json`, 'utf8')) as LayerIndexData);
    const dataPath = finalData.dataBlob ? store.blobs.path(finalData.dataBlob) : `${target}/data.tar`;
    return { index: new LayerIndex({ data: finalData, fs, dataPath }), created };
  } catch (err) {
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(tmpDir, { recursive: true, force: true });
    throw err;
  }
}

function toIndexData(diffId: Digest, tarSize: number, entries: Map<string, Collected>, whiteouts: Set<string>, opaque: Set<string>): LayerIndexData {
  const paths = [...entries.keys()].filter((p) => p !== '' || entries.get(p)!.header.type === 'directory').sort(compareTarPaths);
  const implicit = new Set<string>();
  for (const p of [...paths, ...whiteouts, ...opaque]) {
    for (let i = p.lastIndexOf('/'); i > 0; i = p.lastIndexOf('/', i - 1)) {
      const parent = p.slice(0, i);
      if (entries.has(parent) || implicit.has(parent)) break;
      implicit.add(parent);
    }
  }
  const data: LayerIndexData = {
    version: 1,
    diffId,
    tarSize,
    implicitDirs: [...implicit].sort(compareTarPaths),
    paths,
    types: '',
    modes: [],
    uids: [],
    gids: [],
    mtimes: [],
    sizes: [],
    offsets: [],
    hashes: [],
    links: {},
    devices: {},
    xattrs: {},
    whiteouts: [...whiteouts].sort(compareTarPaths),
    opaqueDirs: [...opaque].sort(compareTarPaths),
  };
  let types = '';
  paths.forEach((p, i) => {
    const { header, offset, hash } = entries.get(p)!;
    types += typeCode(header.type);
    data.modes.push(header.mode);
    data.uids.push(header.uid);
    data.gids.push(header.gid);
    data.mtimes.push(header.mtime);
    data.sizes.push(header.type === 'file' ? header.size : 0);
    data.offsets.push(offset);
    data.hashes.push(hash);
    if (header.linkTarget !== undefined) data.links[i] = header.linkTarget;
    if (header.type === 'char' || header.type === 'block') data.devices[i] = [header.devmajor ?? 0, header.devminor ?? 0];
    if (header.xattrs && Object.keys(header.xattrs).length > 0) data.xattrs[i] = header.xattrs;
  });
  data.types = types;
  return data;
}

function headBytes(store: Store, digest: Digest): Buffer {
  let fd: number;
  try {
    fd = store.fs.openSync(store.blobs.path(digest), 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new LayerkitError(ErrorCodes.ERR_NOT_FOUND, `layer blob ${digest} is not in the store; re-import the image`, { digest });
    }
    throw err;
  }
  try {
    const buf = Buffer.alloc(8);
    return buf.subarray(0, store.fs.readSync(fd, buf, 0, 8, 0));
  } finally {
    store.fs.closeSync(fd);
  }
}

function writeAll(store: Store, fd: number, chunk: Buffer): void {
  let off = 0;
  while (off < chunk.length) off += store.fs.writeSync(fd, chunk, off, chunk.length - off);
}

/**
 * A damaged blob usually breaks gzip or the tar before its digest can be checked at the end: when
 * reading the layer failed for any reason but a digest, size or abort error, re-hash the blob and
 * report a mismatch (the cause) rather than the garbled data it produced.
 */
async function rootCause(store: Store, descriptor: Descriptor, err: unknown): Promise<unknown> {
  if (err instanceof LayerkitError && (err.code === ErrorCodes.EINTEGRITY || err.code === ErrorCodes.EBADSIZE || err.code === ErrorCodes.ERR_ABORTED)) return err;
  const problem = await store.blobs.check(descriptor.digest, { size: descriptor.size }).catch(() => undefined);
  if (problem === undefined) return err;
  return new LayerkitError(problem.code, problem.message, problem.data, { cause: err });
}

function withContext(err: unknown, where: string): unknown {
  if (err instanceof LayerkitError && !err.message.startsWith(where)) {
    return new LayerkitError(err.code, `${where}: ${err.message}`, { ...err.data, layer: where.slice(6) }, { cause: err });
  }
  return err;
}
