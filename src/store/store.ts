/**
 * The store: an OCI image layout on disk (or in memory) plus layerkit's private state in one
 * folder beside the blobs. `skopeo inspect oci:STORE:TAG` and `umoci unpack --image STORE:TAG`
 * read it as it is.
 *
 * ```
 * STORE/oci-layout  STORE/index.json  STORE/blobs/sha256/<hex>
 * STORE/layerkit/   tmp/ locks/ leases/ roots/ layers/ cache/ containers/ ...
 * ```
 */
import { join as joinNative, resolve as resolvePath, dirname, basename } from 'node:path';
import { homedir, pid, platformReady, randomHex } from '#platform';
import type { Digest } from '../digest/digest.js';
import { ErrorCodes, LayerkitError } from '../errors.js';
import type { Descriptor, ImageIndex } from '../oci/types.js';
import { readRoots, removeRoot, setRoot, type StoreRoot } from './roots.js';
import { diskFs, memoryFs, type StoreFs } from './backend.js';
import { writeFileAtomic } from './atomic.js';
import { BlobStore } from './blobs.js';
import { withLock } from './lock.js';
import { appendLease, LEASES_FOLDER, openLeaseFile } from './leases.js';
import {
  emptyIndex,
  parseIndexJson,
  refEntries,
  resolveInIndex,
  withTag,
  withoutTag,
  type RefEntry,
  type Resolved,
} from './refs.js';

/** The folder beside `blobs/` that holds layerkit's own state. */
export const STATE_DIR = 'layerkit';

/** Options for {@link openStore}. */
export interface OpenStoreOptions {
  /** The store's folder (an OCI image layout). Default: `$LAYERKIT_STORE`, else a per-user data folder. */
  root?: string;
  /** Keep the store in memory (a memfs volume) instead of on disk. */
  memory?: boolean;
  /** Use this filesystem instead (node:fs-compatible). */
  fs?: StoreFs;
  /** Create the layout when the folder is missing or empty (default true). */
  create?: boolean;
  /** fsync files before renaming them into place (default true on disk, false in memory). */
  durable?: boolean;
}

/** The default store folder: `$LAYERKIT_STORE`, else `$XDG_DATA_HOME/layerkit`, else the platform's user data folder. */
export function defaultStorePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.LAYERKIT_STORE) return env.LAYERKIT_STORE;
  if (process.platform === 'win32')
    return joinNative(env.LOCALAPPDATA ?? joinNative(homedir(), 'AppData', 'Local'), 'layerkit');
  if (process.platform === 'darwin') return joinNative(homedir(), 'Library', 'Application Support', 'layerkit');
  return joinNative(env.XDG_DATA_HOME ?? joinNative(homedir(), '.local', 'share'), 'layerkit');
}

/** True when `root` holds a store (an OCI image layout) on Node's filesystem, without opening or creating one. */
export function storeExists(root: string): boolean {
  return diskFs().existsSync(`${root}/oci-layout`);
}

/**
 * Opens (and by default creates) a store.
 * @example const store = await openStore({ root: './store' });
 * @example const scratch = await openStore({ memory: true });
 */
export async function openStore(options: OpenStoreOptions = {}): Promise<Store> {
  await platformReady();
  const memory = options.memory === true;
  const fs = options.fs ?? (memory ? memoryFs() : diskFs());
  const root = canonicalRoot(fs, options.root ?? (memory ? '/store' : defaultStorePath()));
  const store = new Store({ fs, root, durable: options.durable ?? !memory, memory });
  store.init(options.create ?? true);
  return store;
}

/**
 * The one spelling of a store's folder: absolute, symlinks resolved (as far as the path exists), no
 * trailing slash. Locks are files under it, so two spellings of one store must become one path.
 */
function canonicalRoot(fs: StoreFs, root: string): string {
  let rest = '';
  let head = resolvePath(root);
  for (;;) {
    try {
      const real = fs.realpathSync(head) as string;
      return rest === '' ? real : `${real === '/' ? '' : real}${rest}`;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || head === dirname(head)) return resolvePath(root);
      rest = `/${basename(head)}${rest}`;
      head = dirname(head);
    }
  }
}

/** A lease keeps blobs that are written but not yet referenced safe from `gc`. */
export interface Lease {
  /** Protects these digests until the lease is released. */
  add(...digests: Digest[]): void;
}

/** An OCI layout plus layerkit's private state. */
export class Store {
  /** The filesystem the store lives on. */
  readonly fs: StoreFs;
  /** The store's folder. */
  readonly root: string;
  /** True for an in-memory store. */
  readonly memory: boolean;
  /** Content-addressed blobs. */
  readonly blobs: BlobStore;
  readonly #durable: boolean;

