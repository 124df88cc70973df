/**
 * The indexing half of a layer pass: fed the bytes of an uncompressed layer tar as they go by
 * (while a blob is stored, while a layer is written), it parses the entries, hashes every file,
 * keeps an uncompressed copy when the blob is compressed, and finally stores the LayerIndex under
 * the layer's diffID. Feeding it is synchronous, so it can ride along any pass over the bytes:
 * `buildLayerIndex` (reading a stored blob), `addLayer` (writing one), an import (storing one).
 */
import { pid, randomHex } from '#platform';
import { Digester, digestHex, type Digest } from '../digest/digest.js';
import { ErrorCodes, LayerkitError } from '../errors.js';
import type { Store } from '../store/store.js';
import { LAYERS_STATE, readLayerIndexData } from './layer-state.js';
import { compareTarPaths } from '../tar/path.js';
import { TarParser, type TarParserOptions } from '../tar/reader.js';
import type { TarEntryHeader } from '../tar/types.js';
import { classifyWhiteout } from '../tar/whiteout.js';
import { LayerIndex, typeCode, type LayerIndexData } from './layer-index.js';

/** Files at least this large get no sha256 at index time (see `fileSha256` in image/listing.ts). */
export const LAZY_FILE_HASH_BYTES = 64 * 1024 * 1024;
/** Options for {@link LayerIndexer}. */
export interface LayerIndexerOptions {
  store: Store;
  /** Keep an uncompressed copy of the tar (needed when the blob is compressed). */
  copy: boolean;
  /** Reader limits (entries, header sizes, path depth). */
  limits?: TarParserOptions | undefined;
}

/** What {@link LayerIndexer.finish} needs to know about the layer. */
export interface FinishLayerIndexOptions {
  /** sha256 of the uncompressed tar the indexer was fed. */
  diffId: Digest;
  /** When the blob itself is the uncompressed tar (no copy kept): its digest. */
  dataBlob?: Digest | undefined;
}

interface Collected {
  header: TarEntryHeader;
  offset: number;
  hash: string;
}

/**
 * Indexes one layer tar fed chunk by chunk. Call {@link write} with every byte of the
 * uncompressed tar in order, then {@link finish} (or {@link abort} to drop everything). `write`
 * throws the tar reader's errors (`ERR_LAYER_FORMAT`, `ERR_UNSAFE_PATH`, `ERR_LIMIT_EXCEEDED`).
 */
export class LayerIndexer {
  readonly #store: Store;
  readonly #tmpDir: string;
  readonly #parser: TarParser;
  readonly #entries = new Map<string, Collected>();
  readonly #whiteouts = new Set<string>();
  readonly #opaque = new Set<string>();
  #fd: number | undefined;
  #current: Collected | undefined;
  #fileHash: Digester | undefined;
  #size = 0;
  #hashed = 0;
  #closed = false;
  #ended = false;

