/**
 * A sha256 that moves to a worker thread once a stream is big enough to be worth it, so the
 * calling thread can do other work on the same bytes (index a layer, hash its files) while the
 * blob's digest is computed on the other core. Small streams (most blobs: manifests, configs,
 * small layers) are hashed in place and never touch the worker.
 *
 * The move is worth it only when the calling thread has work of its own: each chunk is copied
 * to reach the worker, and on two cores a third busy thread (beside libuv's I/O) slows all of
 * them. So the caller may say, once the stream passes the in-place limit, whether it is busy
 * (`offload`); when it is not (one big file whose bytes nobody else reads), the stream stays on
 * the calling thread, which is what makes importing a large single-file layer run at the speed
 * of sha256 itself.
 *
 * Bytes travel in a fixed pool of 1 MiB buffers that are transferred to the worker and back (no
 * allocation or page faults per chunk); at most 32 are out at once, which bounds the memory a
 * slow worker can hold. A chunk that lies in shared memory ({@link sharedBuffer}: a download's
 * pieces) is not copied at all: the worker hashes it where it lies, and `update` resolves once it
 * has, so the caller reuses the memory only after that.
 */
import type { Worker } from 'node:worker_threads';
import { digestWorkerAvailable, startEvalWorker } from '#platform';
import { Digester, type Digest } from '../digest/digest.js';
import { ErrorCodes, LayerkitError } from '../errors.js';

/** Streams up to this size are hashed on the calling thread. */
const IN_PLACE_LIMIT = 8 << 20;
/** Size of one transfer buffer. */
const PIECE = 1 << 20;
/** Transfer buffers out at once (32 MiB). */
const MAX_PIECES = 32;

