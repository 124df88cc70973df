/**
 * The platform in a browser (and a Web Worker): the same names as `node.ts`, built on what a
 * browser has. A bundler picks this file through the `browser` condition of package.json's
 * `"imports"` (`#platform`).
 *
 * - sha256: hash-wasm, synchronous and incremental once compiled. WebCrypto cannot serve:
 *   it is async and one-shot, and the digest sits on synchronous hot paths (cache keys, layer
 *   indexes). One WebAssembly instance is compiled in {@link platformReady} (awaited by
 *   `openStore`); every hash object keeps its own state and swaps it in when it is fed. md5, sha1
 *   and sha512 (the shell's checksums, rare digests) are plain JavaScript (js-hashes.ts).
 * - deflate/gunzip: fflate, which has what the parallel gzip needs (a dictionary, sync flush).
 * - no worker threads, no processes: one owner (pid 1 on host `browser`), hashing in place.
 */
import { createSHA256, type IHasher } from 'hash-wasm';
import { Deflate, Gunzip as FflateGunzip, gunzipSync as fflateGunzipSync } from 'fflate';
import * as memfsModule from 'memfs';
import { ErrorCodes, LayerkitError } from '../errors.js';
import { createJsHash } from './js-hashes.js';
import type { Decoder, HashAlgorithm, MemfsModule, PlatformHash } from './types.js';

export type { HashAlgorithm, PlatformHash } from './types.js';

/** Which platform this is: `'node'` or `'browser'`. */
export const platformName: 'node' | 'browser' = 'browser';

let sha256: IHasher | undefined;
let compiling: Promise<void> | undefined;

/** Resolves once the platform is usable: compiles the WebAssembly sha256 (once). */
export function platformReady(): Promise<void> {
  compiling ??= createSHA256().then((hasher) => {
    sha256 = hasher;
  });
  return compiling;
}

/** The hash object whose state each algorithm's one instance holds now. */
const owner = new Map<IHasher, WasmHash>();

class WasmHash implements PlatformHash {
  readonly #hasher: IHasher;
  #state: Uint8Array | undefined;

  constructor(hasher: IHasher) {
    this.#hasher = hasher;
    this.#take(true);
  }

  /** Makes this hash's state the instance's (saving the state of the one that held it). */
  #take(fresh = false): void {
    const current = owner.get(this.#hasher);
    if (current === this && !fresh) return;
    if (current !== undefined && current !== this) current.#state = this.#hasher.save();
    if (fresh || this.#state === undefined) this.#hasher.init();
    else this.#hasher.load(this.#state);
    owner.set(this.#hasher, this);
  }

  update(data: Uint8Array | string): PlatformHash {
    this.#take();
    this.#hasher.update(data);
    return this;
  }

  digest(_encoding: 'hex'): string {
    this.#take();
    const hex = this.#hasher.digest('hex');
    owner.delete(this.#hasher);
    return hex;
  }
}

/** A synchronous, incremental hash; {@link platformReady} must have resolved. */
export function createHash(algorithm: HashAlgorithm): PlatformHash {
  if (algorithm !== 'sha256') return createJsHash(algorithm);
  if (sha256 === undefined) {
    throw new LayerkitError(
      ErrorCodes.ERR_UNSUPPORTED,
      'hashing in a browser needs its WebAssembly compiled first: await openStore() (or platformReady()) before',
      { reason: 'platform-not-ready' },
    );
  }
  return new WasmHash(sha256);
}

/** `n` random bytes as lowercase hex (names of temporary files, ids). */
export function randomHex(n: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(n));
  let hex = '';
  for (const b of bytes) hex += b.toString(16).padStart(2, '0');
  return hex;
}

/** Deflates one block raw (no header): with `dictionary`, ending in a sync flush unless `final`. */
export function deflateRawBlock(
  data: Uint8Array,
  options: { level: number; dictionary: Uint8Array | undefined; final: boolean },
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const level = Math.min(9, Math.max(0, options.level)) as 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
  const deflate = new Deflate(
    options.dictionary === undefined ? { level } : { level, dictionary: options.dictionary },
    (chunk) => parts.push(chunk),
  );
  if (options.final) deflate.push(data, true);
  else {
    deflate.push(data);
    deflate.flush(true);
  }
  return Promise.resolve(concat(parts));
}

const CRC_TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

/** CRC-32 (gzip's) of `data`, continuing from `value`. */
export function crc32(data: Uint8Array, value: number): number {
  let c = ~value;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** fflate's gunzip (every concatenated member) over async iterables; no zstd decoder in a browser. */
export function decoder(kind: 'gzip' | 'zstd', _chunkSize: number): Decoder | undefined {
  if (kind !== 'gzip') return undefined;
  return async function* gunzip(source, signal) {
    let out: Buffer[] = [];
    const gunzip = new FflateGunzip((data) => {
      if (data.length > 0) out.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    });
    const stopped = (): void => {
      if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
    };
    for await (const chunk of source) {
      stopped();
      attempt(() => gunzip.push(chunk));
      const ready = out;
      out = [];
      yield* ready;
    }
    stopped();
    attempt(() => gunzip.push(new Uint8Array(0), true));
    yield* out;
  };
}

function attempt(run: () => void): void {
  try {
    run();
  } catch (err) {
    throw Object.assign(new Error((err as Error).message), { code: 'Z_DATA_ERROR' });
  }
}

/** gunzips a whole buffer at once (small archives). */
export function gunzipSync(data: Uint8Array): Uint8Array {
  try {
    return fflateGunzipSync(data);
  } catch (err) {
    throw Object.assign(new Error((err as Error).message), { code: 'Z_DATA_ERROR' });
  }
}

/** No hashing worker: big streams are hashed in place. */
export const digestWorkerAvailable: boolean = false;

/** Never called ({@link digestWorkerAvailable} is false). */
export function startEvalWorker(_source: string): never {
  throw unsupported('worker threads', 'hashing runs in place in a browser');
}

/** A page has no filesystem of its own: build contexts are injected (`{ fs, dir }`). */
export function localFs(): undefined {
  return undefined;
}

/** Lets the event loop run (a message-channel task: not clamped like a nested setTimeout). */
export function yieldToEventLoop(): Promise<void> {
  return new Promise<void>((resolve) => {
    const channel = new MessageChannel();
    // The DOM's MessagePort (the library is typed against Node's, which has no onmessage).
    (channel.port1 as unknown as { onmessage: () => void }).onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(undefined);
  });
}

/**
 * The CPU architecture a build in the page reports (BUILDPLATFORM): a page runs no binaries, so
 * this only names one; x64 (`amd64`) as the images it builds are most often run on.
 */
export const arch: string = 'x64';

/** The page is the one owner of its stores. */
export const pid: number = 1;

/** When the page (or worker) started, ms since the epoch. */
export const processStartMs: number = performance.timeOrigin;

/** The host name locks and leases record. */
export function hostname(): string {
  return 'browser';
}

/** A browser has no home directory: a store on disk is unsupported. */
export function homedir(): string {
  throw unsupported('a store on disk', 'a page has no filesystem; use openStore({ memory: true })');
}

/** Only the page itself is alive. */
export function isProcessAlive(id: number): boolean {
  return id === pid;
}

/** memfs, for in-memory stores (bundled). */
export function loadMemfs(): MemfsModule {
  return memfsModule;
}

function unsupported(what: string, why: string): LayerkitError {
  return new LayerkitError(ErrorCodes.ERR_UNSUPPORTED, `${what} is not supported in a browser: ${why}`, {
    reason: why,
  });
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
