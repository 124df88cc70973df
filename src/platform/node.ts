/**
 * The platform on Node: what differs between Node and a browser, behind one small set of names.
 * The library imports it as `#platform` (package.json `"imports"`), so Node gets this file and a
 * bundler targeting browsers gets `browser.ts`; both export the same names with the same types.
 *
 * Everything here is Node's own (crypto, zlib, os, worker_threads), and each built-in is loaded by
 * the first call that needs it, not with the library: Node compiles a built-in the first time one is
 * required (crypto, zlib, stream and worker_threads together cost about 6 ms of a command's start),
 * and `layerkit images` or `--version` need none of them. After the first call a lookup is one
 * nullish check. Third-party modules that only some commands need (memfs) are loaded the
 * same way.
 */
import type * as NodeCrypto from 'node:crypto';
import nodeFs from 'node:fs';
import { createRequire } from 'node:module';
import { hostname as nodeHostname, homedir as nodeHomedir } from 'node:os';
import type * as NodeStream from 'node:stream';
import type { Worker } from 'node:worker_threads';
import type * as NodeZlib from 'node:zlib';
import type { Decoder, HashAlgorithm, MemfsModule, PlatformHash } from './types.js';

let cryptoModule: typeof NodeCrypto | undefined;
let zlibModule: typeof NodeZlib | undefined;
let streamModule: Pick<typeof NodeStream, 'pipeline' | 'Readable'> | undefined;
/** node:crypto, loaded by the first hash. */
function crypto(): typeof NodeCrypto {
  cryptoModule ??= process.getBuiltinModule('node:crypto');
  return cryptoModule;
}
/** node:zlib, loaded by the first (de)compression. */
function zlib(): typeof NodeZlib {
  zlibModule ??= process.getBuiltinModule('node:zlib');
  return zlibModule;
}
/** node:stream, loaded by the first decoder. */
function stream(): Pick<typeof NodeStream, 'pipeline' | 'Readable'> {
  streamModule ??= process.getBuiltinModule('node:stream');
  return streamModule;
}

export type { HashAlgorithm, PlatformHash } from './types.js';

/** Which platform this is: `'node'` or `'browser'`. */
export const platformName: 'node' | 'browser' = 'node';

/** Resolves once the platform is usable (Node: at once; a browser: once its sha256 is compiled). */
export function platformReady(): Promise<void> {
  return Promise.resolve();
}

/** A synchronous, incremental hash (Node's crypto). */
export function createHash(algorithm: HashAlgorithm): PlatformHash {
  return crypto().createHash(algorithm);
}

/** `n` random bytes as lowercase hex (names of temporary files, ids). */
export function randomHex(n: number): string {
  return crypto().randomBytes(n).toString('hex');
}

/**
 * Deflates one block raw (no header), as {@link parallelGzip} needs: with the previous block's
 * tail as `dictionary`, ending in a sync flush unless `final`. Runs on libuv's threadpool.
 */
export function deflateRawBlock(
  data: Uint8Array,
  options: { level: number; dictionary: Uint8Array | undefined; final: boolean },
): Promise<Uint8Array> {
  const z = zlib();
  const zopts: NodeZlib.ZlibOptions = {
    level: options.level,
    finishFlush: options.final ? z.constants.Z_FINISH : z.constants.Z_SYNC_FLUSH,
  };
  if (options.dictionary !== undefined) zopts.dictionary = options.dictionary;
  return new Promise((resolve, reject) => {
    z.deflateRaw(data, zopts, (err, out) => (err ? reject(err) : resolve(out)));
  });
}

/** CRC-32 (gzip's) of `data`, continuing from `value`. */
export function crc32(data: Uint8Array, value: number): number {
  return zlib().crc32(data, value);
}

/**
 * zlib's gunzip (every concatenated member) or zstd decoder (Node >= 22.15 / 23.8) over async
 * iterables; undefined for zstd where zlib has none.
 */
export function decoder(kind: 'gzip' | 'zstd', chunkSize: number): Decoder | undefined {
  if (kind === 'gzip') return throughTransform(() => zlib().createGunzip({ chunkSize }), chunkSize);
  const f = (zlib() as unknown as { createZstdDecompress?: (o?: object) => NodeStream.Transform }).createZstdDecompress;
  return typeof f === 'function' ? throughTransform(() => f({ chunkSize }), chunkSize) : undefined;
}

/** gunzips a whole buffer at once (small archives). */
export function gunzipSync(data: Uint8Array): Uint8Array {
  return zlib().gunzipSync(data);
}

/** A zlib Transform (which runs on libuv's threadpool) between two async iterables. */
function throughTransform(make: () => NodeStream.Transform, chunkSize: number): Decoder {
  return async function* decode(source, signal) {
    const transform = make();
    const { pipeline, Readable } = stream();
    pipeline(Readable.from(source, { objectMode: false, highWaterMark: chunkSize }), transform, () => {
      /* errors surface through the iteration below */
    });
    const onAbort = (): void => {
      transform.destroy(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const chunk of transform) yield chunk as Buffer;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (!transform.destroyed) transform.destroy();
    }
  };
}

/** Whether a hashing worker can be started ({@link startEvalWorker}). */
export const digestWorkerAvailable: boolean = true;

/**
 * Starts a worker thread from CommonJS source. It must not inherit flags such as
 * `--input-type=module` or a loader (tsx) from the parent, which would make `require` undefined.
 */
export function startEvalWorker(source: string): Worker {
  const { Worker: NodeWorker } = process.getBuiltinModule('node:worker_threads');
  return new NodeWorker(source, { eval: true, execArgv: [] });
}

/** The machine's own filesystem (build contexts given as a path); a page has none. */
export function localFs(): typeof nodeFs | undefined {
  return nodeFs;
}

/** Lets the event loop run (timers, I/O, abort signals) before going on. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}

/** The CPU architecture, as Node names it (`x64`, `arm64`, …). */
export const arch: string = process.arch;

/** This process's id (locks and leases name their owner by it). */
export const pid: number = process.pid;

/** When this process started (ms since the epoch): a lock's owner with our pid but older is a namesake. */
export const processStartMs: number = Date.now() - process.uptime() * 1000;

/** The host's name (locks and leases name their owner's host by it). */
export function hostname(): string {
  return nodeHostname();
}

/** The user's home directory (the default store lives under it). */
export function homedir(): string {
  return nodeHomedir();
}

/** Whether process `id` on this host is alive (a lock whose owner died is stale). */
export function isProcessAlive(id: number): boolean {
  if (id === process.pid) return true;
  try {
    process.kill(id, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const require = createRequire(import.meta.url);
let memfs: MemfsModule | undefined;

// memfs is loaded by the first in-memory store, not with the library: ~60 ms of start-up that a
// command on a store on disk never needs.
/** memfs, for in-memory stores. */
export function loadMemfs(): MemfsModule {
  memfs ??= require('memfs') as MemfsModule;
  return memfs;
}