// Plain JavaScript evaluated from a string, so it runs the same from the sources (tsx, vitest)
// and from the bundled dist. Each buffer goes back with its acknowledgement.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const jobs = new Map();
parentPort.on('message', (m) => {
  if (m.t === 'u') {
    let h = jobs.get(m.id);
    if (h === undefined) jobs.set(m.id, (h = createHash('sha256')));
    h.update(new Uint8Array(m.b, 0, m.n));
    parentPort.postMessage({ t: 'a', b: m.b }, [m.b]);
  } else if (m.t === 's') {
    let h = jobs.get(m.id);
    if (h === undefined) jobs.set(m.id, (h = createHash('sha256')));
    h.update(new Uint8Array(m.b, m.o, m.n));
    parentPort.postMessage({ t: 'k', id: m.id });
  } else if (m.t === 'e') {
    const h = jobs.get(m.id) ?? createHash('sha256');
    jobs.delete(m.id);
    parentPort.postMessage({ t: 'd', id: m.id, hex: h.digest('hex') });
  } else if (m.t === 'x') {
    jobs.delete(m.id);
  }
});
`;

interface Job {
  id: number;
  /** Bytes not yet copied into a transfer buffer (the caller's own chunks). */
  queue: Buffer[];
  /** Callers waiting for the queue to empty. */
  waiting: Array<() => void>;
  /** Callers waiting for the worker to have hashed a shared chunk, in the order sent. */
  hashed: Array<() => void>;
  /** Set by `digest()`: send the end once the queue is empty. */
  ending: boolean;
  done: ((hex: string) => void) | undefined;
  fail: (err: unknown) => void;
}

/** The one hashing worker of this process and its transfer buffers. */
class HashWorker {
  readonly worker: Worker;
  readonly jobs = new Map<number, Job>();
  nextId = 1;
  readonly #free: ArrayBuffer[] = [];
  #out = 0;
  dead = false;

  constructor() {
    this.worker = startEvalWorker(WORKER_SOURCE);
    this.worker.on('message', (m: { t: string; id?: number; b?: ArrayBuffer; hex?: string }) => {
      if (m.t === 'a') {
        this.#free.push(m.b!);
        this.#out--;
        this.pump();
      } else if (m.t === 'k') {
        this.jobs.get(m.id!)?.hashed.shift()?.();
      } else if (m.t === 'd') {
        const job = this.jobs.get(m.id!);
        this.remove(m.id!);
        job?.done?.(m.hex!);
      }
    });
    const die = (err: unknown): void => {
      if (this.dead) return;
      this.dead = true;
      const failure = new LayerkitError(
        ErrorCodes.ERR_STORE_CORRUPT,
        `the hashing worker thread failed (${(err as Error)?.message ?? String(err)}); retry the operation`,
        {},
        { cause: err },
      );
      for (const job of this.jobs.values()) job.fail(failure);
      this.jobs.clear();
    };
    this.worker.on('error', die);
    this.worker.on('exit', (code) => die(new Error(`exit code ${code}`)));
    // After the listeners: a 'message' listener refs the worker again.
    this.worker.unref();
  }

  add(): Job {
    const job: Job = {
      id: this.nextId++,
      queue: [],
      waiting: [],
      hashed: [],
      ending: false,
      done: undefined,
      fail: () => undefined,
    };
    this.jobs.set(job.id, job);
    this.worker.ref();
    return job;
  }

  remove(id: number): void {
    this.jobs.delete(id);
    if (this.jobs.size === 0) this.worker.unref();
  }

  /** Sends a shared chunk as it lies; `hashed` is called once the worker has hashed it. */
  sendShared(job: Job, chunk: Buffer, hashed: () => void): void {
    job.hashed.push(hashed);
    this.worker.postMessage({ t: 's', id: job.id, b: chunk.buffer, o: chunk.byteOffset, n: chunk.length });
  }

  /** Copies queued bytes into free transfer buffers and sends them, job by job, in order. */
  pump(): void {
    for (const job of this.jobs.values()) {
      while (job.queue.length > 0 && this.#out < MAX_PIECES) {
        const head = job.queue[0]!;
        const n = Math.min(head.length, PIECE);
        const buffer = this.#free.pop() ?? new ArrayBuffer(PIECE);
        head.copy(new Uint8Array(buffer), 0, 0, n);
        if (n === head.length) job.queue.shift();
        else job.queue[0] = head.subarray(n);
        this.#out++;
        this.worker.postMessage({ t: 'u', id: job.id, b: buffer, n }, [buffer]);
      }
      if (job.queue.length > 0) continue;
      for (const wake of job.waiting.splice(0)) wake();
      if (job.ending) {
        job.ending = false;
        this.worker.postMessage({ t: 'e', id: job.id });
      }
    }
  }
}

let shared: HashWorker | undefined;

/**
 * A buffer the digest worker hashes where it lies, with no copy (shared memory), for bytes a
 * caller fills and feeds again and again (a download's pieces); an ordinary buffer where threads
 * cannot share memory (a browser, which hashes in place anyway).
 */
export function sharedBuffer(size: number): Buffer {
  return digestWorkerAvailable && typeof SharedArrayBuffer === 'function'
    ? Buffer.from(new SharedArrayBuffer(size))
    : Buffer.allocUnsafe(size);
}

function hashWorker(): HashWorker {
  if (shared === undefined || shared.dead) shared = new HashWorker();
  return shared;
}

/**
 * Starts the hashing worker now, for a caller about to stream a blob past the in-place limit (a
 * pull that has read its manifest): its thread then boots (about 25 ms here) while the first
 * bytes arrive, not when they have. It keeps no process alive while it has nothing to hash.
 */
export function warmDigestWorker(): void {
  if (digestWorkerAvailable) hashWorker();
}

/**
 * An incremental sha256 for one stream of chunks: `update` each chunk, then `digest()` once.
 * When `update` returns a promise the worker is behind: await it before changing that chunk or
 * feeding more. Otherwise the bytes are already copied and the chunk may be reused at once.
 */
export class WorkerDigester {
  #local: Digester | undefined = new Digester();
  #held: Buffer[] = [];
  #size = 0;
  #job: Job | undefined;
  #worker: HashWorker | undefined;
  #failure: unknown;
  /** Decided at the in-place limit: the stream is hashed on the calling thread to the end. */
  #inPlace = false;
  readonly #offload: () => boolean;

  /**
   * @param options.offload Asked once, when the stream grows past 8 MiB: true (the default) moves
   *   the hashing to the worker; false keeps it on the calling thread. `false` itself: every byte
   *   is hashed on the calling thread as it comes (nothing held, no copy).
   */
  constructor(options: { offload?: (() => boolean) | false | undefined } = {}) {
    this.#inPlace = options.offload === false;
    this.#offload = options.offload || (() => true);
  }

  /** Bytes fed so far. */
  get size(): number {
    return this.#size;
  }

  /**
   * Feeds bytes; a returned promise resolves once they are on their way to the worker (copied),
   * or, for a chunk in shared memory ({@link sharedBuffer}), once the worker has hashed them.
   */
  update(chunk: Buffer): Promise<void> | undefined {
    if (this.#failure !== undefined) throw this.#failure;
    this.#size += chunk.length;
    if (this.#inPlace) {
      this.#local!.update(chunk);
      return undefined;
    }
    if (this.#job === undefined) {
      if (this.#size <= IN_PLACE_LIMIT) {
        // Nothing is hashed yet: a stream that stays small is hashed in place at the end.
        this.#held.push(Buffer.from(chunk));
        return undefined;
      }
      // Without worker threads (a browser), the stream is hashed in place.
      if (!digestWorkerAvailable || !this.#offload()) {
        this.#inPlace = true;
        for (const held of this.#held) this.#local!.update(held);
        this.#held = [];
        this.#local!.update(chunk);
        return undefined;
      }
      this.#start();
    }
    const job = this.#job!;
    const worker = this.#worker!;
    if (chunk.buffer instanceof SharedArrayBuffer) {
      // Sent as it lies, after what is queued: the caller keeps the memory unchanged until hashed.
      worker.pump();
      const queued = job.queue.length === 0 ? undefined : new Promise<void>((resolve) => job.waiting.push(resolve));
      const send = (): Promise<void> =>
        new Promise<void>((resolve) => {
          if (this.#job !== job || this.#failure !== undefined) resolve();
          else worker.sendShared(job, chunk, resolve);
        });
      return queued === undefined ? send() : queued.then(send);
    }
    job.queue.push(chunk);
    worker.pump();
    if (job.queue.length === 0) return undefined;
    return new Promise<void>((resolve) => job.waiting.push(resolve));
  }

  /** The digest of everything fed (call once, after the last update has settled). */
  async digest(): Promise<Digest> {
    if (this.#failure !== undefined) throw this.#failure;
    const job = this.#job;
    if (job === undefined) {
      const local = this.#local!;
      for (const held of this.#held) local.update(held);
      this.#held = [];
      this.#local = undefined;
      return local.digest();
    }
    const hex = await new Promise<string>((resolve, reject) => {
      job.done = resolve;
      job.fail = reject;
      job.ending = true;
      this.#worker!.pump();
    });
    return `sha256:${hex}` as Digest;
  }

  /** Abandons the stream (frees the worker's state for it). */
  discard(): void {
    this.#held = [];
    const job = this.#job;
    if (job === undefined || this.#worker === undefined) return;
    this.#job = undefined;
    job.queue = [];
    for (const wake of job.waiting.splice(0)) wake();
    for (const wake of job.hashed.splice(0)) wake();
    this.#worker.remove(job.id);
    if (!this.#worker.dead) this.#worker.worker.postMessage({ t: 'x', id: job.id });
  }

  #start(): void {
    const worker = (this.#worker = hashWorker());
    const job = (this.#job = worker.add());
    job.fail = (err) => {
      this.#failure = err;
      for (const wake of job.waiting.splice(0)) wake();
      for (const wake of job.hashed.splice(0)) wake();
    };
    this.#local = undefined;
    job.queue.push(...this.#held);
    this.#held = [];
  }
}