  constructor({ store, copy, limits }: LayerIndexerOptions) {
    this.#store = store;
    this.#tmpDir = store.statePath('tmp', `layer-${pid}-${randomHex(6)}`);
    store.fs.mkdirSync(this.#tmpDir, { recursive: true });
    try {
      if (copy) this.#fd = store.fs.openSync(`${this.#tmpDir}/data.tar`, 'w', 0o644);
    } catch (err) {
      store.fs.rmSync(this.#tmpDir, { recursive: true, force: true });
      throw err;
    }
    this.#parser = new TarParser(
      {
        onEntry: (header, dataOffset) => {
          const wh = classifyWhiteout(header.path);
          if (wh !== undefined) {
            if (wh.kind === 'whiteout') this.#whiteouts.add(wh.target);
            else if (wh.kind === 'opaque') this.#opaque.add(wh.dir);
            this.#current = undefined;
            this.#fileHash = undefined;
            return;
          }
          this.#current = { header, offset: header.type === 'file' ? dataOffset : 0, hash: '' };
          // Big files are hashed lazily, on first need (listings), not here: their bytes are already
          // covered by the layer's own digest, and a second full sha256 pass is what would make
          // importing one large file several times slower than extracting it.
          this.#fileHash = header.type === 'file' && header.size < LAZY_FILE_HASH_BYTES ? new Digester() : undefined;
        },
        onData: (chunk) => {
          if (this.#fileHash === undefined) return;
          this.#fileHash.update(chunk);
          this.#hashed += chunk.length;
        },
        onEntryEnd: () => {
          const current = this.#current;
          if (current === undefined) return;
          if (this.#fileHash) current.hash = digestHex(this.#fileHash.digest());
          // The last entry for a path wins (duplicates are forbidden but found in the wild).
          this.#entries.delete(current.header.path);
          this.#entries.set(current.header.path, current);
          this.#current = undefined;
          this.#fileHash = undefined;
        },
      },
      limits ?? {},
    );
  }

  /** Bytes fed so far. */
  get size(): number {
    return this.#size;
  }

  /** Bytes of file data hashed so far (big files are hashed lazily, later: not counted). */
  get hashedBytes(): number {
    return this.#hashed;
  }

  /** Feeds the next bytes of the uncompressed tar. */
  write(chunk: Buffer): void {
    if (this.#closed)
      throw new LayerkitError(ErrorCodes.ERR_LAYER_FORMAT, 'LayerIndexer: write() after finish() or abort()');
    this.#size += chunk.length;
    if (this.#fd !== undefined) {
      const fs = this.#store.fs;
      for (let off = 0; off < chunk.length; ) off += fs.writeSync(this.#fd, chunk, off, chunk.length - off);
    }
    this.#parser.write(chunk);
  }

  /** Checks that the tar ended properly (throws the reader's error if not). `finish` calls it too. */
  end(): void {
    if (this.#ended) return;
    this.#parser.end();
    this.#ended = true;
  }

  /**
   * Ends the tar, stores the index (and copy) under `diffId` and returns it. When the store
   * already holds that layer's index (another import got there first), the stored one is kept
   * and returned with `created: false`.
   */
  finish({ diffId, dataBlob }: FinishLayerIndexOptions): { index: LayerIndex; created: boolean } {
    const store = this.#store;
    const fs = store.fs;
    try {
      this.end();
      this.#closeCopy(true);
      this.#closed = true;
      const data = toIndexData(diffId, this.#size, this.#entries, this.#whiteouts, this.#opaque);
      if (dataBlob !== undefined) data.dataBlob = dataBlob;
      fs.writeFileSync(`${this.#tmpDir}/index.json`, JSON.stringify(data));
      const target = store.statePath(LAYERS_STATE, digestHex(diffId));
      fs.mkdirSync(store.statePath(LAYERS_STATE), { recursive: true });
      let created = true;
      if (fs.existsSync(`${target}/index.json`)) {
        created = false;
      } else {
        fs.rmSync(target, { recursive: true, force: true });
        try {
          fs.renameSync(this.#tmpDir, target);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
          created = false; // another process finished the same layer first
        }
      }
      fs.rmSync(this.#tmpDir, { recursive: true, force: true });
      const finalData = created ? data : (readLayerIndexData(store, target) ?? data);
      const dataPath = finalData.dataBlob ? store.blobs.path(finalData.dataBlob) : `${target}/data.tar`;
      return { index: new LayerIndex({ data: finalData, fs, dataPath }), created };
    } catch (err) {
      this.abort();
      throw err;
    }
  }

  /** Drops the work (temp files); the indexer cannot be used afterwards. */
  abort(): void {
    this.#closed = true;
    try {
      this.#closeCopy(false);
    } finally {
      this.#store.fs.rmSync(this.#tmpDir, { recursive: true, force: true });
    }
  }

  #closeCopy(sync: boolean): void {
    const fd = this.#fd;
    if (fd === undefined) return;
    this.#fd = undefined;
    try {
      if (sync && this.#store.durable) this.#store.fs.fsyncSync(fd);
    } finally {
      this.#store.fs.closeSync(fd);
    }
  }
}

function toIndexData(
  diffId: Digest,
  tarSize: number,
  entries: Map<string, Collected>,
  whiteouts: Set<string>,
  opaque: Set<string>,
): LayerIndexData {
  const paths = [...entries.keys()]
    .filter((p) => p !== '' || entries.get(p)!.header.type === 'directory')
    .sort(compareTarPaths);
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
    if (header.type === 'char' || header.type === 'block')
      data.devices[i] = [header.devmajor ?? 0, header.devminor ?? 0];
    if (header.xattrs && Object.keys(header.xattrs).length > 0) data.xattrs[i] = header.xattrs;
  });
  data.types = types;
  return data;
}