  /** @internal Use {@link openStore}. */
  constructor(options: { fs: StoreFs; root: string; durable: boolean; memory: boolean }) {
    this.fs = options.fs;
    this.root = options.root;
    this.memory = options.memory;
    this.#durable = options.durable;
    this.blobs = new BlobStore({ fs: this.fs, root: this.root, tmpDir: this.statePath('tmp'), durable: this.#durable });
  }

  /** @internal Creates or checks the layout. */
  init(create: boolean): void {
    const { fs, root } = this;
    const layoutFile = `${root}/oci-layout`;
    if (!fs.existsSync(layoutFile)) {
      const exists = fs.existsSync(root);
      const empty = !exists || (fs.readdirSync(root) as string[]).length === 0;
      if (!create || !empty) {
        throw new LayerkitError(
          ErrorCodes.ERR_STORE_CORRUPT,
          exists
            ? `${root} is not an OCI image layout (no oci-layout file) and is not empty; choose an empty folder for the store`
            : `${root} does not exist`,
          { path: root },
        );
      }
      fs.mkdirSync(`${root}/blobs/sha256`, { recursive: true });
      for (const dir of ['tmp', 'locks', 'leases']) fs.mkdirSync(this.statePath(dir), { recursive: true });
      if (!fs.existsSync(`${root}/index.json`)) this.#writeIndexFile(emptyIndex());
      writeFileAtomic({
        fs,
        tmpDir: this.statePath('tmp'),
        path: layoutFile,
        data: '{"imageLayoutVersion":"1.0.0"}',
        durable: this.#durable,
      });
    } else {
      let version: unknown;
      try {
        version = (JSON.parse(fs.readFileSync(layoutFile, 'utf8')) as { imageLayoutVersion?: unknown })
          .imageLayoutVersion;
      } catch (err) {
        throw new LayerkitError(
          ErrorCodes.ERR_STORE_CORRUPT,
          `${layoutFile} is not valid JSON`,
          { path: layoutFile },
          { cause: err },
        );
      }
      if (version !== '1.0.0') {
        throw new LayerkitError(
          ErrorCodes.ERR_STORE_CORRUPT,
          `${layoutFile} has imageLayoutVersion ${JSON.stringify(version)}; only 1.0.0 is supported`,
          { path: layoutFile },
        );
      }
      fs.mkdirSync(`${root}/blobs/sha256`, { recursive: true });
      for (const dir of ['tmp', 'locks', 'leases']) fs.mkdirSync(this.statePath(dir), { recursive: true });
      if (!fs.existsSync(`${root}/index.json`)) this.#writeIndexFile(emptyIndex());
    }
  }

  /** @internal A path inside layerkit's private state folder. */
  statePath(...parts: string[]): string {
    return [this.root, STATE_DIR, ...parts].join('/');
  }

  /** @internal Writes a private state file atomically. */
  writeState(relative: string, data: string | Uint8Array, options: { durable?: boolean } = {}): void {
    writeFileAtomic({
      fs: this.fs,
      tmpDir: this.statePath('tmp'),
      path: this.statePath(relative),
      data,
      // Atomic either way (temp file and rename); fsync only where a crash must not lose the file.
      durable: this.#durable && options.durable !== false,
    });
  }

  /** @internal Reads a private state file, or undefined when it does not exist. */
  readState(relative: string): Buffer | undefined {
    try {
      return this.fs.readFileSync(this.statePath(relative));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** @internal Removes a private state file or folder (no error when missing). */
  removeState(relative: string): void {
    this.fs.rmSync(this.statePath(relative), { recursive: true, force: true });
  }

  /** @internal Names in a private state folder (empty when missing). */
  listState(relative: string): string[] {
    try {
      return (this.fs.readdirSync(this.statePath(relative)) as string[]).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  /** Runs `fn` holding the named store lock (crash-safe: a dead owner's lock is taken over). */
  async withLock<T>(
    name: string,
    fn: () => Promise<T>,
    options: { timeoutMs?: number; signal?: AbortSignal; onBusy?: () => void } = {},
  ): Promise<T> {
    this.fs.mkdirSync(this.statePath('locks'), { recursive: true });
    return withLock(
      { fs: this.fs, path: this.statePath('locks', `${name}.lock`), queues: this.#lockQueues, ...options },
      fn,
    );
  }

  readonly #lockQueues = new Map<string, Promise<unknown>>();
  readonly #memo = new Map<symbol, unknown>();

  /**
   * @internal A value kept for the life of this handle (the layer-index cache lives here), made by
   * `make` on first use. Upper modules key it with their own symbol, so the store need not know them.
   */
  memo<T>(key: symbol, make: () => T): T {
    if (!this.#memo.has(key)) this.#memo.set(key, make());
    return this.#memo.get(key) as T;
  }

  /**
   * Runs `fn` with a lease: blobs added to it are safe from a concurrent `gc` until `fn` settles
   * (and until this process dies, if it crashes first). A lease is also a shared hold on the gc gate:
   * it waits while a gc runs in another process, and a gc in another process waits for it (a gc in
   * this process marks this process's leases instead).
   */
  async withLease<T>(fn: (lease: Lease) => Promise<T>, options: { signal?: AbortSignal } = {}): Promise<T> {
    const name = `${pid}-${randomHex(6)}.json`;
    const digests = new Set<Digest>();
    const lease: Lease = {
      add: (...ds) => {
        const fresh = ds.filter((d) => !digests.has(d));
        for (const d of fresh) digests.add(d);
        appendLease(this, name, fresh);
      },
    };
    // A shared hold on the gc gate: waits while a gc runs in another process, then announces itself.
    await openLeaseFile(this, name, options.signal);
    this.#activeLeases.add(digests);
    try {
      return await fn(lease);
    } finally {
      this.#activeLeases.delete(digests);
      this.removeState(`${LEASES_FOLDER}/${name}`);
    }
  }

  readonly #activeLeases = new Set<Set<Digest>>();

  /** Digests protected by this process's live leases. */
  activeLeaseDigests(): Set<Digest> {
    const out = new Set<Digest>();
    for (const s of this.#activeLeases) for (const d of s) out.add(d);
    return out;
  }

  // ---- refs (index.json) ----

  /** @internal The text of `index.json` as it is on disk ('' when there is none): what a build memo compares. */
  readIndexText(): string {
    try {
      return this.fs.readFileSync(`${this.root}/index.json`, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
      throw err;
    }
  }

  /** The parsed `index.json`. */
  readIndex(): ImageIndex {
    const file = `${this.root}/index.json`;
    let text: string;
    try {
      text = this.fs.readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyIndex();
      throw err;
    }
    return parseIndexJson(text, file);
  }

  #writeIndexFile(index: ImageIndex): void {
    writeFileAtomic({
      fs: this.fs,
      tmpDir: this.statePath('tmp'),
      path: `${this.root}/index.json`,
      data: JSON.stringify(index),
      durable: this.#durable,
    });
  }

  /** Rewrites `index.json` under the store lock: `update` gets the current index and returns the new one. */
  async updateIndex<T>(update: (index: ImageIndex) => { index: ImageIndex; result: T }): Promise<T> {
    return this.withLock('index', async () => {
      const { index, result } = update(this.readIndex());
      this.#writeIndexFile(index);
      return result;
    });
  }

  /** Every named ref in `index.json`, in file order. */
  listRefs(): RefEntry[] {
    return refEntries(this.readIndex());
  }

  /**
   * Resolves a ref name, a digest or a unique digest prefix to its `index.json` descriptor.
   * Throws `ERR_NOT_FOUND` (naming the ref) when nothing matches.
   */
  resolveRef(query: string): Resolved {
    const found = resolveInIndex(this.readIndex(), query);
    if (found === undefined) {
      throw new LayerkitError(
        ErrorCodes.ERR_NOT_FOUND,
        `no image named ${JSON.stringify(query)} in the store (${this.root})`,
        { ref: query },
      );
    }
    return found;
  }

  /** Points `name` at `descriptor` (replacing what it pointed at: retagging is rollback). Atomic. */
  async tag(name: string, descriptor: Descriptor): Promise<void> {
    if (!this.blobs.has(descriptor.digest)) {
      throw new LayerkitError(
        ErrorCodes.ERR_NOT_FOUND,
        `cannot tag ${name}: blob ${descriptor.digest} is not in the store`,
        { ref: name, digest: descriptor.digest },
      );
    }
    await this.updateIndex((index) => ({ index: withTag(index, name, descriptor), result: undefined }));
  }

  /** Removes a name; `ERR_NOT_FOUND` when no ref answers to it. Blobs stay until `gc`. */
  async untag(name: string): Promise<void> {
    await this.updateIndex((index) => {
      const { index: next, removed } = withoutTag(index, name);
      if (removed === 0) {
        throw new LayerkitError(ErrorCodes.ERR_NOT_FOUND, `no image named ${JSON.stringify(name)} in the store`, {
          ref: name,
        });
      }
      return { index: next, result: undefined };
    });
  }

  /** @internal Records a named set of digests (and diffIDs) that `gc` must keep (see `roots.ts`). */
  setRoot(kind: string, name: string, roots: { digests?: Digest[]; diffIds?: Digest[] }): void {
    setRoot(this, kind, name, roots, { durable: true });
  }

  /** @internal Removes a root recorded with {@link setRoot}. */
  removeRoot(kind: string, name: string): void {
    removeRoot(this, kind, name);
  }

  /** @internal Every recorded root; a damaged one is `ERR_STORE_CORRUPT` naming its file. */
  listRoots(): StoreRoot[] {
    const { roots, damaged } = readRoots(this);
    if (damaged.length > 0) throw damaged[0];
    return roots;
  }

  /** @internal The folder of a state path (for modules that write many files). */
  ensureStateDir(relative: string): string {
    const dir = this.statePath(relative);
    this.fs.mkdirSync(dir, { recursive: true });
    return dir;
  }

  /** @internal */
  get durable(): boolean {
    return this.#durable;
  }
}
